//! The operation's input and output as users see them, and the checks made before sending.

use serde::{Deserialize, Serialize};

use crate::error::{Error, InvalidInput};
use crate::operation::{Input, OperationId};

/// Most desktop ids one call takes.
pub const MAX_DESKTOP_IDS: usize = 100;
/// Longest desktop id, sub-resource type and order id, in characters.
pub const MAX_VALUE_CHARS: usize = 255;
/// The IAM action a key needs for the operation.
pub const DELETE_SUB_RESOURCES_PERMISSION: &str = "workspace:desktops:deleteSubResources";
/// How far a request's `X-Sdk-Date` may be from the gateway's clock before it is refused.
pub const MAX_CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// The rule every front and the simulator apply to a desktop id, in words (see
/// [`desktop_id_problem`], which holds it). An id is opaque, but these characters are never
/// part of one: whitespace at an end and `,` / `#` are the separators and comments of the
/// list syntaxes (`--desktop-id A,B`, id files), so an id holding them was mis-split or
/// mis-trimmed somewhere; control characters (a NUL, a newline) and invisible format
/// characters (bidi overrides, zero-width spaces, a BOM) make an id look like another one.
pub const DESKTOP_ID_RULE: &str = "1 to 255 characters, without whitespace at either end and without `,`, `#`, \
     control characters or invisible format characters (bidi controls, zero-width characters, BOM)";

/// The invisible format characters an id may not hold: bidi embeddings, overrides, isolates
/// and marks; zero-width spaces and joiners; word joiners and invisible operators; the BOM;
/// the soft hyphen; and the line and paragraph separators.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// Why `id` is not a desktop id under [`DESKTOP_ID_RULE`], or `None` when it is one. The
/// one place the rule lives: request validation, the bulk plan, every front and the
/// simulator call it.
pub fn desktop_id_problem(id: &str) -> Option<String> {
    if is_plain_desktop_id(id) {
        return None;
    }
    full_desktop_id_problem(id)
}

/// The common case, decided in one pass over the bytes: printable ASCII without `,` or `#`,
/// no space at either end, at most [`MAX_VALUE_CHARS`] long, which the full rule always
/// accepts. Every call checks each of its ids, so a fleet run checks millions of them.
fn is_plain_desktop_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    matches!((bytes.first(), bytes.last()), (Some(first), Some(last)) if *first != b' ' && *last != b' ')
        && bytes.len() <= MAX_VALUE_CHARS
        && bytes.iter().all(|b| matches!(b, b' '..=b'~') && !matches!(b, b',' | b'#'))
}

fn full_desktop_id_problem(id: &str) -> Option<String> {
    let chars = id.chars().count();
    if chars == 0 {
        return Some("it is empty".to_owned());
    }
    if chars > MAX_VALUE_CHARS {
        return Some(format!("it has {chars} characters"));
    }
    if id.trim().is_empty() {
        return Some("it is blank".to_owned());
    }
    if id.trim_start() != id {
        return Some("it starts with whitespace".to_owned());
    }
    if id.trim_end() != id {
        return Some("it ends with whitespace".to_owned());
    }
    let (position, c) =
        id.chars().enumerate().find(|(_, c)| matches!(c, ',' | '#') || c.is_control() || is_invisible_format(*c))?;
    let what = match c {
        ',' => "a comma".to_owned(),
        '#' => "a `#`".to_owned(),
        c if c.is_control() => format!("the control character U+{:04X}", u32::from(c)),
        c => format!("the invisible format character U+{:04X}", u32::from(c)),
    };
    Some(format!("it holds {what} at character {}", position + 1))
}

pub use crate::enums::{JobStatus, SubResourceType};

/// The input of `DeleteDesktopSubResources`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteSubResources {
    /// The desktops, 1 to [`MAX_DESKTOP_IDS`] per call.
    pub desktop_ids: Vec<String>,
    /// The kind of resource to delete from each desktop.
    pub sub_resource_type: SubResourceType,
    /// The order, for resources bought with one.
    pub order_id: Option<String>,
    /// Further body fields the spec declares, by name (the CLI's and Python's flags and
    /// keywords derived from the spec land here); checked against the spec like the others.
    pub extra: Input,
}

