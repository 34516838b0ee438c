"""Successful calls and what the simulator recorded."""

from __future__ import annotations

import datetime

import hwc_workspace as hw


def test_delete_returns_job_and_request_id(sim: hw.Simulator, client: hw.Client) -> None:
    deleted = client.delete_desktop_sub_resources(sim.desktop_ids[:2], sub_resource_type="DESKTOP_SHARER")
    assert isinstance(deleted, hw.Deleted)
    assert deleted.job_id
    assert deleted.request_id and len(deleted.request_id) == 32
    [job] = sim.jobs()
    assert job.job_id == deleted.job_id
    assert job.request_id == deleted.request_id
    assert job.desktop_ids == sim.desktop_ids[:2]
    assert job.removed_from == sim.desktop_ids[:2]
    assert job.sub_resource_type == "DESKTOP_SHARER"
    assert job.order_id is None
    assert job.access_key == sim.ak
    assert job.created_at.tzinfo is not None
    assert abs((datetime.datetime.now(datetime.timezone.utc) - job.created_at).total_seconds()) < 60
    assert sim.desktops()[sim.desktop_ids[0]] == []


def test_defaults_and_order_id(sim: hw.Simulator, client: hw.Client) -> None:
    client.delete_desktop_sub_resources((sim.desktop_ids[0],), order_id="order-1")
    [job] = sim.jobs()
    assert job.sub_resource_type == "DESKTOP_SHARER"
    assert job.order_id == "order-1"


def test_repeated_deletion_succeeds_and_removes_nothing(sim: hw.Simulator, client: hw.Client) -> None:
    first = client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    second = client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    assert first.job_id != second.job_id
    assert [job.removed_from for job in sim.jobs()] == [sim.desktop_ids[:1], []]


def test_results_compare_and_show_their_fields() -> None:
    a = hw.Deleted("job-1", "req-1")
    assert a == hw.Deleted("job-1", request_id="req-1")
    assert a != hw.Deleted("job-2")
    assert len({a, hw.Deleted("job-1", "req-1")}) == 1
    assert repr(a) == "Deleted(job_id='job-1', request_id='req-1')"
    assert repr(hw.Deleted("j")) == "Deleted(job_id='j', request_id=None)"


def test_simulator_exposes_its_demo_account(sim: hw.Simulator) -> None:
    assert sim.endpoint.startswith("http://127.0.0.1:")
    assert sim.ak and sim.sk and sim.project_id
    assert len(sim.desktop_ids) == 5
    desktops = sim.desktops()
    assert all(desktops[d] == ["DESKTOP_SHARER"] for d in sim.desktop_ids)
    assert any(subs == [] for subs in desktops.values())
    assert sim.request_count == 0
    assert repr(sim).startswith("<hwc_workspace.Simulator endpoint='http://127.0.0.1:")


def test_client_from_explicit_arguments(sim: hw.Simulator) -> None:
    with hw.Client(ak=sim.ak, sk=sim.sk, project_id=sim.project_id, endpoint=sim.endpoint, timeout=5, retries=1) as client:
        assert client.endpoint == sim.endpoint
        assert client.project_id == sim.project_id
        assert client.ak == sim.ak
        assert client.delete_desktop_sub_resources(sim.desktop_ids[:1]).job_id


def test_closed_client_and_simulator(sim: hw.Simulator) -> None:
    client = sim.client()
    client.close()
    try:
        client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    except RuntimeError as e:
        assert "closed" in str(e)
    else:
        raise AssertionError("a closed client must refuse calls")
    sim.close()
    sim.close()
    try:
        sim.jobs()
    except RuntimeError as e:
        assert "closed" in str(e)
    else:
        raise AssertionError("a closed simulator must refuse calls")


def test_credentials_from_environment(sim: hw.Simulator, monkeypatch, no_credentials) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", sim.ak)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", sim.sk)
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", sim.project_id)
    client = hw.Client(endpoint=sim.endpoint)
    assert client.ak == sim.ak
    assert client.delete_desktop_sub_resources(sim.desktop_ids[:1]).job_id


def test_credentials_from_file(sim: hw.Simulator, tmp_path, monkeypatch, no_credentials) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    (home / ".huaweicloud").mkdir(parents=True)
    path = home / ".huaweicloud" / "credentials"
    path.write_text(f"[basic]\nak = {sim.ak}\nsk = {sim.sk}\nproject_id = {sim.project_id}\n")
    path.chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    client = hw.Client(endpoint=sim.endpoint)
    assert client.delete_desktop_sub_resources(sim.desktop_ids[:1]).job_id
