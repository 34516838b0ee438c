//! The operations of the spec as methods of `Client` and `AsyncClient`. The methods are
//! generated from the spec by the codegen crate (this crate's build script, `methods.rs` in
//! OUT_DIR; its committed snapshot is `generated/methods.rs`): each one only collects its
//! keyword arguments by the spec's names and calls [`send`] or [`start`]. Here, written once
//! for every operation: Python values to the core's JSON input by the field's described type,
//! the core's check, the call or the dry run, and the answer to its Python class (the one
//! table to extend for a new operation, [`answer`]).

use std::sync::Arc;

use hwc_workspace::OperationId;
use hwc_workspace::operation::{Answer, Input, Kind, Operation, Value};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::Value as Json;

use crate::args;
use crate::client::{Core, Deleted};
use crate::errors::to_py_err;
use crate::jobs::Job;
use crate::log;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/methods.rs"));
}

/// The Python object of an operation's answer. Exhaustive on purpose: a new operation does
/// not compile until it is named here with the class its answer becomes.
fn answer(py: Python<'_>, id: OperationId, answer: Answer) -> PyResult<Py<PyAny>> {
    let decoded = match id {
        OperationId::DeleteDesktopSubResources => answer
            .decode::<hwc_workspace::types::DeleteDesktopSubResourcesResponse>()
            .map(|body| Py::new(py, Deleted::new(body.job_id, answer.request_id.clone())).map(Py::into_any)),
        OperationId::ShowJob => {
            answer.decode::<hwc_workspace::Job>().map(|job| Py::new(py, Job::from(job)).map(Py::into_any))
        }
        OperationId::ListDesktops | OperationId::AddDesktopSubResources => {
            Ok(record(py, id.describe().response, &answer))
        }
    };
    decoded.map_err(|e| to_py_err(py, &e))?
}

/// The answer as the record class its schema generated (`hwc_workspace._records`), carrying
/// the request id.
pub(crate) fn record(py: Python<'_>, schema: &str, answer: &Answer) -> PyResult<Py<PyAny>> {
    let class = py.import("hwc_workspace._records")?.getattr(schema)?;
    Ok(class.call_method1("_from", (to_python(py, &answer.value)?, answer.request_id.clone()))?.unbind())
}

/// JSON as Python's plain values (dict, list, str, int, float, bool, None).
pub(crate) fn to_python(py: Python<'_>, value: &Json) -> PyResult<Py<PyAny>> {
    Ok(match value {
        Json::Null => py.None(),
        Json::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any().unbind(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any().unbind(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any().unbind(),
        },
        Json::String(s) => PyString::new(py, s).into_any().unbind(),
        Json::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item)?)?;
            }
            list.into_any().unbind()
        }
        Json::Object(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(key, to_python(py, item)?)?;
            }
            dict.into_any().unbind()
        }
    })
}

