//! Paging through an operation whose answers come a page at a time, as its description
//! declares (the spec's `x-paging`: [`crate::operation::Paging`]): one implementation for every
//! paged operation and every front. Rust reads [`Items`] as a stream (or with
//! [`Items::next_item`]); the CLI and Python wrap the same object.
//!
//! A listing is read by offset, so it shifts when the set it lists changes while it is read:
//! an item removed before the current offset would move an unread item onto a page already
//! read. When a page shows the total fell, it is read again from as many places earlier;
//! items seen twice (after that step back, or because the set grew) are yielded once, by
//! their id. What moved is reported ([`Items::report`]), so a caller can say so. An item
//! added while the listing is read may be missed: it was not there when it began.

use std::collections::{HashSet, VecDeque};

use serde_json::Value as Json;

use crate::client::Client;
use crate::error::{Error, InvalidInput, UndecodableResponse};
use crate::operation::{Answer, Input, OperationId, Paging};

/// How far a listing goes and how it asks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageOptions {
    /// Items asked for per page; `None`: the operation's limit as the input gives it, or the
    /// service's default.
    pub page_size: Option<u32>,
    /// Stop after this many items; `None`: every item.
    pub max_items: Option<u64>,
}

/// What a listing met on its way, for the caller to report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingReport {
    /// Pages read.
    pub pages: u64,
    /// Distinct items yielded.
    pub items: u64,
    /// The total the first page announced.
    pub first_total: Option<u64>,
    /// The total the last page announced.
    pub last_total: Option<u64>,
    /// Items read again and not yielded twice.
    pub repeated: u64,
}

impl ListingReport {
    /// Whether the listed set changed while it was read (its total moved).
    pub fn total_moved(&self) -> bool {
        self.first_total != self.last_total
    }
}

/// The items of a paged operation, in the service's order, each once.
pub struct Items {
    client: Client,
    id: OperationId,
    paging: Paging,
    input: Input,
    page_size: Option<u32>,
    max_items: Option<u64>,
    offset: u64,
    page: std::vec::IntoIter<Json>,
    /// Whether a page follows the current one.
    more: bool,
    pages_without_news: u32,
    /// The request id of the last page, for an error about it.
    request_id: Option<String>,
    seen: HashSet<String>,
    report: ListingReport,
    /// Pages asked for ahead of the one read, by offset, in order ([`READ_AHEAD`]).
    ahead: VecDeque<(u64, tokio::task::JoinHandle<Result<Answer, Error>>)>,
}

/// Pages in flight while a listing is read: the page read and those after it, asked for at
/// once when the total says they exist. Each page still costs the service's answer time,
/// but a listing of a hundred pages no longer waits for them one after another. Pages are
/// taken in order and checked as before; a page whose place moved (the total fell) is read
/// again, and the pages asked for ahead of it are let go.
const READ_AHEAD: usize = 4;

impl Drop for Items {
    fn drop(&mut self) {
        self.let_go_ahead();
    }
}

impl std::fmt::Debug for Items {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items").field("operation", &self.id).field("offset", &self.offset).finish_non_exhaustive()
    }
}

