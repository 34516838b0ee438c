"""What a run says happened to the desktops, in Python: ``wait_job`` and ``delete_many``'s
account read a job by the core's one rule (never better than its reports together), a
journal is held by one run at a time, a permanently throttled batch is given up, and refused
batches are sent again only when asked."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hwc_workspace as hw

CONTRADICTIONS = [
    "success-over-failed-sub-jobs",
    "failed-over-successful-sub-jobs",
    "no-sub-jobs",
    "conflicting-sub-jobs",
]


def _simulator_reporting(kind: str) -> hw.Simulator:
    sim = hw.Simulator()
    if kind == "success-over-failed-sub-jobs":
        sim.fail_sub_jobs(sim.desktop_ids[:2])
    sim.report_jobs_as(kind)
    return sim


@pytest.mark.parametrize("kind", CONTRADICTIONS)
def test_wait_job_raises_when_the_reports_leave_a_desktop_unknown(kind: str) -> None:
    with _simulator_reporting(kind) as sim, sim.client() as client:
        ids = sim.desktop_ids[:2]
        deleted = client.delete_desktop_sub_resources(desktop_ids=ids, sub_resource_type="DESKTOP_SHARER")
        with pytest.raises(hw.JobOutcomeUnknownError) as raised:
            client.wait_job(deleted.job_id, timeout=20, poll_interval=0.01)
        error = raised.value
        assert isinstance(error, hw.WorkspaceError)
        assert error.job is not None and error.job.id == deleted.job_id
        assert "not known" in str(error)
        if kind != "no-sub-jobs":
            assert sorted(error.unknown_desktop_ids) == sorted(ids)
            assert all(error.reasons[i] for i in ids)


def test_wait_job_of_an_answer_about_another_job_is_undocumented() -> None:
    with _simulator_reporting("another-job") as sim, sim.client() as client:
        deleted = client.delete_desktop_sub_resources(desktop_ids=sim.desktop_ids[:1], sub_resource_type="DESKTOP_SHARER")
        with pytest.raises(hw.UndecodableResponseError):
            client.wait_job(deleted.job_id, timeout=20, poll_interval=0.01)


@pytest.mark.parametrize("kind", CONTRADICTIONS + ["another-job", "unusable-job-id"])
def test_the_account_is_never_better_than_the_reports(kind: str) -> None:
    with _simulator_reporting(kind) as sim, sim.client() as client:
        ids = sim.desktop_ids[:3]
        run = client.delete_many(ids, wait=True, wait_timeout=20)
        outcomes = list(run)
        assert [o.verdict for o in outcomes] == ["UNKNOWN"]
        account = run.account()
        assert [d.desktop_id for d in account] == ids
        # Only the first two sub-jobs fail under "success-over-failed-sub-jobs": the third
        # desktop's reports agree, and it succeeded.
        agreeing = ids[2:] if kind == "success-over-failed-sub-jobs" else []
        for desktop in account:
            if desktop.desktop_id in agreeing:
                assert desktop.status == "SUCCESS", desktop
            else:
                assert desktop.status == "UNKNOWN" and desktop.fail_reason, desktop


def test_a_failed_desktop_fails_the_verdict_and_a_resume_keeps_it(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    with hw.Simulator() as sim, sim.client() as client:
        ids = sim.desktop_ids[:2]
        sim.fail_sub_jobs(ids[1:])
        first = list(client.delete_many(ids, wait=True, wait_timeout=20, journal=journal))
        assert [o.verdict for o in first] == ["FAILED"]
        again = client.delete_many(ids, wait=True, wait_timeout=20, journal=journal)
        resumed = list(again)
        assert resumed[0].resumed and resumed[0].verdict == "FAILED"
        assert [d.status for d in again.account()] == ["SUCCESS", "FAILED"]
        assert len(sim.jobs()) == 1


def test_a_journal_is_held_by_one_run_in_every_process(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    with hw.Simulator(latency=0.3) as sim, sim.client() as client:
        ids = sim.desktop_ids
        with client.delete_many(ids, journal=journal) as first:
            next(first)
            # The same process: refused before anything is sent, naming this process.
            with pytest.raises(hw.ConfigurationError) as raised:
                client.delete_many(ids, journal=journal)
            assert "held by" in str(raised.value) and "one run per journal" in str(raised.value)
            # Another process: refused too, naming who holds it.
            script = textwrap.dedent(
                f"""
                import hwc_workspace as hw, json, sys
                client = hw.Client(endpoint={sim.endpoint!r}, ak={sim.ak!r}, sk={sim.sk!r},
                                   project_id={sim.project_id!r})
                try:
                    client.delete_many({json.dumps(ids)}, journal={str(journal)!r})
                except hw.ConfigurationError as e:
                    print(str(e))
                    sys.exit(7)
                """
            )
            other = subprocess.run(
                [sys.executable, "-c", script],
                capture_output=True,
                text=True,
                timeout=60,
                env={"HWC_METADATA_ENDPOINT": "off", "PATH": "/usr/bin:/bin"},
            )
            assert other.returncode == 7, other.stderr
            assert "held by the run of process" in other.stdout, other.stdout
            for _ in first:
                pass
        jobs = len(sim.jobs())
        # Once it ended, the journal resumes: nothing is sent again.
        assert all(o.resumed for o in client.delete_many(ids, journal=journal))
        assert len(sim.jobs()) == jobs


def test_a_permanently_throttled_batch_is_given_up_and_the_rest_not_sent() -> None:
    with hw.Simulator() as sim, sim.client() as client:
        sim.fail_next(*["too_many_requests"] * 20)
        run = client.delete_many(sim.desktop_ids, concurrency=1, throttle_timeout=1.5)
        outcomes = list(run)
        assert outcomes[0].status == "REJECTED" and isinstance(outcomes[0].error, hw.ApiError)
        assert outcomes[0].verdict == "FAILED"
        assert all(o.status == "NOT_SENT" for o in outcomes[1:])
        assert sim.jobs() == []
        assert sim.request_count <= 4


def test_refused_batches_are_sent_again_only_when_asked(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    with hw.Simulator() as sim:
        ids = sim.desktop_ids[:2]
        with hw.Client(endpoint=sim.endpoint, ak=sim.ak, sk="wrong", project_id=sim.project_id) as wrong:
            assert [o.status for o in wrong.delete_many(ids, journal=journal)] == ["REJECTED"]
        with sim.client() as right:
            assert [o.resumed for o in right.delete_many(ids, journal=journal)] == [True]
            assert sim.jobs() == []
            assert [o.status for o in right.delete_many(ids, journal=journal, resend_refused=True)] == ["ACCEPTED"]
            assert len(sim.jobs()) == 1
