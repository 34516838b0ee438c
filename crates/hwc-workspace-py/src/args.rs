//! Argument checks: a wrong type is a `TypeError` that names the argument and the type
//! given; a wrong value of the right type is an `InvalidRequestError` (a `ValueError`).

use std::time::Duration;

use hwc_workspace::MAX_DURATION;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyInt, PyList, PyString, PyTuple};

use crate::errors::invalid_request;

/// The type name of a value, for messages: `int`, `NoneType`, `list`.
pub(crate) fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map_or_else(|_| "object".to_owned(), |name| name.to_string())
}

pub(crate) fn string(value: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    match value.cast::<PyString>() {
        Ok(text) => Ok(text.to_cow()?.into_owned()),
        Err(_) => Err(PyTypeError::new_err(format!("{name} must be str, got {}", type_name(value)))),
    }
}

pub(crate) fn optional_string(value: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(value) if value.is_none() => Ok(None),
        Some(value) => match value.cast::<PyString>() {
            Ok(text) => Ok(Some(text.to_cow()?.into_owned())),
            Err(_) => Err(PyTypeError::new_err(format!("{name} must be str or None, got {}", type_name(value)))),
        },
    }
}

/// A list (or tuple) of str. A single str is refused rather than iterated character by
/// character: `desktop_ids="d-1"` is a common slip for `["d-1"]`.
pub(crate) fn string_list(value: &Bound<'_, PyAny>, name: &str) -> PyResult<Vec<String>> {
    if value.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a list of str, got a single str; wrap it in a list: {name}=[...]"
        )));
    }
    let items = if let Ok(list) = value.cast::<PyList>() {
        list.iter().collect::<Vec<_>>()
    } else if let Ok(tuple) = value.cast::<PyTuple>() {
        tuple.iter().collect::<Vec<_>>()
    } else {
        return Err(PyTypeError::new_err(format!("{name} must be a list of str, got {}", type_name(value))));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item.cast::<PyString>() {
            Ok(text) => Ok(text.to_cow()?.into_owned()),
            Err(_) => Err(PyTypeError::new_err(format!(
                "{name} must be a list of str, got {} at {name}[{index}]",
                type_name(item)
            ))),
        })
        .collect()
}

/// A number of seconds (int or float, not bool), finite and above zero; `None` or absent
/// for `default`.
pub(crate) fn seconds(
    py: Python<'_>,
    value: Option<&Bound<'_, PyAny>>,
    name: &str,
    default: f64,
) -> PyResult<Duration> {
    let Some(value) = value.filter(|v| !v.is_none()) else { return Ok(Duration::from_secs_f64(default)) };
    if value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{name} must be a number of seconds, got bool")));
    }
    let seconds: f64 = value
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("{name} must be a number of seconds, got {}", type_name(value))))?;
    // The core's one rule for timeouts (from `MIN_DURATION` to `MAX_DURATION`).
    match Duration::try_from_secs_f64(seconds).ok().map(|duration| hwc_workspace::check_timeout("seconds", duration)) {
        Some(Ok(duration)) => Ok(duration),
        _ => Err(invalid_request(py, name, &hwc_workspace::timeout_range(), &seconds.to_string())),
    }
}

/// A client setting in seconds (int or float, not bool) made a duration; `None` or absent for
/// `default`. Its range is the core builder's to check (it refuses it naming the setting);
/// only what no duration can be (NaN, negative, infinite) is refused here, in its words.
pub(crate) fn duration(
    py: Python<'_>,
    value: Option<&Bound<'_, PyAny>>,
    name: &'static str,
    default: Duration,
) -> PyResult<Duration> {
    let Some(value) = value.filter(|v| !v.is_none()) else { return Ok(default) };
    if value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{name} must be a number of seconds, got bool")));
    }
    let seconds: f64 = value
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("{name} must be a number of seconds, got {}", type_name(value))))?;
    hwc_workspace::seconds(name, seconds).map_err(|e| crate::errors::to_py_err(py, &e.into()))
}

/// A count (int, not bool) for a setting the core's builder bounds; `None` or absent for 0.
/// What no `u32` holds is refused here in the builder's words (`range`).
pub(crate) fn setting_count(
    py: Python<'_>,
    value: Option<&Bound<'_, PyAny>>,
    name: &str,
    range: &str,
) -> PyResult<u32> {
    let Some(value) = value.filter(|v| !v.is_none()) else { return Ok(0) };
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!("{name} must be int, got {}", type_name(value))));
    }
    value.extract::<u32>().map_err(|_| {
        let got = value.str().map(|s| s.to_string()).unwrap_or_else(|_| "an int".to_owned());
        invalid_request(py, name, range, &got)
    })
}

/// A number of seconds that may be zero (a latency); `None` or absent for zero.
pub(crate) fn non_negative_seconds(py: Python<'_>, value: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Duration> {
    let Some(value) = value.filter(|v| !v.is_none()) else { return Ok(Duration::ZERO) };
    if value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{name} must be a number of seconds, got bool")));
    }
    let seconds: f64 = value
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("{name} must be a number of seconds, got {}", type_name(value))))?;
    Duration::try_from_secs_f64(seconds).ok().filter(|duration| *duration <= MAX_DURATION).ok_or_else(|| {
        invalid_request(
            py,
            name,
            &format!("a number of seconds from 0 to {}", MAX_DURATION.as_secs()),
            &seconds.to_string(),
        )
    })
}

/// Body bytes from `bytes`, `bytearray`, `str` (encoded as UTF-8) or `None` (empty).
pub(crate) fn body(value: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Vec<u8>> {
    let Some(value) = value.filter(|v| !v.is_none()) else { return Ok(Vec::new()) };
    if let Ok(bytes) = value.cast::<PyBytes>() {
        Ok(bytes.as_bytes().to_vec())
    } else if let Ok(array) = value.cast::<PyByteArray>() {
        Ok(array.to_vec())
    } else if let Ok(text) = value.cast::<PyString>() {
        Ok(text.to_cow()?.as_bytes().to_vec())
    } else {
        Err(PyTypeError::new_err(format!("{name} must be bytes, str or None, got {}", type_name(value))))
    }
}

/// A str as Python's `repr()` shows it, for the `__repr__`s of this module.
pub(crate) fn repr_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An optional str as Python's `repr()` shows it.
pub(crate) fn repr_opt(text: Option<&str>) -> String {
    text.map_or_else(|| "None".to_owned(), repr_str)
}

/// A list of str as Python's `repr()` shows it.
pub(crate) fn repr_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|item| repr_str(item)).collect();
    format!("[{}]", inner.join(", "))
}