impl Client {
    /// Every item of a paged operation (e.g. `ListDesktops`) whose other arguments are
    /// `input`; its offset and limit are the pager's (an offset in `input` is where it starts).
    /// Nothing is sent until the first item is asked for. An operation that is not paged, or
    /// an input (or page size) that breaks the description, is refused here.
    pub fn items(&self, id: OperationId, input: Input, options: PageOptions) -> Result<Items, Error> {
        let operation = id.describe();
        let Some(paging) = operation.paging else {
            return Err(InvalidInput::new("operation", "an operation whose answers are paged", operation.name).into());
        };
        // A page of nothing would end the listing before it starts.
        if options.page_size == Some(0) {
            return Err(InvalidInput::new("page_size", "at least 1 item per page", "0").into());
        }
        if options.page_size.is_none() && input.get(paging.limit).and_then(Json::as_u64) == Some(0) {
            return Err(InvalidInput::new(paging.limit, "at least 1 item per page, to page through them", "0").into());
        }
        let mut first = input.clone();
        if let Some(size) = options.page_size {
            first.set(paging.limit, size);
        }
        crate::operation::check_arguments(operation, &first).map_err(|error| match error {
            // The page size is the limit parameter, under the name the caller gave it.
            Error::InvalidInput(invalid) if options.page_size.is_some() && invalid.field() == paging.limit => {
                InvalidInput::new("page_size", invalid.expected().to_owned(), invalid.got().to_owned()).into()
            }
            other => other,
        })?;
        let offset = input.get(paging.offset).and_then(Json::as_u64).unwrap_or(0);
        Ok(Items {
            client: self.clone(),
            id,
            paging,
            input: first,
            // The page size in effect, which tells a last (short) page when no total comes.
            page_size: options
                .page_size
                .or_else(|| input.get(paging.limit).and_then(Json::as_u64).and_then(|l| u32::try_from(l).ok())),
            max_items: options.max_items,
            offset,
            page: Vec::new().into_iter(),
            more: options.max_items != Some(0),
            pages_without_news: 0,
            request_id: None,
            seen: HashSet::new(),
            report: ListingReport::default(),
            ahead: VecDeque::new(),
        })
    }
}

/// Pages in a row that bring no item not seen before, after which a listing is taken to go
/// round in circles (a service that answers every offset with the same page) and ends with
/// an error rather than reading forever.
const MAX_PAGES_WITHOUT_NEWS: u32 = 10;

impl Items {
    /// The next item, reading the next page when this one is used up; `None` at the end.
    /// After an error, the listing ends.
    pub async fn next_item(&mut self) -> Option<Result<Json, Error>> {
        let client = self.client.clone();
        self.next_item_with(&client).await
    }

    /// As [`Items::next_item`], reading any page through `client` (a client of the same
    /// keys and project on another runtime, as Python's threads each have one).
    pub async fn next_item_with(&mut self, client: &Client) -> Option<Result<Json, Error>> {
        loop {
            if self.max_items.is_some_and(|max| self.report.items >= max) {
                return None;
            }
            if let Some(item) = self.page.next() {
                let Some(item_id) = item.get(self.paging.item_id).and_then(Json::as_str) else {
                    return Some(Err(
                        self.stop(format!("an item of its {} has no {}", self.paging.items, self.paging.item_id))
                    ));
                };
                // Listed ids feed other calls (a pipe into a deletion, one per line): one that
                // breaks the API's id rule, e.g. with a line break in it, ends the listing.
                if let Some(problem) = crate::model::desktop_id_problem(item_id) {
                    let shown: String = item_id.chars().take(80).collect();
                    return Some(Err(self.stop(format!("the {} {shown:?} is no id ({problem})", self.paging.item_id))));
                }
                if !self.seen.insert(item_id.to_owned()) {
                    self.report.repeated += 1;
                    continue;
                }
                self.report.items += 1;
                self.pages_without_news = 0;
                return Some(Ok(item));
            }
            if !self.more {
                return None;
            }
            if self.pages_without_news >= MAX_PAGES_WITHOUT_NEWS {
                return Some(Err(
                    self.stop(format!("{MAX_PAGES_WITHOUT_NEWS} pages in a row held only items already listed"))
                ));
            }
            if let Err(error) = self.read_page(client).await {
                self.more = false;
                return Some(Err(error));
            }
        }
    }

    /// The operation listed.
    pub fn operation(&self) -> OperationId {
        self.id
    }

    /// The items as a stream (each an `Err` ends it).
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Result<Json, Error>> + Send {
        futures_util::stream::unfold(self, |mut items| async move { items.next_item().await.map(|item| (item, items)) })
    }

    /// What the listing met so far.
    pub fn report(&self) -> &ListingReport {
        &self.report
    }