impl DeleteSubResources {
    /// A deletion of `sub_resource_type` from each of `desktop_ids`.
    pub fn new<I, S>(desktop_ids: I, sub_resource_type: impl Into<SubResourceType>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            desktop_ids: desktop_ids.into_iter().map(Into::into).collect(),
            sub_resource_type: sub_resource_type.into(),
            order_id: None,
            extra: Input::new(),
        }
    }

    #[must_use]
    /// Sets the order id.
    pub fn order_id(mut self, order_id: impl Into<String>) -> Self {
        self.order_id = Some(order_id.into());
        self
    }

    /// Checks the documented limits, so that a bad call fails here, naming the field, and
    /// never reaches the service: the spec's (1 to 100 ids, each following
    /// [`DESKTOP_ID_RULE`]; a type that is not blank and at most 255 characters; an order id
    /// of at most 255), through the operation description ([`crate::operation::validate`]).
    pub fn validate(&self) -> Result<(), Error> {
        crate::operation::check_arguments(OperationId::DeleteDesktopSubResources.describe(), &self.to_input())
    }

    /// The request as the generic call's input: every body field by its spec name, the
    /// further fields of [`DeleteSubResources::extra`] included.
    pub fn to_input(&self) -> Input {
        let mut input = self.extra.clone();
        input.set("desktop_ids", &self.desktop_ids).set("sub_resource_type", self.sub_resource_type.as_str());
        if let Some(order_id) = &self.order_id {
            input.set("order_id", order_id);
        }
        input
    }

    /// Sets a further body field by its spec name (one this type has no member for).
    #[must_use]
    pub fn with_field(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        self.extra.set(name, value);
        self
    }
}

/// `desktop_ids[index]` under [`DESKTOP_ID_RULE`]: the refusal names the field and the index,
/// and shows the id with its invisible characters escaped.
pub(crate) fn check_desktop_id(index: usize, id: &str) -> Result<(), Error> {
    if is_plain_desktop_id(id) {
        return Ok(());
    }
    // Blank and overlong ids keep their own words (`at most 255 characters`).
    check_text("desktop_ids", Some(index), id, true)?;
    match desktop_id_problem(id) {
        None => Ok(()),
        Some(problem) => {
            let excerpt: String = id.chars().take(40).collect();
            let shown = if excerpt.len() < id.len() { format!("{excerpt:?}…") } else { format!("{excerpt:?}") };
            Err(InvalidInput::new("desktop_ids", DESKTOP_ID_RULE, format!("{shown} ({problem})")).at(index).into())
        }
    }
}

fn check_text(field: &'static str, index: Option<usize>, value: &str, required: bool) -> Result<(), Error> {
    let chars = value.chars().count();
    let invalid = |expected: String, got: String| -> Error {
        let error = InvalidInput::new(field, expected, got);
        match index {
            Some(index) => error.at(index).into(),
            None => error.into(),
        }
    };
    if required && value.trim().is_empty() {
        return Err(invalid(
            format!("a non-blank string of at most {MAX_VALUE_CHARS} characters"),
            format!("{value:?}"),
        ));
    }
    if chars > MAX_VALUE_CHARS {
        return Err(invalid(format!("at most {MAX_VALUE_CHARS} characters"), format!("{chars} characters")));
    }
    Ok(())
}

/// The outcome of a successful call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    /// The id of the asynchronous job that deletes the resources.
    pub job_id: String,
    /// The service's `X-Request-Id` of the call, when it sent one.
    pub request_id: Option<String>,
}

/// Refuses an identifier that goes into the URL path but would not stay one segment there:
/// `.` and `..` are collapsed by URL normalisation, and `\` is read as `/` in http URLs (so
/// `job show ..` would ask for `/v2/<project>/`). Every other character is percent-encoded
/// by the generated client. Empty and overlong values are refused too, naming the field.
pub(crate) fn check_path_segment(field: &'static str, value: &str) -> Result<(), Error> {
    let expected = || format!("1 to {MAX_VALUE_CHARS} characters, not `.` or `..`, without `\\`");
    let shown = || {
        let excerpt: String = value.chars().take(40).collect();
        if excerpt.len() < value.len() {
            format!("{excerpt:?}… ({} characters)", value.chars().count())
        } else {
            format!("{excerpt:?}")
        }
    };
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_VALUE_CHARS || value == "." || value == ".." || value.contains('\\') {
        return Err(InvalidInput::new(field, expected(), shown()).into());
    }
    Ok(())
}

