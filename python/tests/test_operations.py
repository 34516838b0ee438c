"""The operations as the spec describes them: a method of Client and AsyncClient per operation,
keyword arguments by the spec's names, help() from the spec's words, dry_run on every one, and
the default the spec gives a required field."""

from __future__ import annotations

import asyncio
import inspect

import pytest

import hwc_workspace as hw

OPERATIONS = {
    "delete_desktop_sub_resources": ["desktop_ids", "sub_resource_type", "order_id"],
    "show_job": ["job_id"],
}


@pytest.mark.parametrize("cls", [hw.Client, hw.AsyncClient])
@pytest.mark.parametrize("method,fields", sorted(OPERATIONS.items()))
def test_each_operation_is_a_method_whose_help_explains_it(cls: type, method: str, fields: list[str]) -> None:
    function = getattr(cls, method)
    parameters = inspect.signature(function).parameters
    assert list(parameters)[1:] == [*fields, "dry_run"]
    assert parameters["dry_run"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["dry_run"].default is False
    doc = function.__doc__ or ""
    for field in fields:
        assert f"\n{field} : " in doc, (field, doc)
    for section in ("Parameters", "Returns", "Raises", "InvalidRequestError", "SignedRequest"):
        assert section in doc, (section, doc)
    if cls is hw.AsyncClient:
        assert "coroutine" in doc.splitlines()[0]


def test_help_carries_the_spec_descriptions() -> None:
    doc = hw.Client.delete_desktop_sub_resources.__doc__ or ""
    assert "Desktop IDs." in doc and "Order ID." in doc
    assert "POST /v2/{project_id}/desktop/delete-sub-resources" in doc
    assert "Known values: DESKTOP_SHARER" in doc


def test_a_required_field_with_a_default_may_be_left_out(sim: hw.Simulator, client: hw.Client) -> None:
    client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    client.delete_desktop_sub_resources(sim.desktop_ids[1:2], sub_resource_type=None)
    bodies = [job.body for job in sim.jobs()]
    assert [b["sub_resource_type"] for b in bodies] == ["DESKTOP_SHARER", "DESKTOP_SHARER"]
    assert all("order_id" not in b for b in bodies), bodies


def test_each_keyword_reaches_the_service(sim: hw.Simulator, client: hw.Client) -> None:
    client.delete_desktop_sub_resources(desktop_ids=sim.desktop_ids[:1], sub_resource_type="DESKTOP_SHARER", order_id="o-7")
    (job,) = sim.jobs()
    assert job.body == {"desktop_ids": sim.desktop_ids[:1], "sub_resource_type": "DESKTOP_SHARER", "order_id": "o-7"}


def test_a_value_beyond_the_spec_names_the_field_and_sends_nothing(sim: hw.Simulator, client: hw.Client) -> None:
    with pytest.raises(hw.InvalidRequestError) as raised:
        client.delete_desktop_sub_resources(sim.desktop_ids[:1], order_id="o" * 256)
    assert raised.value.field == "order_id" and "255" in str(raised.value)
    with pytest.raises(hw.InvalidRequestError) as raised:
        client.delete_desktop_sub_resources([f"d-{i}" for i in range(101)])
    assert raised.value.field == "desktop_ids"
    with pytest.raises(TypeError, match="job_id must be str, got int"):
        client.show_job(7)  # type: ignore[call-overload]
    assert sim.jobs() == []


def test_dry_run_signs_every_operation_and_sends_nothing(sim: hw.Simulator, client: hw.Client) -> None:
    signed = client.delete_desktop_sub_resources(sim.desktop_ids[:1], order_id="o-1", dry_run=True)
    assert isinstance(signed, hw.SignedRequest)
    assert signed.method == "POST"
    assert signed.url == f"{sim.endpoint}/v2/{sim.project_id}/desktop/delete-sub-resources"
    assert b'"order_id":"o-1"' in signed.body and b"DESKTOP_SHARER" in signed.body
    headers = dict(signed.headers)
    authorization = headers["authorization"]
    assert authorization.startswith("SDK-HMAC-SHA256 Access=") and sim.ak in authorization
    assert sim.sk not in repr(signed) and sim.sk not in str(signed.headers)
    assert "Signature=" in authorization and "****" in authorization.split("Signature=")[1], authorization
    shown = client.show_job("job-1", dry_run=True)
    assert shown.method == "GET" and shown.url.endswith("/workspace-jobs/job-1") and shown.body == b""
    assert sim.jobs() == [] and sim.request_count == 0


def test_the_async_client_has_the_same_operations(sim: hw.Simulator) -> None:
    async def main() -> None:
        async with hw.AsyncClient(
            ak=sim.ak, sk=sim.sk, project_id=sim.project_id, endpoint=sim.endpoint
        ) as client:
            signed = await client.show_job("job-2", dry_run=True)
            assert isinstance(signed, hw.SignedRequest) and signed.method == "GET"
            deleted = await client.delete_desktop_sub_resources(sim.desktop_ids[:1], order_id="o-2")
            job = await client.show_job(deleted.job_id)
            assert job.id == deleted.job_id
            with pytest.raises(hw.InvalidRequestError):
                await client.delete_desktop_sub_resources([])

    asyncio.run(main())
    assert [job.body.get("order_id") for job in sim.jobs()] == ["o-2"]


def test_delete_many_takes_the_same_fields_by_the_spec_names(sim: hw.Simulator, client: hw.Client) -> None:
    with pytest.raises(TypeError, match="DeleteDesktopSubResources has no argument no_such_field"):
        client.delete_many(sim.desktop_ids[:2], no_such_field=1)
    with pytest.raises(TypeError, match="project_id"):
        client.delete_many(sim.desktop_ids[:2], project_id="p")
    assert sim.jobs() == []
    with client.delete_many(sim.desktop_ids[:2], order_id="o-9") as run:
        assert [outcome.job_id is not None for outcome in run] == [True]
    assert [job.body.get("order_id") for job in sim.jobs()] == ["o-9"]
