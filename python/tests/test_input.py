"""Bad arguments: a wrong type is a TypeError naming the argument; a wrong value is an
InvalidRequestError (also a ValueError) naming the field; in both cases nothing is sent."""

from __future__ import annotations

from typing import Any, Dict

import pytest

import hwc_workspace as hw


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"desktop_ids": "d-1"}, "desktop_ids must be a list of str, got a single str"),
        ({"desktop_ids": 7}, "desktop_ids must be a list of str, got int"),
        ({"desktop_ids": None}, "desktop_ids must be a list of str, got NoneType"),
        ({"desktop_ids": {"d-1"}}, "desktop_ids must be a list of str, got set"),
        ({"desktop_ids": ["d-1", 2]}, "desktop_ids must be a list of str, got int at desktop_ids[1]"),
        ({"desktop_ids": ["d-1"], "sub_resource_type": 1}, "sub_resource_type must be str, got int"),
        ({"desktop_ids": ["d-1"], "order_id": b"o"}, "order_id must be str or None, got bytes"),
    ],
)
def test_wrong_types_are_type_errors(sim: hw.Simulator, client: hw.Client, kwargs: Dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError) as info:
        client.delete_desktop_sub_resources(**kwargs)
    assert str(info.value).startswith(message)
    assert sim.request_count == 0


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"desktop_ids": []}, "desktop_ids"),
        ({"desktop_ids": [f"d-{i}" for i in range(101)]}, "desktop_ids"),
        ({"desktop_ids": ["d-1", "  "]}, "desktop_ids[1]"),
        ({"desktop_ids": ["x" * 256]}, "desktop_ids[0]"),
        ({"desktop_ids": ["d-1"], "sub_resource_type": ""}, "sub_resource_type"),
        ({"desktop_ids": ["d-1"], "sub_resource_type": "T" * 256}, "sub_resource_type"),
        ({"desktop_ids": ["d-1"], "order_id": "o" * 256}, "order_id"),
    ],
)
def test_wrong_values_name_the_field(sim: hw.Simulator, client: hw.Client, kwargs: Dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError) as info:
        client.delete_desktop_sub_resources(**kwargs)
    e = info.value
    assert type(e) is hw.InvalidRequestError
    assert e.field == field
    assert e.expected and e.got
    assert field in str(e)
    assert sim.request_count == 0


def test_limits_are_inclusive(sim: hw.Simulator, client: hw.Client) -> None:
    with pytest.raises(hw.NotFoundError):  # valid input: sent, and the simulator knows none of them
        client.delete_desktop_sub_resources([f"d-{i}" for i in range(100)])
    with pytest.raises(hw.NotFoundError):
        client.delete_desktop_sub_resources(["é" * 255], order_id="o" * 255)
    assert sim.request_count == 2


def test_arguments_are_keyword_only(sim: hw.Simulator, client: hw.Client) -> None:
    with pytest.raises(TypeError):
        client.delete_desktop_sub_resources(sim.desktop_ids[:1], "DESKTOP_SHARER")  # type: ignore[misc]
    with pytest.raises(TypeError):
        hw.Client("ak", "sk")  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"timeout": "30"}, "timeout must be a number of seconds, got str"),
        ({"timeout": True}, "timeout must be a number of seconds, got bool"),
        ({"retries": 1.5}, "retries must be int, got float"),
        ({"retries": False}, "retries must be int, got bool"),
        ({"endpoint": 8080}, "endpoint must be str or None, got int"),
        ({"ak": 1, "sk": "s"}, "ak must be str or None, got int"),
        ({"ca_cert": 3.0}, "ca_cert must be a path (str or os.PathLike) or PEM bytes, got float"),
    ],
)
def test_client_argument_types(sim: hw.Simulator, kwargs: Dict[str, Any], message: str) -> None:
    base = {"ak": sim.ak, "sk": sim.sk, "project_id": sim.project_id, "endpoint": sim.endpoint}
    with pytest.raises(TypeError) as info:
        hw.Client(**{**base, **kwargs})
    assert str(info.value) == message


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1.0}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": float("inf")}, "timeout"),
        ({"connect_timeout": 0}, "connect_timeout"),
        ({"retries": -1}, "retries"),
        ({"retries": 11}, "retries"),
        ({"project_id": "a/b"}, "project_id"),
    ],
)
def test_client_argument_values(sim: hw.Simulator, kwargs: Dict[str, Any], field: str) -> None:
    base = {"ak": sim.ak, "sk": sim.sk, "project_id": sim.project_id, "endpoint": sim.endpoint}
    with pytest.raises(hw.InvalidRequestError) as info:
        hw.Client(**{**base, **kwargs})
    assert info.value.field == field


def test_simulator_argument_checks(sim: hw.Simulator) -> None:
    with pytest.raises(ValueError, match="unknown fault 'boom'"):
        sim.fail_next("boom")
    with pytest.raises(TypeError):
        sim.fail_next(500)  # type: ignore[arg-type]
    with pytest.raises(hw.InvalidRequestError):
        sim.set_latency(-1)
    with pytest.raises(TypeError):
        hw.Simulator(latency="1")  # type: ignore[arg-type]
