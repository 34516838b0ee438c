"""delete_many: the bulk engine from Python, sync and async, with its account, journal and
Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from pathlib import Path

import pytest

import hwc_workspace as hw


def test_the_account_names_every_desktop_once_with_its_fate() -> None:
    with hw.Simulator(job_duration=0) as quick:
        failing = quick.desktop_ids[1]
        quick.fail_sub_jobs([failing])
        client = quick.client()
        ids = quick.desktop_ids + quick.desktop_ids[:2]  # duplicates: the first wins
        run = client.delete_many(ids, wait=True, wait_timeout=30)
        outcomes = list(run)
        assert [o.status for o in outcomes] == ["ACCEPTED"]
        account = run.account()
        assert [d.desktop_id for d in account] == quick.desktop_ids
        states = {d.desktop_id: d.status for d in account}
        assert states[failing] == "FAILED"
        assert all(state == "SUCCESS" for desktop, state in states.items() if desktop != failing)
        failed = next(d for d in account if d.desktop_id == failing)
        assert failed.error_code and failed.fail_reason and failed.job_id


def test_a_bad_id_is_refused_before_anything_is_sent(sim: hw.Simulator, client: hw.Client) -> None:
    before = sim.request_count
    with pytest.raises(hw.InvalidRequestError) as caught:
        client.delete_many([sim.desktop_ids[0], "x" * 300])
    assert caught.value.field == "desktop_ids[1]" and caught.value.index == 1
    with pytest.raises(TypeError):
        client.delete_many([sim.desktop_ids[0], 7])  # type: ignore[list-item]
    assert sim.request_count == before


def test_a_journal_resumes_a_stopped_run_sending_each_batch_once(tmp_path: Path, sim: hw.Simulator) -> None:
    ids = sim.desktop_ids
    journal = tmp_path / "run.jsonl"
    client = sim.client()
    first = client.delete_many(ids, journal=journal)
    assert [o.status for o in first] == ["ACCEPTED"]
    again = client.delete_many(ids, journal=str(journal))
    outcomes = list(again)
    assert [(o.status, o.resumed) for o in outcomes] == [("ACCEPTED", True)]
    assert len(sim.jobs()) == 1, "nothing sent twice"
    with pytest.raises(hw.ConfigurationError) as caught:
        client.delete_many(ids[:2], journal=journal)
    assert caught.value.kind == "journal"


def test_ctrl_c_reports_the_batches_in_flight_then_raises() -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.fail("signals need the main thread")
    with hw.Simulator(latency=0.3, job_duration=0) as slow:
        client = slow.client()
        ids = slow.desktop_ids  # one batch, in flight when the Ctrl-C arrives
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        timer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT))
        seen: list[hw.BatchOutcome] = []
        try:
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                for outcome in client.delete_many(ids, concurrency=1):
                    seen.append(outcome)
        finally:
            timer.cancel()
            signal.signal(signal.SIGINT, previous)
        # The batch in flight at the Ctrl-C was still reported, with its job.
        assert [o.status for o in seen] == ["ACCEPTED"]
        assert len(slow.jobs()) == 1


def test_async_for_yields_the_same_outcomes(sim: hw.Simulator) -> None:
    async def main() -> list[str]:
        client = sim.async_client()
        run = client.delete_many(iter(sim.desktop_ids), concurrency=2)
        statuses = [outcome.status async for outcome in run]
        assert [d.status for d in run.account()] == ["ACCEPTED"] * len(sim.desktop_ids)
        return statuses

    assert asyncio.run(main()) == ["ACCEPTED"]


def test_a_simulator_of_a_state_given_as_a_dict_or_a_file(tmp_path: Path) -> None:
    import json

    state = {"project_id": "p1", "desktops": [{"id": "a", "sub_resources": ["DESKTOP_SHARER"]}, {"id": "b"}]}
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    for given in (state, path, str(path)):
        with hw.Simulator(state=given, job_duration=0) as sim:
            assert sim.project_id == "p1"
            assert sim.desktop_ids == ["a"]
            run = sim.client().delete_many(["a", "b"], wait=True)
            list(run)
            assert {d.desktop_id: d.status for d in run.account()} == {"a": "SUCCESS", "b": "SUCCESS"}
    with pytest.raises(hw.InvalidRequestError) as caught:
        hw.Simulator(state={"desktops": [{"id": ""}]})
    assert caught.value.field == "state"
    with pytest.raises(TypeError):
        hw.Simulator(state=42)  # type: ignore[arg-type]
