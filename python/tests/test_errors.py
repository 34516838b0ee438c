"""Every documented answer of the service becomes one exception class of one hierarchy,
with every field of the error body as an attribute."""

from __future__ import annotations

import http.server
import json
import threading
from typing import Iterator, Tuple

import pytest

import hwc_workspace as hw

HIERARCHY = [
    (hw.InvalidRequestError, (hw.WorkspaceError, ValueError)),
    (hw.ConfigurationError, (hw.WorkspaceError,)),
    (hw.ApiError, (hw.WorkspaceError,)),
    (hw.ClientRequestError, (hw.ApiError,)),
    (hw.BadRequestError, (hw.ClientRequestError,)),
    (hw.AuthenticationError, (hw.ClientRequestError,)),
    (hw.PermissionDeniedError, (hw.ClientRequestError,)),
    (hw.NotFoundError, (hw.ClientRequestError,)),
    (hw.ClockSkewError, (hw.AuthenticationError,)),
    (hw.ProxyAuthenticationError, (hw.ClientRequestError,)),
    (hw.ThrottledError, (hw.ClientRequestError,)),
    (hw.ServerResponseError, (hw.ApiError,)),
    (hw.ServiceUnavailableError, (hw.ServerResponseError,)),
    (hw.UndecodableResponseError, (hw.ApiError,)),
    (hw.TransportError, (hw.WorkspaceError,)),
    (hw.RequestTimeoutError, (hw.TransportError, TimeoutError)),
]


@pytest.mark.parametrize("cls,parents", HIERARCHY, ids=[c.__name__ for c, _ in HIERARCHY])
def test_every_class_really_inherits(cls: type, parents: Tuple[type, ...]) -> None:
    for parent in parents:
        assert issubclass(cls, parent)
    assert issubclass(cls, hw.WorkspaceError)
    assert cls.__module__ == "hwc_workspace._errors"


def call(client: hw.Client, ids: list[str], **kwargs: str) -> hw.WorkspaceError:
    with pytest.raises(hw.WorkspaceError) as info:
        client.delete_desktop_sub_resources(ids, **kwargs)
    return info.value


def test_400_unsupported_sub_resource_type(sim: hw.Simulator, client: hw.Client) -> None:
    e = call(client, sim.desktop_ids[:1], sub_resource_type="NOT_A_TYPE")
    assert type(e) is hw.BadRequestError
    assert e.status_code == 400
    assert e.error_code == "WKS.0007"
    assert e.error_msg and "NOT_A_TYPE" in e.error_msg
    assert e.request_id and e.request_id in str(e)
    assert "400" in str(e) and "WKS.0007" in str(e)
    assert sim.jobs() == []


def test_401_wrong_secret_key(sim: hw.Simulator) -> None:
    client = hw.Client(ak=sim.ak, sk="not-the-secret-key", project_id=sim.project_id, endpoint=sim.endpoint)
    e = call(client, sim.desktop_ids[:1])
    assert type(e) is hw.AuthenticationError
    assert e.status_code == 401
    assert e.error_code == "APIGW.0301"
    assert e.request_id
    assert "not-the-secret-key" not in str(e)


def test_403_key_without_permission(sim: hw.Simulator) -> None:
    client = hw.Client(ak=sim.denied_ak, sk=sim.denied_sk, project_id=sim.project_id, endpoint=sim.endpoint)
    e = call(client, sim.desktop_ids[:1])
    assert type(e) is hw.PermissionDeniedError
    assert e.status_code == 403
    assert e.error_code == "APIGW.0302"
    assert e.encoded_authorization_message
    assert e.request_id


def test_404_unknown_desktop(sim: hw.Simulator, client: hw.Client) -> None:
    e = call(client, [sim.desktop_ids[0], "no-such-desktop"])
    assert type(e) is hw.NotFoundError
    assert isinstance(e, hw.ClientRequestError)
    assert e.status_code == 404
    assert e.error_code == "WKS.0102"
    assert e.error_msg and "no-such-desktop" in e.error_msg
    assert sim.jobs() == []


