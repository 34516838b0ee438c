"""The fault matrix from Python: every misbehaviour of the service, its gateways and the
network, met by the real client against the in-process simulator over loopback. Each case
checks the exception class, that it was raised within the timeout plus one second, that it
was raised cleanly (no panic, no frame of this package in the traceback, no chained
exception), how many requests reached the simulator, and that nothing was deleted.

The same matrix runs from Rust (``crates/hwc-workspace-sim/tests/fault_matrix.rs``) and from
the command line (``crates/hwc-workspace-cli/tests/faults.rs``).
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from typing import Iterator, NamedTuple, Optional, Tuple

import pytest

import hwc_workspace as hw

PACKAGE_DIR = os.path.dirname(os.path.abspath(hw.__file__))
QUICK = 1.0
PATIENT = 5.0
REDIRECT = "redirect"
REFUSED = "refused"


class Case(NamedTuple):
    faults: Tuple[str, ...]
    timeout: float
    raises: type
    # The transport error's `kind`, where one is expected.
    kinds: Tuple[str, ...]
    reached: int
    status: Optional[int] = None


CASES = {
    "connection refused": Case((REFUSED,), PATIENT, hw.TransportError, ("connect",), 0),
    # A reset at accept usually fails the connect itself, which the default connect retries
    # (2) try again: three resets exhaust them. Should the request have left before a reset
    # arrived, the exchange is broken and nothing is tried again.
    "reset before the request was sent": Case(
        ("reset_on_accept",) * 3, PATIENT, hw.TransportError, ("connect", "broken"), 0
    ),
    "reset after the request was read": Case(("reset_after_request",), PATIENT, hw.TransportError, ("broken",), 1),
    "closed after the request was read": Case(("drop_connection",), PATIENT, hw.TransportError, ("broken",), 1),
    "no answer": Case(("no_answer",), QUICK, hw.RequestTimeoutError, ("timeout",), 1),
    "head sent, body stalls": Case(("stalled_body",), QUICK, hw.RequestTimeoutError, ("timeout",), 1),
    "500 json": Case(("internal_error",), PATIENT, hw.ServerResponseError, (), 1, 500),
    "500 html": Case(("internal_error_html",), PATIENT, hw.ServerResponseError, (), 1, 500),
    "500 empty": Case(("internal_error_empty",), PATIENT, hw.ServerResponseError, (), 1, 500),
    "502 json": Case(("bad_gateway",), PATIENT, hw.ServiceUnavailableError, (), 1, 502),
    "502 html": Case(("html_bad_gateway",), PATIENT, hw.ServiceUnavailableError, (), 1, 502),
    "502 empty": Case(("bad_gateway_empty",), PATIENT, hw.ServiceUnavailableError, (), 1, 502),
    "503 json": Case(("unavailable",), PATIENT, hw.ServiceUnavailableError, (), 1, 503),
    "503 html": Case(("unavailable_html",), PATIENT, hw.ServiceUnavailableError, (), 1, 503),
    "503 empty": Case(("unavailable_empty",), PATIENT, hw.ServiceUnavailableError, (), 1, 503),
    "429 with Retry-After": Case(("too_many_requests",), PATIENT, hw.ThrottledError, (), 1, 429),
    "429 without Retry-After": Case(
        ("too_many_requests_without_retry_after",), PATIENT, hw.ThrottledError, (), 1, 429
    ),
    "truncated JSON body": Case(("truncated_body",), PATIENT, hw.TransportError, ("broken",), 1),
    "200 not the documented shape": Case(("undocumented_body",), PATIENT, hw.UndecodableResponseError, (), 1, 200),
    "200 of 10 MiB": Case(("oversized_body",), PATIENT, hw.UndecodableResponseError, (), 1, 200),
    # The core's kind "service failed" (an answer the API does not document), as a 5xx.
    "redirect to another host": Case((REDIRECT,), PATIENT, hw.ServerResponseError, (), 1, 307),
}


@pytest.fixture
def witness() -> Iterator[socket.socket]:
    """A loopback listener that never accepts on its own: afterwards it tells whether
    anyone connected."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        yield listener


def closed_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def assert_raised_cleanly(info: pytest.ExceptionInfo[hw.WorkspaceError]) -> None:
    e = info.value
    assert type(e).__module__ == "hwc_workspace._errors", type(e)
    assert "Panic" not in type(e).__name__
    assert e.__cause__ is None and e.__context__ is None, repr(e.__context__)
    ours = [frame for frame in traceback.extract_tb(info.tb) if os.path.abspath(frame.filename).startswith(PACKAGE_DIR)]
    assert ours == [], ours


@pytest.mark.parametrize("name", list(CASES))
def test_fault(name: str, sim: hw.Simulator, witness: socket.socket) -> None:
    case = CASES[name]
    if case.faults == (REFUSED,):
        client = hw.Client(
            ak=sim.ak,
            sk=sim.sk,
            project_id=sim.project_id,
            endpoint=closed_endpoint(),
            timeout=case.timeout,
            connect_timeout=case.timeout,
        )
    else:
        host, port = witness.getsockname()
        sim.fail_next(*(f"redirect:{host}:{port}" if f == REDIRECT else f for f in case.faults))
        client = sim.client(timeout=case.timeout)
    started = time.monotonic()
    with pytest.raises(hw.WorkspaceError) as info:
        client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    elapsed = time.monotonic() - started
    e = info.value
    assert type(e) is case.raises, repr(e)
    assert elapsed <= case.timeout + 1.0, elapsed
    assert_raised_cleanly(info)
    if case.kinds:
        assert isinstance(e, hw.TransportError)
        assert e.kind in case.kinds, e.kind
    if case.status is not None:
        assert isinstance(e, hw.ApiError)
        assert e.status_code == case.status
        assert e.request_id
    if name == "200 of 10 MiB":
        assert isinstance(e, hw.ApiError) and e.error_msg and "MAX_RESPONSE_BODY_BYTES" in e.error_msg
    assert sim.request_count == case.reached
    assert sim.jobs() == []
    assert "DESKTOP_SHARER" in sim.desktops()[sim.desktop_ids[0]]
    with pytest.raises(BlockingIOError):
        witness.accept()


def test_retries_resend_only_the_documented_statuses(sim: hw.Simulator) -> None:
    sim.fail_next("gateway_timeout", "bad_gateway_empty", "too_many_requests_without_retry_after")
    assert sim.client(retries=3).delete_desktop_sub_resources(sim.desktop_ids[:1]).job_id
    assert sim.request_count == 4
    assert len(sim.jobs()) == 1
    for fault in ("internal_error", "reset_after_request", "undocumented_body"):
        before = sim.request_count
        sim.fail_next(fault)
        with pytest.raises(hw.WorkspaceError):
            sim.client(retries=3).delete_desktop_sub_resources(sim.desktop_ids[1:2])
        assert sim.request_count == before + 1, fault
    assert len(sim.jobs()) == 1


def test_simulator_fault_names_are_accepted_and_unknown_ones_named(sim: hw.Simulator) -> None:
    sim.fail_next("504:html", "429:none")
    with pytest.raises(hw.ServerResponseError) as info:
        sim.client().delete_desktop_sub_resources(sim.desktop_ids[:1])
    assert info.value.status_code == 504
    with pytest.raises(hw.ClientRequestError):
        sim.client().delete_desktop_sub_resources(sim.desktop_ids[:1])
    with pytest.raises(ValueError, match="unknown fault '404:json'.*redirect:HOST:PORT"):
        sim.fail_next("404:json")
