"""Jobs: show_job and wait_job, sync and asyncio, against the simulator: success, a failed
sub-job, a wait that times out, and an unknown job."""

from __future__ import annotations

import asyncio

import pytest

import hwc_workspace as hw


def test_wait_job_returns_the_final_job_with_one_sub_job_per_desktop() -> None:
    with hw.Simulator(job_duration=0.2) as sim:
        client = sim.client()
        ids = sim.desktop_ids[:2]
        deleted = client.delete_desktop_sub_resources(ids, sub_resource_type="DESKTOP_SHARER")
        first = client.show_job(deleted.job_id)
        assert isinstance(first, hw.Job)
        assert first.id == deleted.job_id
        assert first.status in ("WAITING", "RUNNING", "SUCCESS")
        job = client.wait_job(deleted.job_id, timeout=10, poll_interval=0.05)
        assert job.status == "SUCCESS"
        assert [sub.desktop_id for sub in job.sub_jobs] == ids
        assert all(isinstance(sub, hw.SubJob) and sub.status == "SUCCESS" for sub in job.sub_jobs)
        assert job.sub_jobs_total == 2 and job.failed_sub_jobs == []
        assert "SUCCESS" in repr(job)


def test_a_failed_sub_job_raises_job_failed_error_naming_the_desktop() -> None:
    with hw.Simulator(job_duration=0) as sim:
        failing = sim.desktop_ids[1]
        sim.fail_sub_jobs([failing])
        client = sim.client()
        deleted = client.delete_desktop_sub_resources(sim.desktop_ids[:2], sub_resource_type="DESKTOP_SHARER")
        with pytest.raises(hw.JobFailedError) as raised:
            client.wait_job(deleted.job_id, timeout=10, poll_interval=0.05)
        error = raised.value
        assert isinstance(error, hw.ApiError) and isinstance(error, hw.WorkspaceError)
        assert error.failed_desktop_ids == [failing]
        assert error.job.status == "FAILED"
        [failed] = error.job.failed_sub_jobs
        assert failed.desktop_id == failing and failed.fail_reason and failed.error_code
        assert error.error_code == error.job.job_error_code
        assert failing in str(error)
        assert sim.jobs()[0].failed_desktops == [failing]


def test_waiting_can_time_out_with_the_last_status() -> None:
    with hw.Simulator(job_duration=120) as sim:
        client = sim.client()
        deleted = client.delete_desktop_sub_resources(sim.desktop_ids[:1], sub_resource_type="DESKTOP_SHARER")
        with pytest.raises(hw.JobTimeoutError) as raised:
            client.wait_job(deleted.job_id, timeout=0.3, poll_interval=0.05)
        assert isinstance(raised.value, TimeoutError)
        assert raised.value.job_id == deleted.job_id
        assert raised.value.last_status == "WAITING"


def test_an_unknown_job_is_not_found() -> None:
    with hw.Simulator() as sim:
        client = sim.client()
        with pytest.raises(hw.NotFoundError) as raised:
            client.show_job("no-such-job")
        assert raised.value.status_code == 404
        assert "no-such-job" in str(raised.value)
        with pytest.raises(hw.NotFoundError):
            client.wait_job("no-such-job", timeout=5)
        with pytest.raises(TypeError):
            client.show_job(123)  # type: ignore[call-overload]
        with pytest.raises(hw.InvalidRequestError):
            client.wait_job("x", timeout=-1)


def test_async_show_and_wait() -> None:
    async def main(sim: hw.Simulator) -> None:
        async with sim.async_client() as client:
            deleted = await client.delete_desktop_sub_resources(sim.desktop_ids[:1], sub_resource_type="DESKTOP_SHARER")
            job = await client.wait_job(deleted.job_id, timeout=10, poll_interval=0.05)
            assert job.status == "SUCCESS"
            again = await client.show_job(deleted.job_id)
            assert again.id == job.id and again.status == "SUCCESS"
            with pytest.raises(hw.NotFoundError):
                await client.show_job("no-such-job")
            sim.fail_sub_jobs(sim.desktop_ids[1:2])
            failed = await client.delete_desktop_sub_resources(sim.desktop_ids[1:2], sub_resource_type="DESKTOP_SHARER")
            with pytest.raises(hw.JobFailedError):
                await client.wait_job(failed.job_id, timeout=10, poll_interval=0.05)

    with hw.Simulator(job_duration=0.1) as sim:
        asyncio.run(main(sim))