    /// Reads the page at the current offset, moves the offset past it and decides whether
    /// another page follows.
    async fn read_page(&mut self, client: &Client) -> Result<(), Error> {
        let answer = match self.ahead.front() {
            Some((offset, _)) if *offset == self.offset => {
                let (_, page) = self.ahead.pop_front().expect("a page ahead");
                match page.await {
                    Ok(answer) => answer?,
                    // Not aborted (only `let_go_ahead` aborts, and it empties the queue), so
                    // the page's task panicked.
                    Err(error) => {
                        return Err(self.stop(format!("the page's reading failed ({error})")));
                    }
                }
            }
            _ => {
                self.let_go_ahead();
                client.call(self.id, &self.page_input(self.offset)).await?
            }
        };
        self.request_id = answer.request_id;
        let mut value = answer.value;
        let total = value.get(self.paging.total).and_then(Json::as_u64);
        let items = match value.get_mut(self.paging.items).map(Json::take) {
            Some(Json::Array(items)) => items,
            None | Some(Json::Null) => Vec::new(),
            Some(_) => return Err(self.stop(format!("its {} is not a list", self.paging.items))),
        };
        self.report.pages += 1;
        // Read again or not, a page counts until an item of it is new: a service whose total
        // falls on every page cannot keep the listing stepping back for ever.
        self.pages_without_news += 1;
        let previous_total = self.report.last_total;
        if self.report.first_total.is_none() {
            self.report.first_total = total;
        }
        self.report.last_total = total;
        let read = items.len() as u64;
        // Items removed while reading shift the rest towards the start, this page included:
        // it was read at a place that moved, and items removed before it slid onto pages
        // already read. So it is read again from as many places earlier (the items seen
        // twice are skipped by id), and the listing keeps the service's order.
        if let (Some(before), Some(now)) = (previous_total, total)
            && now < before
        {
            self.offset = self.offset.saturating_sub(before - now);
            self.more = true;
            self.let_go_ahead();
            return Ok(());
        }
        self.offset += read;
        let short_page = self.page_size.is_some_and(|size| read < u64::from(size));
        self.more = read > 0
            && match total {
                Some(total) => self.offset < total,
                None => !short_page,
            };
        self.page = items.into_iter();
        // A full page (of the size asked for, or, with none asked for, the service's), and a
        // total that says more follow: the next pages are asked for now, where they will be
        // if nothing moves.
        let size = self.page_size.map_or(read, u64::from);
        if let (true, Some(total)) = (self.more, total)
            && read == size
        {
            self.ask_ahead(client, total, size);
        }
        Ok(())
    }

    /// The input of the page at `offset`.
    fn page_input(&self, offset: u64) -> Input {
        let mut input = self.input.clone();
        input.set(self.paging.offset, offset);
        input
    }

    /// Asks for the pages from the current offset on, up to [`READ_AHEAD`] in flight, none
    /// past `total` or past the items wanted.
    fn ask_ahead(&mut self, client: &Client, total: u64, size: u64) {
        let wanted_end = match self.max_items {
            // Items still wanted, from the next page on: repeats are not counted, so this is
            // where the listing ends if nothing moves.
            Some(max) => self.offset.saturating_add(max.saturating_sub(self.report.items + self.page.len() as u64)),
            None => total,
        }
        .min(total);
        // Outside a runtime (never so far: the client needs one), pages are read one by one.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let mut next = self.ahead.back().map_or(self.offset, |(offset, _)| offset + size);
        while self.ahead.len() < READ_AHEAD && next < wanted_end {
            let (client, id, input) = (client.clone(), self.id, self.page_input(next));
            let page = runtime.spawn(async move { client.call(id, &input).await });
            self.ahead.push_back((next, page));
            next += size;
        }
    }

    /// Lets go of the pages asked for ahead: their answers are not read.
    fn let_go_ahead(&mut self) {
        for (_, page) in self.ahead.drain(..) {
            page.abort();
        }
    }

    /// Ends the listing on an answer it cannot go on from.
    fn stop(&mut self, reason: String) -> Error {
        self.more = false;
        self.let_go_ahead();
        self.page = Vec::new().into_iter();
        UndecodableResponse {
            status: 200,
            request_id: self.request_id.clone(),
            reason: format!("{} answered a page where {reason}", self.id.describe().name),
        }
        .into()
    }
}
