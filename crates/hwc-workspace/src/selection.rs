//! Select, then act: the desktops a fleet-wide action works on, named by the listing's
//! filters (`--where is_share_desktop=true`, Python's `where={...}`) instead of by ids. The
//! ids are resolved by paging the listing ([`Client::items`]) before anything is sent, and
//! recorded at the head of the run's journal first: a resumed run acts on the ids it resolved,
//! never on a new listing, however the fleet changed meanwhile. Every front selects through
//! [`Client::select`]; the confirmation a terminal asks for is the front's.

use std::path::Path;

use serde_json::Value as Json;

use crate::client::Client;
use crate::error::{ConfigError, ConfigErrorKind, Error, InvalidInput};
use crate::operation::{Field, Input, Kind, Location, OperationId, value_from_text};
use crate::paging::PageOptions;

/// The listing a selection pages through.
pub const SELECTING: OperationId = OperationId::ListDesktops;

/// What a selection resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Selection {
    /// The filters, as the listing takes them.
    pub filters: Input,
    /// The selected desktops, in the listing's order, each once.
    pub desktop_ids: Vec<String>,
    /// Read from the journal of an earlier run of the same selection: no listing was made.
    pub from_journal: bool,
    /// The listing changed while it was read (each desktop was still taken once).
    pub listing_moved: bool,
}

/// The listing's filter `key`: one of its query parameters but the pager's own (a front
/// checks each key with this before it reads the value by the field's type).
pub fn filter_field(key: &str) -> Result<&'static Field, Error> {
    let operation = SELECTING.describe();
    let paging = operation.paging;
    let is_filter =
        |f: &&Field| f.location == Location::Query && paging.is_none_or(|p| f.name != p.offset && f.name != p.limit);
    operation.field(key).filter(is_filter).ok_or_else(|| {
        let known: Vec<&str> = operation.fields.iter().filter(is_filter).map(|f| f.name).collect();
        InvalidInput::new("where", format!("a filter of {}: {}", operation.name, known.join(", ")), format!("{key:?}"))
            .into()
    })
}

/// The filters of `KEY=VALUE` texts (a command line's): each key a query parameter of the
/// listing, its value read as the parameter's type (a list's items comma-separated, and a
/// list key may be given again to add items). Checked as [`check_filters`] does.
pub fn filters_from_text<S: AsRef<str>>(pairs: &[S]) -> Result<Input, Error> {
    let mut filters = Input::new();
    for pair in pairs {
        let pair = pair.as_ref();
        let Some((key, text)) = pair.split_once('=') else {
            return Err(InvalidInput::new("where", "KEY=VALUE", format!("{pair:?}")).into());
        };
        let field = filter_field(key.trim())?;
        let value = match field.value.kind {
            Kind::Array => {
                let item = field.value.items.map_or(Kind::String, |item| item.kind);
                let mut items: Vec<Json> = match filters.get(field.name) {
                    Some(Json::Array(given)) => given.clone(),
                    _ => Vec::new(),
                };
                items
                    .extend(text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(|t| value_from_text(item, t)));
                Json::Array(items)
            }
            _ if filters.get(field.name).is_some() => {
                return Err(InvalidInput::new(
                    field.name,
                    "one value (the filter is given twice)",
                    format!("{pair:?}"),
                )
                .into());
            }
            kind => value_from_text(kind, text),
        };
        filters.set(field.name, value);
    }
    check_filters(&filters)?;
    Ok(filters)
}

/// Checks a selection's filters: at least one (none would select every desktop of the
/// project), each a filter of the listing, each value within the spec's limits.
pub fn check_filters(filters: &Input) -> Result<(), Error> {
    if filters.values().values().all(Json::is_null) {
        return Err(InvalidInput::new(
            "where",
            "at least one filter (none selects every desktop of the project: list them, and pass their ids)",
            "none",
        )
        .into());
    }
    for name in filters.values().keys() {
        filter_field(name)?;
    }
    crate::operation::check_arguments(SELECTING.describe(), filters)
}

impl Client {
    /// Resolves a selection to desktop ids. With a journal that holds the selection of an
    /// earlier run (same filters), its ids are returned and nothing is listed; otherwise the
    /// listing is paged to its end and, with a journal, the ids are recorded in it (durably)
    /// before this returns, so that the run that follows and any resumption act on them. A
    /// journal of another selection, or of a run over given ids, is refused untouched.
    pub async fn select(&self, filters: &Input, journal: Option<&Path>) -> Result<Selection, Error> {
        check_filters(filters)?;
        if let Some(path) = journal
            && let Some((recorded, desktop_ids)) = crate::journal::recorded_selection(path)?
        {
            if &recorded != filters.values() {
                return Err(ConfigError::new(
                    ConfigErrorKind::Journal,
                    format!(
                        "the journal {} holds another selection (where {}); give a new journal file for this one",
                        path.display(),
                        Json::Object(recorded)
                    ),
                )
                .into());
            }
            return Ok(Selection { filters: filters.clone(), desktop_ids, from_journal: true, listing_moved: false });
        }
        let item_id = SELECTING.describe().paging.map_or("desktop_id", |paging| paging.item_id);
        // The largest pages the spec allows: the fewest calls for the whole selection.
        let operation = SELECTING.describe();
        let largest = operation.paging.and_then(|paging| {
            let limit = operation.fields.iter().find(|f| f.name == paging.limit)?;
            u32::try_from(limit.value.maximum?).ok()
        });
        let mut items = self.items(SELECTING, filters.clone(), PageOptions { page_size: largest, max_items: None })?;
        let mut desktop_ids = Vec::new();
        while let Some(item) = items.next_item().await {
            // The pager checked each id against the id rule.
            desktop_ids.push(item?.get(item_id).and_then(Json::as_str).unwrap_or_default().to_owned());
        }
        if let Some(path) = journal {
            crate::journal::record_selection(path, filters.values(), &desktop_ids)?;
        }
        let listing_moved = items.report().total_moved();
        Ok(Selection { filters: filters.clone(), desktop_ids, from_journal: false, listing_moved })
    }
}
