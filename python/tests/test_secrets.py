"""Secrets (the secret key and the security token) never show in a repr, an exception's
text or attributes, or a log record, even at DEBUG."""

from __future__ import annotations

import asyncio
import logging

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
        hw.Client(ak="AK", sk=SECRET, region="cn-north-4")  # no project id
    assert SECRET not in texts_of(info.value)
    with pytest.raises(hw.ConfigurationError) as info:
        hw.Client(sk=SECRET, region="cn-north-4")  # half of the credentials
    assert SECRET not in texts_of(info.value)
