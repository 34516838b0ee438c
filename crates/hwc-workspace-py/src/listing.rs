//! Listings in Python: the items of an operation the spec declares paged (`ListDesktops`),
//! read by the core's pager ([`hwc_workspace::Items`]: each item once, however the listing
//! changes while it is read), as an iterator (`Client.iter_desktops`) or an async iterator
//! (`AsyncClient.iter_desktops`). Each item becomes the record class its schema generated.

use std::sync::{Arc, Mutex, PoisonError};

use hwc_workspace::operation::Answer;
use hwc_workspace::{Items, OperationId, PageOptions};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::client::Core;
use crate::errors::to_py_err;
use crate::log;
use crate::operations::{Arguments, checked_input, record};

/// Starts a listing of `id` (checked now; nothing is sent until the first item is asked for).
pub(crate) fn open(
    core: &Arc<Core>,
    py: Python<'_>,
    id: OperationId,
    arguments: &Arguments<'_, '_>,
    page_size: Option<u32>,
    max_items: Option<u64>,
    asynchronous: bool,
) -> PyResult<Py<PyAny>> {
    let input = checked_input(py, id, arguments)?;
    let client = core.client(py)?;
    let items = client.items(id, input, PageOptions { page_size, max_items }).map_err(|e| to_py_err(py, &e))?;
    let state = Arc::new(Mutex::new(Some(items)));
    if asynchronous {
        Ok(Py::new(py, AsyncListing { core: Arc::clone(core), state })?.into_any())
    } else {
        Ok(Py::new(py, Listing { core: Arc::clone(core), state })?.into_any())
    }
}

/// The pager, taken out while a page is read: `None` then.
type State = Arc<Mutex<Option<Items>>>;

fn take(state: &State) -> PyResult<Items> {
    state.lock().unwrap_or_else(PoisonError::into_inner).take().ok_or_else(|| {
        PyRuntimeError::new_err(
            "this listing is reading its next item (one read at a time), or a read of it was cancelled, which ends it",
        )
    })
}

fn put_back(state: &State, items: Items) {
    *state.lock().unwrap_or_else(PoisonError::into_inner) = Some(items);
}

/// An item as the record class of its schema; `None` at the end.
fn item(
    py: Python<'_>,
    id: OperationId,
    next: Option<Result<serde_json::Value, hwc_workspace::Error>>,
) -> PyResult<Option<Py<PyAny>>> {
    let Some(paging) = id.describe().paging else { return Ok(None) };
    match next {
        None => Ok(None),
        Some(Err(e)) => Err(to_py_err(py, &e)),
        Some(Ok(value)) => Ok(Some(record(py, paging.item_schema, &Answer { value, request_id: None, status: 200 })?)),
    }
}

/// What a listing met, as Python reads it.
fn report_of(state: &State) -> (u64, u64, Option<u64>, Option<u64>, u64) {
    let guard = state.lock().unwrap_or_else(PoisonError::into_inner);
    guard.as_ref().map_or((0, 0, None, None, 0), |items| {
        let r = items.report();
        (r.pages, r.items, r.first_total, r.last_total, r.repeated)
    })
}

/// The items of a listing, read page by page as they are asked for (a blocking iterator;
/// each page's request releases the GIL).
#[pyclass(module = "hwc_workspace._native", frozen)]
pub(crate) struct Listing {
    core: Arc<Core>,
    state: State,
}

#[pymethods]
impl Listing {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let mut items = take(&self.state)?;
        let id = items.operation();
        log::refresh_level(py)?;
        let read = self.core.blocking(py, |client| async move {
            let next = items.next_item_with(&client).await;
            (items, next)
        });
        log::flush(py)?;
        let (items, next) = read?;
        put_back(&self.state, items);
        item(py, id, next)
    }

    /// Pages read so far.
    #[getter]
    fn pages(&self) -> u64 {
        report_of(&self.state).0
    }

    /// Whether the listed set changed while it was read (its total moved); each item was
    /// still listed once.
    #[getter]
    fn total_moved(&self) -> bool {
        let (_, _, first, last, _) = report_of(&self.state);
        first != last
    }

    /// The total the last page announced.
    #[getter]
    fn total(&self) -> Option<u64> {
        report_of(&self.state).3
    }
}

/// As [`Listing`], an async iterator: each page is read on the client's runtime while the
/// event loop runs on.
#[pyclass(module = "hwc_workspace._native", frozen)]
pub(crate) struct AsyncListing {
    core: Arc<Core>,
    state: State,
}

#[pymethods]
impl AsyncListing {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut items = take(&self.state)?;
        let id = items.operation();
        let client = match self.core.client(py) {
            Ok(client) => client,
            Err(e) => {
                put_back(&self.state, items);
                return Err(e);
            }
        };
        log::refresh_level(py)?;
        let state = Arc::clone(&self.state);
        crate::aio::coroutine(
            py,
            async move {
                let next = items.next_item_with(&client).await;
                (items, next)
            },
            move |py, (items, next)| {
                put_back(&state, items);
                match item(py, id, next)? {
                    Some(object) => Ok(object),
                    None => Err(pyo3::exceptions::PyStopAsyncIteration::new_err(())),
                }
            },
        )
    }

    /// Pages read so far.
    #[getter]
    fn pages(&self) -> u64 {
        report_of(&self.state).0
    }

    /// Whether the listed set changed while it was read (its total moved).
    #[getter]
    fn total_moved(&self) -> bool {
        let (_, _, first, last, _) = report_of(&self.state);
        first != last
    }

    /// The total the last page announced.
    #[getter]
    fn total(&self) -> Option<u64> {
        report_of(&self.state).3
    }
}