@pytest.mark.parametrize(
    "fault,status,code,cls",
    [
        ("internal_error", 500, "WKS.0500", hw.ServerResponseError),
        ("unavailable", 503, "WKS.0503", hw.ServiceUnavailableError),
        ("html_bad_gateway", 502, None, hw.ServiceUnavailableError),
    ],
)
def test_5xx(sim: hw.Simulator, client: hw.Client, fault: str, status: int, code: str, cls: type) -> None:
    sim.fail_next(fault)
    e = call(client, sim.desktop_ids[:1])
    assert type(e) is cls
    assert isinstance(e, hw.ServerResponseError)
    assert e.status_code == status
    if code is not None:
        assert e.error_code == code
    assert e.request_id
    assert sim.jobs() == []


def test_429_is_throttled_as_in_the_core(sim: hw.Simulator, client: hw.Client) -> None:
    # The class comes from the core's kind (`ApiErrorKind::Throttled`), not from the status
    # again; it is still a ClientRequestError, so older `except` clauses catch it.
    sim.fail_next("too_many_requests")
    e = call(client, sim.desktop_ids[:1])
    assert type(e) is hw.ThrottledError
    assert isinstance(e, hw.ClientRequestError)
    assert e.status_code == 429
    assert e.error_code == "APIGW.0308"
    # The core's hint, with the setting spelled as this package's keyword argument: the CLI
    # prints the same sentence with `--retries N`.
    assert e.hints == ["the service is busy; retries=N resends such answers with backoff"]


def test_api_errors_carry_the_cores_hints(sim: hw.Simulator, client: hw.Client) -> None:
    denied = hw.Client(ak=sim.denied_ak, sk=sim.denied_sk, project_id=sim.project_id, endpoint=sim.endpoint)
    e = call(denied, sim.desktop_ids[:1])
    assert e.hints[0] == "the key needs the permission workspace:desktops:deleteSubResources"
    assert isinstance(e, hw.ApiError) and e.encoded_authorization_message
    assert e.encoded_authorization_message in e.hints[1]
    e = call(client, [sim.desktop_ids[0], "no-such-desktop"])
    assert e.hints == ["check the desktop ids and the project id (project_id=... or HUAWEICLOUD_SDK_PROJECT_ID)"]
    # The same 404 of ShowJob is about the job id, as the core knows which call it was.
    with pytest.raises(hw.NotFoundError) as info:
        client.show_job("00000000-0000-4000-8000-00000000dead")
    assert info.value.hints[0].startswith("check the job id"), info.value.hints
    assert "desktop" not in info.value.hints[0]
    # A 400 says everything in its message; hints are an empty list, never missing.
    assert call(client, sim.desktop_ids[:1], sub_resource_type="NOT_A_TYPE").hints == []


def test_unavailable_is_its_own_class(sim: hw.Simulator, client: hw.Client) -> None:
    sim.fail_next("unavailable")
    e = call(client, sim.desktop_ids[:1])
    assert type(e) is hw.ServiceUnavailableError
    assert isinstance(e, hw.ServerResponseError)
    assert e.hints == ["the service is busy; retries=N resends such answers with backoff"]


def test_retries_are_opt_in(sim: hw.Simulator) -> None:
    sim.fail_next("unavailable")
    assert sim.client(retries=1).delete_desktop_sub_resources(sim.desktop_ids[:1]).job_id
    assert sim.request_count == 2
    sim.fail_next("unavailable")
    with pytest.raises(hw.ServerResponseError):
        sim.client().delete_desktop_sub_resources(sim.desktop_ids[:1])


def test_dropped_connection_is_a_transport_error(sim: hw.Simulator, client: hw.Client) -> None:
    sim.fail_next("drop_connection")
    e = call(client, sim.desktop_ids[:1])
    assert type(e) is hw.TransportError
    assert e.kind == "broken"
    assert e.endpoint == sim.endpoint


