"""A hostile environment around a call: values that cannot become headers, path ids that
would leave their path, parameters out of range, and an interrupted call's connection."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import pytest

import hwc_workspace as hw


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"ak": "HPUA\r\nINJECTED", "sk": "sk"}, "access key"),
        ({"ak": "HPUA", "sk": "sk", "security_token": "tok\nX-Evil: 1"}, "security token"),
    ],
)
def test_credentials_that_cannot_be_headers_are_refused_before_sending(
    sim: hw.Simulator, kwargs: dict, named: str
) -> None:
    before = sim.request_count
    with pytest.raises(hw.ConfigurationError) as caught:
        hw.Client(endpoint=sim.endpoint, project_id=sim.project_id, **kwargs)
    assert named in str(caught.value)
    assert "INJECTED" not in str(caught.value) and "X-Evil" not in str(caught.value)
    assert sim.request_count == before


@pytest.mark.parametrize("job_id", ["..", ".", "a\\b", "j" * 10_000])
def test_job_ids_that_would_leave_their_path_are_invalid_requests(sim: hw.Simulator, client: hw.Client, job_id: str) -> None:
    before = sim.request_count
    with pytest.raises(hw.InvalidRequestError) as caught:
        client.show_job(job_id)
    assert caught.value.field == "job_id"
    assert sim.request_count == before


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda: hw.Simulator(job_duration=1e12), "job_duration"),
        (lambda: hw.Simulator(latency=1e12), "latency"),
        (lambda: hw.Client(endpoint="http://127.0.0.1:1", ak="a", sk="s", project_id="p", retries=2**70), "retries"),
        (lambda: hw.Client(endpoint="http://127.0.0.1:1", ak="a", sk="s", project_id="p", timeout=1e12), "timeout"),
    ],
)
def test_parameters_out_of_range_are_refused_where_they_enter(make, named: str) -> None:
    with pytest.raises(hw.InvalidRequestError) as caught:
        make()
    assert caught.value.field == named
    assert "got int" not in str(caught.value)


def test_a_long_job_duration_is_accepted_and_show_job_answers(sim: hw.Simulator) -> None:
    with hw.Simulator(job_duration=86_400) as slow:
        client = slow.client()
        job = client.show_job(client.delete_desktop_sub_resources(slow.desktop_ids[:1]).job_id)
        assert job.status == "WAITING"


def test_an_interrupted_call_closes_its_connection() -> None:
    """Ctrl-C during a blocking call: the call raises KeyboardInterrupt, and the server sees
    the connection close at once, not at the thread's next call."""
    if threading.current_thread() is not threading.main_thread():
        pytest.fail("signals need the main thread")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    closed = threading.Event()

    def never_answer() -> None:
        connection, _ = listener.accept()
        connection.settimeout(10)
        try:
            while connection.recv(65536):
                pass  # the request arrives; no answer is ever sent
            closed.set()
        except OSError:
            closed.set()
        finally:
            connection.close()

    server = threading.Thread(target=never_answer, daemon=True)
    server.start()
    client = hw.Client(endpoint=f"http://127.0.0.1:{port}", ak="AK", sk="SK", project_id="p1", timeout=30)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            client.delete_desktop_sub_resources(["d-1"], sub_resource_type="DESKTOP_SHARER")
        interrupted = time.monotonic()
        assert closed.wait(2.0), "the connection is still open after the interrupt"
        assert time.monotonic() - interrupted < 2.0
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
        client.close()
        listener.close()


def test_a_ctrl_c_that_lands_in_the_calls_own_python_code_is_not_lost(
    sim: hw.Simulator, client: hw.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call runs a little Python code of its own (it asks `logging` for the level), and a
    pending Ctrl-C is raised wherever Python code runs. Caught there, it was lost: the call went
    on for its whole length (the cause of the flaky `test_ctrl_c_interrupts_a_blocking_call`,
    whose SIGINT, on a loaded machine, sometimes landed there)."""
    import logging

    logger = logging.getLogger("hwc_workspace")

    def interrupted() -> int:
        raise KeyboardInterrupt

    before = sim.request_count
    monkeypatch.setattr(logger, "getEffectiveLevel", interrupted)
    with pytest.raises(KeyboardInterrupt):
        client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    assert sim.request_count == before, "interrupted before anything was sent"

    def broken() -> int:
        raise RuntimeError("a logging configuration problem is logging's own")

    monkeypatch.setattr(logger, "getEffectiveLevel", broken)
    assert client.delete_desktop_sub_resources(sim.desktop_ids[:1]).job_id