/// The arguments of a generated method, by the spec's names (`None`: not given).
pub(crate) type Arguments<'a, 'py> = [(&'static str, Option<&'a Bound<'py, PyAny>>)];

/// Calls `id` (or signs it, for a dry run) and waits for the answer, releasing the GIL.
pub(crate) fn send(
    core: &Arc<Core>,
    py: Python<'_>,
    id: OperationId,
    arguments: &Arguments<'_, '_>,
    dry_run: bool,
) -> PyResult<Py<PyAny>> {
    let input = checked_input(py, id, arguments)?;
    log::refresh_level(py)?;
    let outcome = core.blocking(py, |client| async move { call(&client, id, &input, dry_run).await });
    log::flush(py)?;
    settle(py, id, outcome?)
}

/// As [`send`], as an awaitable: the arguments are checked now, the request starts when the
/// coroutine first runs.
pub(crate) fn start<'py>(
    core: &Arc<Core>,
    py: Python<'py>,
    id: OperationId,
    arguments: &Arguments<'_, 'py>,
    dry_run: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let input = checked_input(py, id, arguments)?;
    let client = core.client(py)?;
    log::refresh_level(py)?;
    crate::aio::coroutine(py, async move { call(&client, id, &input, dry_run).await }, move |py, outcome| {
        settle(py, id, outcome)
    })
}

/// What a call ends with: the answer, or the signed request of a dry run.
enum Outcome {
    Answered(Answer),
    Signed(hwc_workspace::SignedRequest),
}

async fn call(
    client: &hwc_workspace::Client,
    id: OperationId,
    input: &Input,
    dry_run: bool,
) -> Result<Outcome, hwc_workspace::Error> {
    if dry_run {
        client.sign(id, input).await.map(Outcome::Signed)
    } else {
        client.call(id, input).await.map(Outcome::Answered)
    }
}

fn settle(py: Python<'_>, id: OperationId, outcome: Result<Outcome, hwc_workspace::Error>) -> PyResult<Py<PyAny>> {
    match outcome {
        Ok(Outcome::Answered(got)) => answer(py, id, got),
        Ok(Outcome::Signed(request)) => Ok(Py::new(py, SignedRequest::from(request))?.into_any()),
        Err(e) => Err(to_py_err(py, &e)),
    }
}

/// The core's input from the Python arguments, checked by the core against the description
/// (so a bad value raises before anything starts, naming the field).
pub(crate) fn checked_input(py: Python<'_>, id: OperationId, arguments: &Arguments<'_, '_>) -> PyResult<Input> {
    let operation = id.describe();
    let mut input = Input::new();
    for (name, value) in arguments {
        if let Some(value) = argument(operation, name, *value)? {
            input.set(*name, value);
        }
    }
    hwc_workspace::operation::check_arguments(operation, &input).map_err(|e| to_py_err(py, &e))?;
    Ok(input)
}

/// The JSON of the argument `name` of `operation` (`None`: left out). `None` leaves out a
/// field that may be left out; for one that must be given it is a value of the wrong type.
pub(crate) fn argument(operation: &Operation, name: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Json>> {
    let field = operation.field(name).filter(|f| !f.is_client_setting()).ok_or_else(|| {
        let known: Vec<&str> = operation.arguments().map(|f| f.name).collect();
        PyTypeError::new_err(format!("{} has no argument {name}; its fields: {}", operation.name, known.join(", ")))
    })?;
    let may_be_left_out = !field.required || field.value.default.is_some();
    match value.filter(|v| !(may_be_left_out && v.is_none())) {
        Some(value) => to_json(&field.value, value, name, !field.required).map(Some),
        None => Ok(None),
    }
}

/// A Python value as the JSON of the field's described type: a value of the wrong Python
/// type is a `TypeError` naming the argument (`where_` names a list item, `optional` adds
/// that `None` would do); limits are the core's check.
fn to_json(value: &Value, given: &Bound<'_, PyAny>, where_: &str, optional: bool) -> PyResult<Json> {
    let or_none = if optional { " or None" } else { "" };
    let wrong = |expected: &str| {
        PyTypeError::new_err(format!("{where_} must be {expected}{or_none}, got {}", args::type_name(given)))
    };
    match value.kind {
        Kind::String => {
            given.cast::<PyString>().map_err(|_| wrong("str"))?.to_cow().map(|t| Json::String(t.into_owned()))
        }
        Kind::Integer => {
            if given.is_instance_of::<PyBool>() || !given.is_instance_of::<PyInt>() {
                return Err(wrong("int"));
            }
            // Beyond i64 it cannot be within any limit the spec sets; the core names the limit.
            match given.extract::<i64>() {
                Ok(number) => Ok(Json::from(number)),
                Err(_) => Ok(Json::String(given.str()?.to_cow()?.into_owned())),
            }
        }
        Kind::Number => {
            if given.is_instance_of::<PyBool>()
                || !(given.is_instance_of::<PyInt>() || given.is_instance_of::<PyFloat>())
            {
                return Err(wrong("int or float"));
            }
            let number: f64 = given.extract()?;
            serde_json::Number::from_f64(number).map(Json::Number).ok_or_else(|| wrong("a finite number"))
        }
        Kind::Boolean => given.cast::<PyBool>().map(|b| Json::Bool(b.is_true())).map_err(|_| wrong("bool")),
        Kind::Array => {
            let items = value.items.unwrap_or(&ANY_TEXT);
            if items.kind == Kind::String {
                return Ok(Json::from(args::string_list(given, where_)?));
            }
            if given.is_instance_of::<PyString>() || given.is_instance_of::<PyBytes>() {
                return Err(wrong("a list"));
            }
            let listed: Vec<Bound<'_, PyAny>> = if let Ok(list) = given.cast::<PyList>() {
                list.iter().collect()
            } else if let Ok(tuple) = given.cast::<PyTuple>() {
                tuple.iter().collect()
            } else {
                return Err(wrong("a list"));
            };
            listed
                .iter()
                .enumerate()
                .map(|(i, item)| to_json(items, item, &format!("{where_}[{i}]"), false))
                .collect::<PyResult<Vec<Json>>>()
                .map(Json::Array)
        }
        Kind::Object => {
            let dict = given.cast::<PyDict>().map_err(|_| wrong("a dict"))?;
            let mut object = serde_json::Map::new();
            for (key, item) in dict.iter() {
                let key = args::string(&key, &format!("a key of {where_}"))?;
                object.insert(key.clone(), plain_json(&item, &format!("{where_}[{key:?}]"))?);
            }
            Ok(Json::Object(object))
        }
    }
}

/// An item of a list whose items the spec does not type.
static ANY_TEXT: Value = Value::of(Kind::String);

/// A member of an object field: JSON's own types.
fn plain_json(given: &Bound<'_, PyAny>, where_: &str) -> PyResult<Json> {
    if given.is_none() {
        Ok(Json::Null)
    } else if let Ok(b) = given.cast::<PyBool>() {
        Ok(Json::Bool(b.is_true()))
    } else if given.is_instance_of::<PyInt>() {
        given.extract::<i64>().map(Json::from).map_err(|_| PyTypeError::new_err(format!("{where_} is too large")))
    } else if given.is_instance_of::<PyFloat>() {
        serde_json::Number::from_f64(given.extract()?)
            .map(Json::Number)
            .ok_or_else(|| PyTypeError::new_err(format!("{where_} must be a finite number")))
    } else if given.is_instance_of::<PyString>() {
        Ok(Json::String(args::string(given, where_)?))
    } else {
        Err(PyTypeError::new_err(format!(
            "{where_} must be str, int, float, bool, None, a list or a dict, got {}",
            args::type_name(given)
        )))
    }
}

/// A request signed as it would be sent, and not sent (`dry_run=True`). Its `headers` and
/// `repr` mask the signature and the security token.
#[pyclass(module = "hwc_workspace", name = "SignedRequest", frozen)]
pub(crate) struct SignedRequest {
    /// The HTTP method.
    #[pyo3(get)]
    method: String,
    /// The full URL.
    #[pyo3(get)]
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl From<hwc_workspace::SignedRequest> for SignedRequest {
    fn from(request: hwc_workspace::SignedRequest) -> Self {
        let headers = request.masked_headers();
        Self { method: request.method, url: request.url, headers, body: request.body }
    }
}

#[pymethods]
impl SignedRequest {
    /// Every header as it would be sent, in order, the signature and token masked.
    #[getter]
    fn headers(&self) -> Vec<(String, String)> {
        self.headers.clone()
    }

    /// The body bytes as they would be sent.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.body)
    }

    fn __repr__(&self) -> String {
        format!("SignedRequest(method={}, url={})", args::repr_str(&self.method), args::repr_str(&self.url))
    }
}