def test_truncated_body_is_a_transport_error(sim: hw.Simulator, client: hw.Client) -> None:
    sim.fail_next("truncated_body")
    e = call(client, sim.desktop_ids[:1])
    assert isinstance(e, hw.TransportError)


def test_read_timeout_is_a_timeout_error(sim: hw.Simulator) -> None:
    sim.set_latency(2.0)
    client = sim.client(timeout=0.2)
    with pytest.raises(TimeoutError) as info:
        client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    e = info.value
    assert type(e) is hw.RequestTimeoutError
    assert e.kind == "timeout"
    assert "timed out" in str(e)


def test_connection_refused(sim: hw.Simulator) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = hw.Client(ak="ak", sk="sk", project_id="p1", endpoint=f"http://127.0.0.1:{port}", connect_timeout=2)
    e = call(client, ["d-1"])
    assert type(e) is hw.TransportError
    assert e.kind == "connect"
    assert str(port) in e.endpoint


def test_tls_to_a_plain_http_port_fails_as_transport(sim: hw.Simulator) -> None:
    https = sim.endpoint.replace("http://", "https://")
    client = hw.Client(ak=sim.ak, sk=sim.sk, project_id=sim.project_id, endpoint=https)
    e = call(client, sim.desktop_ids[:1])
    assert type(e) is hw.TransportError
    assert e.kind in ("tls", "connect")
    assert e.endpoint == https
    assert sim.jobs() == []


def test_exceptions_pickle_with_their_attributes(sim: hw.Simulator, client: hw.Client) -> None:
    import pickle

    e = call(client, ["no-such-desktop"])
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is hw.NotFoundError
    assert (back.status_code, back.error_code, back.request_id, str(back)) == (
        e.status_code,
        e.error_code,
        e.request_id,
        str(e),
    )


# A scripted server for the answers the simulator never gives: an error body with
# `error_detail`, and a success status with a body that is not the documented one.
class Scripted(http.server.BaseHTTPRequestHandler):
    status = 200
    body = b"{}"
    content_type = "application/json"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.send_header("X-Request-Id", "req-scripted")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def scripted() -> Iterator[Tuple[type, hw.Client]]:
    class Handler(Scripted):
        pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        yield Handler, hw.Client(ak="ak", sk="sk", project_id="p1", endpoint=endpoint)
    finally:
        server.shutdown()
        server.server_close()


def test_error_detail_and_every_field_are_kept(scripted: Tuple[type, hw.Client]) -> None:
    handler, client = scripted
    handler.status = 400
    handler.body = json.dumps(
        {
            "error_code": "WKS.0002",
            "error_msg": "The request body is not valid JSON",
            "error_detail": "expected value at line 1 column 1",
            "encoded_authorization_message": "ZW5jb2RlZA==",
        }
    ).encode()
    e = call(client, ["d-1"])
    assert type(e) is hw.BadRequestError
    assert e.error_detail == "expected value at line 1 column 1"
    assert e.encoded_authorization_message == "ZW5jb2RlZA=="
    assert e.request_id == "req-scripted"
    assert "expected value at line 1 column 1" in str(e)


def test_undecodable_success_body(scripted: Tuple[type, hw.Client]) -> None:
    handler, client = scripted
    handler.body = b'{"not_a_job_id": 1}'
    e = call(client, ["d-1"])
    assert type(e) is hw.UndecodableResponseError
    assert isinstance(e, hw.ApiError)
    assert e.status_code == 200
    assert e.error_code is None
    assert e.error_msg
    assert e.request_id == "req-scripted"


def test_5xx_with_a_non_json_body(scripted: Tuple[type, hw.Client]) -> None:
    handler, client = scripted
    handler.status = 504
    handler.content_type = "text/html"
    handler.body = b"<html><body>Gateway Timeout</body></html>"
    e = call(client, ["d-1"])
    assert type(e) is hw.ServiceUnavailableError  # the core's kind `Unavailable`
    assert e.status_code == 504
