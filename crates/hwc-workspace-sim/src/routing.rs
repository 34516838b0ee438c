//! Which operation of the spec a request names: its method and path matched against every
//! operation's path template (`/v2/{project_id}/workspace-jobs/{job_id}`), as the gateway
//! routes to published APIs. Nothing here is written per operation: a path added to the spec
//! is routed the moment it is generated.

use std::borrow::Cow;

use http::{Method, StatusCode};
use hwc_workspace::OperationId;
use hwc_workspace::operation::Operation;

use crate::codes;
use crate::response::Failure;

/// A request matched to an operation, with its path parameters percent-decoded.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) operation: &'static Operation,
    /// `(name in the template, value)`, in the path's order.
    pub(crate) path_parameters: Vec<(&'static str, String)>,
}

impl Route {
    /// The value of the path parameter `name`.
    pub(crate) fn path_parameter(&self, name: &str) -> Option<&str> {
        self.path_parameters.iter().find(|(n, _)| *n == name).map(|(_, value)| value.as_str())
    }
}

/// The operation of the spec that `method` and `path` name: 404 when no template matches
/// the path, 405 (with `Allow`) when templates match it but none with this method.
pub(crate) fn route(method: &Method, path: &str) -> Result<Route, Failure> {
    route_among(OperationId::ALL.iter().map(|id| id.describe()), method, path)
}

/// [`route`] among `operations`, so that tests can route among templates of their own.
pub(crate) fn route_among(
    operations: impl IntoIterator<Item = &'static Operation>,
    method: &Method,
    path: &str,
) -> Result<Route, Failure> {
    let mut best: Option<(usize, Route)> = None;
    let mut allowed: Vec<&'static str> = Vec::new();
    for operation in operations {
        let Some((literals, path_parameters)) = match_template(operation.path, path) else {
            continue;
        };
        if operation.method != method.as_str() {
            if !allowed.contains(&operation.method) {
                allowed.push(operation.method);
            }
            continue;
        }
        // A literal segment beats a parameter (`/desktops/detail` over `/desktops/{id}`),
        // whatever the spec's order.
        if best.as_ref().is_none_or(|(most, _)| literals > *most) {
            best = Some((literals, Route { operation, path_parameters }));
        }
    }
    if let Some((_, route)) = best {
        return Ok(route);
    }
    if allowed.is_empty() {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::API_NOT_FOUND,
            "The API does not exist or has not been published in the environment",
        ));
    }
    let allow = allowed.join(", ");
    Err(Failure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::API_NOT_FOUND,
        format!("The API request method {method} does not exist; use {allow}"),
    )
    .header("allow", allow))
}

/// The path's parameters when it has the template's shape, and how many of the template's
/// segments are literal. A parameter takes one whole segment, never an empty one.
fn match_template(template: &'static str, path: &str) -> Option<(usize, Vec<(&'static str, String)>)> {
    let mut template_segments = template.split('/');
    let mut path_segments = path.split('/');
    let mut literals = 0;
    let mut parameters = Vec::new();
    loop {
        match (template_segments.next(), path_segments.next()) {
            (None, None) => return Some((literals, parameters)),
            (Some(expected), Some(segment)) => match parameter_name(expected) {
                Some(name) => {
                    if segment.is_empty() {
                        return None;
                    }
                    parameters.push((name, percent_decode(segment)?.into_owned()));
                }
                None if expected == segment => literals += 1,
                None => return None,
            },
            _ => return None,
        }
    }
}

/// `project_id` for the template segment `{project_id}`.
fn parameter_name(segment: &'static str) -> Option<&'static str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

/// `%XX` escapes decoded; `None` when the result is not UTF-8, which no parameter of the API
/// can be. A `%` not followed by two hex digits is kept as it is.
fn percent_decode(text: &str) -> Option<Cow<'_, str>> {
    percent_encoding::percent_decode_str(text).decode_utf8().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure_status(method: Method, path: &str) -> u16 {
        match route(&method, path) {
            Ok(route) => panic!("{path} routed to {}", route.operation.name),
            Err(failure) => failure.status.as_u16(),
        }
    }

    #[test]
    fn every_operation_of_the_spec_is_routed_by_its_own_template() {
        for id in OperationId::ALL {
            let operation = id.describe();
            let path = operation.path.replace('{', "x-").replace('}', "");
            let method = Method::from_bytes(operation.method.as_bytes()).unwrap();
            let route = route(&method, &path).unwrap();
            assert_eq!(route.operation.id, *id, "{path}");
        }
    }

    #[test]
    fn parameters_are_whole_decoded_segments() {
        let route = route(&Method::GET, "/v2/p-1/workspace-jobs/a%20b%2Fc").unwrap();
        assert_eq!(route.operation.id, OperationId::ShowJob);
        assert_eq!(route.path_parameter("project_id"), Some("p-1"));
        assert_eq!(route.path_parameter("job_id"), Some("a b/c"));
        // A stray `%` stays; an escape that is not UTF-8 names no API.
        assert_eq!(percent_decode("100%").as_deref(), Some("100%"));
        assert_eq!(percent_decode("%zz%4").as_deref(), Some("%zz%4"));
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(percent_decode("%ff"), None);
        assert_eq!(failure_status(Method::GET, "/v2/p/workspace-jobs/%ff"), 404);
    }

    #[test]
    fn unknown_paths_are_404_and_known_ones_with_another_method_405() {
        for path in [
            "",
            "/",
            "/v2/",
            "/v2//desktop/delete-sub-resources",
            "/v2/p/desktop/delete-sub-resources/",
            "/v2/p/workspace-jobs/",
            "/v2/p/workspace-jobs/a/b",
            "/v1/p/desktop/delete-sub-resources",
        ] {
            assert_eq!(failure_status(Method::POST, path), 404, "{path:?}");
        }
        let refused = route(&Method::DELETE, "/v2/p/desktop/delete-sub-resources").unwrap_err();
        assert_eq!(refused.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(refused.headers, [("allow", "POST".to_owned())]);
    }

    #[test]
    fn a_literal_segment_wins_over_a_parameter() {
        use hwc_workspace::operation::{Field, Kind, Location, Value};
        const TEXT: Value = Value::of(Kind::String);
        static ONE: Operation = Operation {
            id: OperationId::ShowJob,
            name: "ShowDesktop",
            method: "GET",
            path: "/v2/{project_id}/desktops/{desktop_id}",
            summary: "",
            description: "",
            tag: "",
            fields: &[Field {
                name: "desktop_id",
                location: Location::Path,
                required: true,
                description: "",
                value: TEXT,
            }],
            response: "",
            errors: &[],
            paging: None,
        };
        static DETAIL: Operation = Operation {
            id: OperationId::ShowJob,
            name: "ListDesktopsDetail",
            method: "GET",
            path: "/v2/{project_id}/desktops/detail",
            summary: "",
            description: "",
            tag: "",
            fields: &[],
            response: "",
            errors: &[],
            paging: None,
        };
        for operations in [[&ONE, &DETAIL], [&DETAIL, &ONE]] {
            let detail = route_among(operations, &Method::GET, "/v2/p/desktops/detail").unwrap();
            assert_eq!(detail.operation.name, "ListDesktopsDetail");
            let one = route_among(operations, &Method::GET, "/v2/p/desktops/d-1").unwrap();
            assert_eq!(one.operation.name, "ShowDesktop");
            assert_eq!(one.path_parameter("desktop_id"), Some("d-1"));
        }
    }
}