/// A project id as the gateway takes it in the path and `X-Project-Id`: 1 to 64 letters,
/// digits, `-` or `_`, trimmed (the builder's, IAM's and the credentials file's alike).
pub(crate) fn check_project_id(project_id: &str) -> Result<String, Error> {
    let trimmed = project_id.trim();
    let ok = !trimmed.is_empty()
        && trimmed.len() <= 64
        && trimmed.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(trimmed.to_owned())
    } else {
        Err(InvalidInput::new("project_id", "1 to 64 letters, digits, '-' or '_'", format!("{project_id:?}")).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass check is the full rule for ASCII, not a looser one: every short string
    /// over the bytes that matter (spaces, separators, controls, DEL, the printable ends)
    /// and both sides of the length limit.
    #[test]
    fn the_plain_id_check_agrees_with_the_full_rule_on_ascii() {
        let alphabet = [" ", ",", "#", "a", "~", "!", "\t", "\u{7f}", "\n"];
        let mut ids: Vec<String> = vec![String::new(), "x".repeat(MAX_VALUE_CHARS), "x".repeat(MAX_VALUE_CHARS + 1)];
        for a in alphabet {
            ids.push(a.to_owned());
            for b in alphabet {
                ids.push(format!("{a}{b}"));
                for c in alphabet {
                    ids.push(format!("{a}{b}{c}"));
                }
            }
        }
        for id in &ids {
            assert_eq!(is_plain_desktop_id(id), full_desktop_id_problem(id).is_none(), "{id:?}");
        }
        assert!(!is_plain_desktop_id("d\u{200B}1"), "non-ASCII always takes the full rule");
    }

    fn field_of(request: &DeleteSubResources) -> String {
        match request.validate() {
            Err(Error::InvalidInput(e)) => e.field().to_owned(),
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn path_identifiers_stay_one_segment() {
        for bad in ["", ".", "..", "a\\b", "..\\..", &"j".repeat(MAX_VALUE_CHARS + 1)] {
            match check_path_segment("job_id", bad) {
                Err(Error::InvalidInput(e)) => assert_eq!(e.field(), "job_id", "{bad:?}"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        for good in ["00000000-0000-4000-8000-000000000001", "...", "a.b", "%2e%2e", "a/b"] {
            assert!(check_path_segment("job_id", good).is_ok(), "{good:?}");
        }
    }

    /// The hand-written limit is the spec's: the generated type takes exactly that many.
    #[test]
    fn the_value_limit_is_the_specs() {
        use crate::types::DesktopId;
        assert!(DesktopId::try_from("d".repeat(MAX_VALUE_CHARS).as_str()).is_ok());
        assert!(DesktopId::try_from("d".repeat(MAX_VALUE_CHARS + 1).as_str()).is_err());
    }

    #[test]
    fn validation_names_the_field() {
        let ok = DeleteSubResources::new(["d-1"], "DESKTOP_SHARER");
        assert!(ok.validate().is_ok());
        assert_eq!(field_of(&DeleteSubResources::new(Vec::<String>::new(), "DESKTOP_SHARER")), "desktop_ids");
        let many: Vec<String> = (0..101).map(|i| format!("d-{i}")).collect();
        assert_eq!(field_of(&DeleteSubResources::new(many, "DESKTOP_SHARER")), "desktop_ids");
        let hundred: Vec<String> = (0..100).map(|i| format!("d-{i}")).collect();
        assert!(DeleteSubResources::new(hundred, "DESKTOP_SHARER").validate().is_ok());
        assert_eq!(field_of(&DeleteSubResources::new(["d-1", "  "], "DESKTOP_SHARER")), "desktop_ids[1]");
        assert_eq!(field_of(&DeleteSubResources::new(["x".repeat(256)], "DESKTOP_SHARER")), "desktop_ids[0]");
        assert!(DeleteSubResources::new(["é".repeat(255)], "DESKTOP_SHARER").validate().is_ok());
        assert_eq!(field_of(&DeleteSubResources::new(["d-1"], "")), "sub_resource_type");
        assert_eq!(field_of(&DeleteSubResources::new(["d-1"], "T".repeat(256))), "sub_resource_type");
        assert_eq!(field_of(&DeleteSubResources::new(["d-1"], "DESKTOP_SHARER").order_id("o".repeat(256))), "order_id");
        assert!(DeleteSubResources::new(["d-1"], "DESKTOP_SHARER").order_id("").validate().is_ok());
    }

    /// Every class of character the id rule refuses, at the start, inside and at the end of
    /// an id: the refusal names `desktop_ids`, the index, and shows the id escaped.
    #[test]
    fn ids_break_the_rule_with_each_class_of_character() {
        let inside = [
            ",", "#", "\u{0}", "\n", "\r", "\t", "\u{1b}", "\u{7f}", "\u{85}", "\u{9f}", "\u{202a}", "\u{202e}",
            "\u{2066}", "\u{2069}", "\u{200b}", "\u{200c}", "\u{200d}", "\u{200e}", "\u{feff}", "\u{2028}",
        ];
        let at_ends = [" ", "\u{a0}", "\u{3000}", "\u{2003}"];
        let mut bad: Vec<String> = Vec::new();
        for c in inside {
            bad.extend([format!("{c}d-1"), format!("d{c}-1"), format!("d-1{c}")]);
        }
        for c in at_ends {
            bad.extend([format!("{c}d-1"), format!("d-1{c}")]);
        }
        // Empty, blank and overlong ids are refused in the words of every other field.
        for id in ["", " ", "\u{a0}\u{3000}", "x".repeat(MAX_VALUE_CHARS + 1).as_str()] {
            assert!(desktop_id_problem(id).is_some(), "{id:?} was taken");
            assert_eq!(field_of(&DeleteSubResources::new(["d-0", id], "DESKTOP_SHARER")), "desktop_ids[1]");
        }
        for id in &bad {
            assert!(desktop_id_problem(id).is_some(), "{id:?} was taken");
            let request = DeleteSubResources::new(["d-0", id.as_str()], "DESKTOP_SHARER");
            match request.validate() {
                Err(Error::InvalidInput(e)) => {
                    assert_eq!((e.field(), e.name(), e.index()), ("desktop_ids[1]", "desktop_ids", Some(1)), "{id:?}");
                    assert_eq!(e.expected(), DESKTOP_ID_RULE);
                    // Shown escaped: no raw control or format character reaches a terminal.
                    assert!(!e.got().chars().any(|c| c.is_control() || is_invisible_format(c)), "{:?}", e.got());
                }
                other => panic!("{id:?} gave {other:?}"),
            }
        }
        for good in ["d-1", "a b", "ü-1", "d_1.2", "00000000-0000-4000-8000-000000000001", "x;y", "a'b\"c"] {
            assert_eq!(desktop_id_problem(good), None, "{good:?}");
        }
        assert_eq!(desktop_id_problem(&"é".repeat(MAX_VALUE_CHARS)), None);
        assert_eq!(desktop_id_problem("a,b").as_deref(), Some("it holds a comma at character 2"));
        assert_eq!(
            desktop_id_problem("ab\u{0}").as_deref(),
            Some("it holds the control character U+0000 at character 3")
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Each case holds up to a hundred long strings; fewer cases keep the debug run short.
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// No input makes validation panic; what it accepts keeps every documented limit, and
        /// what it rejects names a field of the request.
        #[test]
        fn validation_accepts_exactly_the_documented_limits(
            ids in prop::collection::vec("\\PC{0,260}", 0..105),
            kind in "\\PC{0,300}",
            order in proptest::option::of("\\PC{0,300}"),
        ) {
            let mut request = DeleteSubResources::new(ids.clone(), kind.clone());
            request.order_id = order.clone();
            let within = |s: &str, required: bool| s.chars().count() <= MAX_VALUE_CHARS && (!required || !s.trim().is_empty());
            // `\PC` has no control or format characters; the rule's other classes, spelt out.
            let id_ok = |s: &str| {
                within(s, true) && s.trim() == s && !s.contains([',', '#', '\u{00AD}', '\u{061C}', '\u{2028}', '\u{2029}'])
            };
            let valid = (1..=MAX_DESKTOP_IDS).contains(&ids.len())
                && ids.iter().all(|id| id_ok(id))
                && within(&kind, true)
                && order.as_deref().is_none_or(|o| within(o, false));
            match request.validate() {
                Ok(()) => prop_assert!(valid),
                Err(Error::InvalidInput(e)) => {
                    prop_assert!(!valid);
                    prop_assert!(["desktop_ids", "sub_resource_type", "order_id"].iter().any(|f| e.field().starts_with(f)));
                }
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }

        /// One character of a refused class, anywhere in an otherwise good id (or any
        /// whitespace at an end), is refused, naming `desktop_ids` and the index.
        #[test]
        fn one_refused_character_anywhere_refuses_the_id(
            id in "[a-zA-Z0-9._-]{1,40}",
            at in 0usize..41,
            class in 0usize..4,
            pick in any::<prop::sample::Index>(),
            index in 0usize..5,
        ) {
            let classes: [&[char]; 4] = [
                &[',', '#'],
                &['\u{0}', '\u{1}', '\n', '\r', '\t', '\u{1b}', '\u{7f}', '\u{80}', '\u{85}', '\u{9f}'],
                &['\u{200b}', '\u{200c}', '\u{200d}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}',
                  '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{feff}'],
                &[' ', '\u{a0}', '\u{2003}', '\u{3000}', '\u{1680}'],
            ];
            let c = *pick.get(classes[class]);
            let mut chars: Vec<char> = id.chars().collect();
            // Whitespace is refused at the ends only.
            let at = if class == 3 { if at % 2 == 0 { 0 } else { chars.len() } } else { at.min(chars.len()) };
            chars.insert(at, c);
            let bad: String = chars.into_iter().collect();
            let mut ids: Vec<String> = (0..index).map(|i| format!("d-{i}")).collect();
            ids.push(bad.clone());
            match DeleteSubResources::new(ids, "DESKTOP_SHARER").validate() {
                Err(Error::InvalidInput(e)) => {
                    prop_assert_eq!(e.name(), "desktop_ids");
                    prop_assert_eq!(e.index(), Some(index));
                }
                other => prop_assert!(false, "{:?} gave {:?}", bad, other),
            }
        }
    }
}
