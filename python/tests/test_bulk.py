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
        assert run.job_reads == 1, "a job that ended as it was accepted is read once"


def test_the_account_is_a_sequence_made_as_it_is_read(sim: hw.Simulator, client: hw.Client) -> None:
    import collections.abc

    ids = sim.desktop_ids
    run = client.delete_many(ids)
    assert sum(1 for _ in run) == 1
    account = run.account()
    assert isinstance(account, collections.abc.Sequence)
    assert len(account) == len(ids) and repr(account) == f"<hwc_workspace.Account of {len(ids)} desktops>"
    assert account[0].desktop_id == ids[0] and account[-1].desktop_id == ids[-1]
    assert [d.desktop_id for d in account[1:3]] == ids[1:3]
    assert [d.desktop_id for d in account[::-2]] == ids[::-2]
    assert [d.desktop_id for d in account] == [d.desktop_id for d in list(account)] == ids
    for outside in (len(ids), -len(ids) - 1):
        with pytest.raises(IndexError):
            account[outside]
    with pytest.raises(TypeError):
        account["0"]  # type: ignore[call-overload]
    iterator = iter(account)
    assert next(iterator).desktop_id == ids[0]
    assert len(list(iterator)) == len(ids) - 1


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


# --- A run that Python lets go of ends as the command line's does on its first signal: no new
# batch, and the batches in flight end and are recorded (journal and account), so that a resume
# reports none of them UNKNOWN.

FLEET = 600  # six batches
LATENCY = 0.4  # every answer this late: batches are in flight when the loop lets go


def fleet(latency: float = LATENCY) -> hw.Simulator:
    state = {
        "project_id": "p-fleet",
        "desktops": [{"id": f"d-{i:04}", "sub_resources": ["DESKTOP_SHARER"]} for i in range(FLEET)],
    }
    return hw.Simulator(state=state, latency=latency, job_duration=0)


def journal_events(path: Path) -> list[dict[str, object]]:
    import json

    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def unanswered(path: Path) -> tuple[set[object], set[object]]:
    """The batches with a `sending` line, and those of them without an outcome line."""
    events = journal_events(path)
    sent = {e["batch"] for e in events if e["event"] == "sending"}
    ended = {e["batch"] for e in events if e["event"] in ("accepted", "rejected", "unknown")}
    return sent, sent - ended


