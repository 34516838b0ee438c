"""Secrets (the secret key and the security token) never show in a repr, an exception's
text or attributes, or a log record, even at DEBUG; nor does the signature of a request."""

from __future__ import annotations

import asyncio
import http.server
import logging
import re
import socket
import threading
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

import hwc_workspace as hw

SECRET = "Sk-VerySecret-0123456789"
TOKEN = "Token-VerySecret-abcdef"


def texts_of(e: BaseException) -> str:
    return " ".join([str(e), repr(e), repr(e.args), repr(vars(e))])


def test_repr_shows_endpoint_and_ak_only(sim: hw.Simulator) -> None:
    for cls in (hw.Client, hw.AsyncClient):
        client = cls(ak="AK-visible", sk=SECRET, security_token=TOKEN, project_id="p1", endpoint=sim.endpoint)
        text = repr(client)
        assert sim.endpoint in text and "AK-visible" in text and "p1" in text
        assert SECRET not in text and TOKEN not in text
    client = sim.client()
    assert sim.sk not in repr(client)


def test_no_secret_in_errors_or_logs(sim: hw.Simulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hwc_workspace")
    client = hw.Client(ak=sim.ak, sk=SECRET, security_token=TOKEN, project_id=sim.project_id, endpoint=sim.endpoint)
    with pytest.raises(hw.AuthenticationError) as info:
        client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    assert SECRET not in texts_of(info.value) and TOKEN not in texts_of(info.value)

    good = sim.client()
    good.delete_desktop_sub_resources(sim.desktop_ids[:1])
    with pytest.raises(hw.NotFoundError) as info:
        good.delete_desktop_sub_resources(["no-such-desktop"])
    assert sim.sk not in texts_of(info.value)

    async def call() -> None:
        async with sim.async_client() as ac:
            await ac.delete_desktop_sub_resources(sim.desktop_ids[1:2])

    asyncio.run(call())
    sim.jobs()  # hands the simulator's queued records over too

    messages = [r.getMessage() for r in caplog.records]
    assert any("DeleteDesktopSubResources succeeded" in m for m in messages), messages
    assert any("DeleteDesktopSubResources failed" in m for m in messages), messages
    assert {r.name for r in caplog.records} <= {"hwc_workspace", "hwc_workspace.simulator"}
    assert any(r.name == "hwc_workspace.simulator" for r in caplog.records)
    for record in caplog.records:
        text = record.getMessage()
        for secret in (SECRET, TOKEN, sim.sk):
            assert secret not in text, text


def test_logging_is_quiet_by_default(sim: hw.Simulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hwc_workspace")
    sim.client().delete_desktop_sub_resources(sim.desktop_ids[:1])
    assert [r for r in caplog.records if r.name.startswith("hwc_workspace")] == []


def test_credential_errors_do_not_echo_secrets(no_credentials: None) -> None:
    with pytest.raises(hw.ConfigurationError) as info:
        hw.Client(ak="AK", sk=SECRET, endpoint="http://127.0.0.1:1")  # no project id, no region to find it
    assert SECRET not in texts_of(info.value)
    with pytest.raises(hw.ConfigurationError) as info:
        hw.Client(sk=SECRET, region="cn-north-4")  # half of the credentials
    assert SECRET not in texts_of(info.value)


# A request signature is 64 hex digits; nothing else the package shows is (request ids have 32,
# job ids are UUIDs with dashes).
SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")


def everything_shown_by(e: BaseException) -> str:
    """An exception as every way it can be shown: str, repr, args, attributes (and their
    reprs, e.g. a failed job's), and the exceptions it was chained from."""
    parts = [texts_of(e)]
    parts += [repr(value) for value in vars(e).values()]
    chained = e.__cause__ or e.__context__
    if chained is not None:
        parts.append(everything_shown_by(chained))
    return "\n".join(parts)


class Recording(http.server.BaseHTTPRequestHandler):
    """Plays the service for a success answer the simulator never gives (a 200 whose body is
    not the documented one), and keeps the Authorization header of every request."""

    authorizations: List[str] = []
    # Error answers the simulator never gives, each sent once, before the 200 above.
    answers: List[Tuple[int, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.authorizations.append(self.headers.get("Authorization", ""))
        status, body = self.answers.pop(0) if self.answers else (200, b'{"unexpected": true}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def recording() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_every_error_class_and_the_lowest_log_level_show_no_secret(
    sim: hw.Simulator, recording: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(1, logger="hwc_workspace")
    raised: List[BaseException] = []

    def expect(cls: type, call: Callable[[], Any]) -> None:
        with pytest.raises(cls) as info:
            call()
        assert type(info.value) is cls, repr(info.value)
        raised.append(info.value)

    def secret_client(**options: Any) -> hw.Client:
        settings: Dict[str, Any] = dict(
            ak=sim.ak, sk=SECRET, security_token=TOKEN, project_id=sim.project_id, endpoint=sim.endpoint
        )
        settings.update(options)
        return hw.Client(**settings)

    ids = sim.desktop_ids[:1]
    # Faults are drawn before authentication, so the client holding the distinctive secrets
    # meets every one of them; without a fault, its wrong secret key is a 401.
    expect(hw.AuthenticationError, lambda: secret_client().delete_desktop_sub_resources(ids))
    for fault, cls in [
        ("internal_error", hw.ServerResponseError),
        ("html_bad_gateway", hw.ServiceUnavailableError),
        ("too_many_requests", hw.ThrottledError),
        ("drop_connection", hw.TransportError),
        ("truncated_body", hw.TransportError),
    ]:
        sim.fail_next(fault)
        expect(cls, lambda: secret_client().delete_desktop_sub_resources(ids))
    sim.fail_next("unavailable", "unavailable")
    expect(hw.ServiceUnavailableError, lambda: secret_client(retries=1).delete_desktop_sub_resources(ids))
    sim.set_latency(1.0)
    expect(hw.RequestTimeoutError, lambda: secret_client(timeout=0.2).delete_desktop_sub_resources(ids))
    sim.set_latency(0.0)
    expect(hw.InvalidRequestError, lambda: secret_client().delete_desktop_sub_resources([]))
    expect(hw.InvalidRequestError, lambda: secret_client().show_job(""))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    expect(hw.TransportError, lambda: secret_client(endpoint=closed, connect_timeout=2).delete_desktop_sub_resources(ids))
    expect(hw.UndecodableResponseError, lambda: secret_client(endpoint=recording).delete_desktop_sub_resources(ids))
    # One class per kind of the core (`ApiErrorKind`): the kinds the simulator never answers.
    Recording.answers = [
        (409, b'{"error_code": "WKS.0409", "error_msg": "conflict"}'),
        (401, b'{"error_code": "APIGW.0303", "error_msg": "X-Sdk-Date expired"}'),
        (407, b""),
    ]
    for cls in (hw.ClientRequestError, hw.ClockSkewError, hw.ProxyAuthenticationError):
        expect(cls, lambda: secret_client(endpoint=recording).delete_desktop_sub_resources(ids))
    expect(hw.ConfigurationError, lambda: secret_client(ca_cert=SECRET.encode()))
    expect(hw.ConfigurationError, lambda: hw.Client(sk=SECRET, security_token=TOKEN, endpoint=sim.endpoint))

    async def async_failures() -> None:
        async with hw.AsyncClient(
            ak=sim.ak, sk=SECRET, security_token=TOKEN, project_id=sim.project_id, endpoint=sim.endpoint
        ) as ac:
            with pytest.raises(hw.AuthenticationError) as info:
                await ac.delete_desktop_sub_resources(ids)
            raised.append(info.value)

    asyncio.run(async_failures())

    # The answers only a key the simulator knows gets: its secret key (and the denied key's)
    # must not show either.
    client = sim.client()
    expect(hw.BadRequestError, lambda: client.delete_desktop_sub_resources(ids, sub_resource_type="NOT_A_TYPE"))
    expect(hw.NotFoundError, lambda: client.delete_desktop_sub_resources(["no-such-desktop"]))
    expect(hw.NotFoundError, lambda: client.show_job("no-such-job"))
    denied = hw.Client(ak=sim.denied_ak, sk=sim.denied_sk, project_id=sim.project_id, endpoint=sim.endpoint)
    expect(hw.PermissionDeniedError, lambda: denied.delete_desktop_sub_resources(ids))
    sim.fail_sub_jobs(ids)
    failing = client.delete_desktop_sub_resources(ids)
    expect(hw.JobFailedError, lambda: client.wait_job(failing.job_id, timeout=10, poll_interval=0.05))
    sim.clear_faults()
    sim.report_jobs_as("no-sub-jobs")
    unreported = client.delete_desktop_sub_resources(ids)
    expect(hw.JobOutcomeUnknownError, lambda: client.wait_job(unreported.job_id, timeout=10, poll_interval=0.05))
    sim.clear_faults()
    running = client.delete_desktop_sub_resources(ids)
    expect(hw.JobTimeoutError, lambda: client.wait_job(running.job_id, timeout=0.1, poll_interval=0.05))
    shown = [repr(client), repr(denied), repr(sim), repr(running), repr(client.show_job(running.job_id)), repr(sim.jobs())]
    sim.jobs()  # hands the simulator's queued records over too

    concrete = {
        cls
        for cls in (getattr(hw, name) for name in hw.__all__)
        if isinstance(cls, type) and issubclass(cls, hw.WorkspaceError) and cls not in (hw.WorkspaceError, hw.ApiError)
    }
    assert concrete <= {type(e) for e in raised}, concrete - {type(e) for e in raised}

    assert Recording.authorizations, "the recording server saw the signed request"
    signatures = [a.rsplit("Signature=", 1)[1] for a in Recording.authorizations]
    assert all(SIGNATURE.fullmatch(signature) for signature in signatures), signatures
    records = [f"{r.levelno} {r.name} {r.getMessage()} {vars(r)!r}" for r in caplog.records]
    assert any(r.levelno == logging.DEBUG and "retrying" in r.getMessage() for r in caplog.records), records
    texts = [everything_shown_by(e) for e in raised] + shown + records
    for text in texts:
        for secret in (SECRET, TOKEN, sim.sk, sim.denied_sk, *signatures):
            assert secret not in text, text
        assert "Signature=" not in text and not SIGNATURE.search(text), text


def test_sign_request_returns_the_signature_and_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    # Its output is the headers to send, so the signature and the token are in it by design;
    # its failures and the logs must not carry the secret key.
    caplog.set_level(1, logger="hwc_workspace")
    headers = hw.sign_request(
        "POST", "https://example.com/v1/x", {"Content-Type": "application/json"}, b"{}",
        ak="AK-visible", sk=SECRET, security_token=TOKEN,
    )
    assert headers["X-Security-Token"] == TOKEN
    assert SIGNATURE.fullmatch(headers["Authorization"].rsplit("Signature=", 1)[1])
    assert SECRET not in repr(headers)
    failures: List[BaseException] = []
    for call in [
        lambda: hw.sign_request("POST", "not a url", ak="AK", sk=SECRET, security_token=TOKEN),
        lambda: hw.sign_request("P O S T", "https://example.com/", ak="AK", sk=SECRET),
        lambda: hw.sign_request("POST", "https://example.com/", {"X-Sdk-Date": "yesterday"}, ak="AK", sk=SECRET),
        lambda: hw.sign_request("POST", "https://example.com/", ak="", sk=SECRET),
        lambda: hw.sign_request("POST", "https://example.com/", ak="AK", sk=SECRET.encode()),  # type: ignore[arg-type]
        lambda: hw.sign_request("POST", "https://example.com/", ak="AK", sk=SECRET, security_token=TOKEN.encode()),  # type: ignore[arg-type]
    ]:
        with pytest.raises((hw.InvalidRequestError, TypeError)) as info:
            call()
        failures.append(info.value)
    for e in failures:
        for secret in (SECRET, TOKEN):
            assert secret not in everything_shown_by(e), everything_shown_by(e)
    assert [r for r in caplog.records if SECRET in r.getMessage() or TOKEN in r.getMessage()] == []