def settled_within(path: Path, seconds: float = 10.0) -> set[object]:
    """Waits (bounded) until every batch sent has its outcome in the journal; returns those sent."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        sent, open_ = unanswered(path)
        if not open_:
            return sent
        if time.monotonic() > deadline:
            pytest.fail(f"batches {sorted(open_)} were sent and never recorded")
        time.sleep(0.05)


def assert_resume_knows_everything(sim: hw.Simulator, journal: Path, sent: set[object]) -> None:
    """A resume with the same journal reports no UNKNOWN, and sends no batch twice."""
    with sim.client() as again:
        run = again.delete_many(sim.desktop_ids, concurrency=3, journal=journal)
        outcomes = list(run)
        assert all(o.status == "ACCEPTED" for o in outcomes), [(o.index, o.status) for o in outcomes]
        assert {o.index for o in outcomes if o.resumed} == sent
        assert all(d.status == "ACCEPTED" for d in run.account())
    assert len(sim.jobs()) == FLEET // 100, "each batch sent once"


def test_break_at_the_first_outcome_records_the_batches_in_flight(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    with fleet() as sim:
        client = sim.client()
        for outcome in client.delete_many(sim.desktop_ids, concurrency=3, journal=journal):
            assert outcome.status == "ACCEPTED"
            break
        # Nobody holds the run any more: it settles in the background.
        sent = settled_within(journal)
        assert len(sent) >= 2, "batches were in flight at the break"
        assert len(sent) < FLEET // 100, "no new batch after the break"
        client.close()
        assert_resume_knows_everything(sim, journal, sent)


def test_an_exception_in_the_loop_body_records_the_batches_in_flight(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    with fleet() as sim:
        client = sim.client()
        with pytest.raises(LookupError):
            for _ in client.delete_many(sim.desktop_ids, concurrency=3, journal=journal):
                raise LookupError("the loop body failed")
        sent = settled_within(journal)
        assert 2 <= len(sent) < FLEET // 100
        client.close()
        assert_resume_knows_everything(sim, journal, sent)


def test_a_dropped_run_records_the_batches_in_flight(tmp_path: Path) -> None:
    import gc

    journal = tmp_path / "run.jsonl"
    with fleet() as sim:
        client = sim.client()
        run = client.delete_many(sim.desktop_ids, concurrency=3, journal=journal)
        assert next(run).status == "ACCEPTED"
        del run
        gc.collect()
        sent = settled_within(journal)
        assert 2 <= len(sent) < FLEET // 100
        client.close()
        assert_resume_knows_everything(sim, journal, sent)


def test_leaving_the_with_block_stops_the_run_and_waits_for_its_batches(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    with fleet() as sim:
        client = sim.client()
        with client.delete_many(sim.desktop_ids, concurrency=3, journal=journal) as run:
            first = next(run)
        # Recorded by the time the block is left: no polling.
        sent, open_ = unanswered(journal)
        assert not open_ and 2 <= len(sent) < FLEET // 100
        account = {d.desktop_id: d for d in run.account()}
        assert len(account) == FLEET
        in_flight = [d for d in account.values() if d.status == "ACCEPTED"]
        assert len(in_flight) == 100 * len(sent)
        assert {d.desktop_id for d in in_flight} >= set(first.desktop_ids)
        assert all("not sent" in (d.fail_reason or "") for d in account.values() if d.status == "UNKNOWN")
        # The rest of the outcomes are still there to iterate; the run then ends.
        rest = list(run)
        assert {o.index for o in rest if o.status == "ACCEPTED"} == sent - {first.index}
        assert {o.status for o in rest} <= {"ACCEPTED", "NOT_SENT"}
        client.close()
        assert_resume_knows_everything(sim, journal, sent)


def test_closing_the_client_records_the_batches_in_flight_and_the_run_then_raises(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    with fleet() as sim:
        client = sim.client()
        run = client.delete_many(sim.desktop_ids, concurrency=3, journal=journal)
        assert next(run).status == "ACCEPTED"
        client.close()  # waits for the batches in flight
        sent, open_ = unanswered(journal)
        assert not open_ and 2 <= len(sent) < FLEET // 100
        requests = sim.request_count
        with pytest.raises(RuntimeError, match="closed"):
            next(run)
        assert len([d for d in run.account() if d.status == "ACCEPTED"]) == 100 * len(sent)
        assert sim.request_count == requests, "nothing sent after the close"
        assert_resume_knows_everything(sim, journal, sent)


def test_a_run_of_a_closed_client_sends_nothing_and_raises(sim: hw.Simulator) -> None:
    client = sim.client()
    untouched = client.delete_many(sim.desktop_ids)
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        next(untouched)
    with pytest.raises(RuntimeError, match="closed"):
        client.delete_many(sim.desktop_ids)
    assert sim.request_count == 0 and not sim.jobs()
    assert all(d.status == "UNKNOWN" for d in untouched.account())


@pytest.mark.parametrize("given", ["d-1", b"d-1", bytearray(b"d-1"), memoryview(b"d-1")])
def test_a_single_str_or_bytes_is_refused_not_sent_by_character(sim: hw.Simulator, client: hw.Client, given: object) -> None:
    with pytest.raises(TypeError, match="desktop_ids must be an iterable of str, got a single"):
        client.delete_many(given)  # type: ignore[arg-type]
    assert sim.request_count == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_run_iterated_in_a_forked_child_raises_instead_of_hanging(tmp_path: Path) -> None:
    import sys
    import time
    import warnings

    with fleet(latency=0.2) as sim:
        client = sim.client()
        run = client.delete_many(sim.desktop_ids, concurrency=2, journal=tmp_path / "run.jsonl")
        assert next(run).status == "ACCEPTED"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
            pid = os.fork()
        if pid == 0:  # the child: report by exit status only, never return into pytest
            status = 1
            try:
                try:
                    next(run)
                    status = 2
                except RuntimeError as e:
                    status = 0 if "forked" in str(e) and str(os.getpid()) in str(e) else 3
                # A run of the parent's client, started here, goes on here.
                fresh = client.delete_many(sim.desktop_ids[:5])
                if status == 0 and [o.status for o in fresh] != ["ACCEPTED"]:
                    status = 4
                del run, fresh
            except BaseException as e:  # noqa: BLE001
                print(f"child failed: {e!r}", file=sys.stderr)
            finally:
                os._exit(status)
        deadline = time.monotonic() + 20
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                pytest.fail("the child hung")
            time.sleep(0.05)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        # The parent's run goes on.
        assert all(o.status in ("ACCEPTED",) for o in run)
        assert all(d.status == "ACCEPTED" for d in run.account())


@pytest.mark.parametrize(
    "bad",
    [" d-1", "d-1\t", "d-1\u00a0", "d-1,d-2", "d-1#x", "d-\x001", "d-1\n", "d\x7f", "\u202ed-1", "d-1\u2066", "d\u200b-1", "\ufeffd-1"],
)
def test_ids_that_break_the_id_rule_are_refused_by_every_call(sim: hw.Simulator, client: hw.Client, bad: str) -> None:
    good = sim.desktop_ids[0]
    with pytest.raises(hw.InvalidRequestError) as single:
        client.delete_desktop_sub_resources([good, bad])
    with pytest.raises(hw.InvalidRequestError) as many:
        client.delete_many([good, sim.desktop_ids[1], bad])
    assert (single.value.field, single.value.index) == ("desktop_ids[1]", 1)
    assert (many.value.field, many.value.index) == ("desktop_ids[2]", 2)
    for caught in (single.value, many.value):
        assert "whitespace" in caught.expected and "control" in caught.expected
        assert caught.got.isprintable(), caught.got  # shown escaped
    assert single.value.expected == many.value.expected, "one rule"
    assert sim.request_count == 0 and not sim.jobs()


def test_concurrency_states_one_range(client: hw.Client, sim: hw.Simulator) -> None:
    for bad in (0, -1, 65, 10**30):
        with pytest.raises(hw.InvalidRequestError) as caught:
            client.delete_many(sim.desktop_ids, concurrency=bad)
        assert (caught.value.field, caught.value.expected, caught.value.got) == ("concurrency", "1 to 64", str(bad))
    with pytest.raises(TypeError):
        client.delete_many(sim.desktop_ids, concurrency=True)
    assert [o.status for o in client.delete_many(sim.desktop_ids, concurrency=64)] == ["ACCEPTED"]


def test_a_script_that_exits_holding_a_run_records_its_batches_in_flight(tmp_path: Path) -> None:
    import subprocess
    import sys

    journal = tmp_path / "run.jsonl"
    script = (
        "import sys, hwc_workspace as hw\n"
        f"state = {{'desktops': [{{'id': f'd-{{i:04}}', 'sub_resources': ['DESKTOP_SHARER']}} for i in range({FLEET})]}}\n"
        f"sim = hw.Simulator(state=state, latency={LATENCY}, job_duration=0)\n"
        "run = sim.client().delete_many(sim.desktop_ids, concurrency=3, journal=sys.argv[1])\n"
        "assert next(run).status == 'ACCEPTED'\n"
        "# exits here, the run still held: the interpreter's exit stops it\n"
    )
    env = {**os.environ, "HWC_METADATA_ENDPOINT": "off"}
    subprocess.run([sys.executable, "-c", script, str(journal)], check=True, timeout=60, env=env)
    sent, open_ = unanswered(journal)
    assert not open_ and 2 <= len(sent) < FLEET // 100
