"""Bad arguments: a wrong type is a TypeError naming the argument; a wrong value is an
InvalidRequestError (also a ValueError) naming the field; in both cases nothing is sent."""

from __future__ import annotations

import io
import pathlib
from typing import Any, Dict, List, Optional, Tuple, Union

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


def test_client_settings_are_refused_by_the_cores_builder(sim: hw.Simulator) -> None:
    # Issue 23: the values pass through to the core's builder, which refuses them naming the
    # setting; its hint spells the setting as this package's keyword argument (the CLI says
    # `--retries N`).
    base: Dict[str, Any] = {"ak": sim.ak, "sk": sim.sk, "project_id": sim.project_id, "endpoint": sim.endpoint}
    cases: List[Tuple[Dict[str, Any], Optional[str]]] = [
        ({"retries": 11}, "retries=N takes an int from 0 to 10"),
        ({"retries": 2**40}, None),
        ({"timeout": 0.0001}, "timeout=SECONDS takes a number of seconds from 0.001 to 86400"),
        ({"connect_timeout": 86401}, "connect_timeout=SECONDS takes a number of seconds from 0.001 to 86400"),
    ]
    for kwargs, hint in cases:
        with pytest.raises(hw.InvalidRequestError) as info:
            hw.Client(**{**base, **kwargs})
        assert info.value.field == next(iter(kwargs)), info.value
        assert info.value.expected in ("an int from 0 to 10", "a number of seconds from 0.001 to 86400")
        if hint is not None:
            assert info.value.hints == [hint]
    assert hw.Client(**{**base, "retries": 10, "timeout": 0.001}).endpoint == sim.endpoint


def test_simulator_argument_checks(sim: hw.Simulator) -> None:
    with pytest.raises(ValueError, match="unknown fault 'boom'"):
        sim.fail_next("boom")
    with pytest.raises(TypeError):
        sim.fail_next(500)  # type: ignore[arg-type]
    with pytest.raises(hw.InvalidRequestError):
        sim.set_latency(-1)
    with pytest.raises(TypeError):
        hw.Simulator(latency="1")  # type: ignore[arg-type]


def test_read_desktop_ids_follows_the_command_lines_rules(tmp_path: pathlib.Path) -> None:
    # The core's one reader (`hwc_workspace::ids`), as `--desktop-ids-from` uses it: the same
    # file gives the same ids on both fronts.
    good = tmp_path / "good"
    good.write_text("\ufeffd-1\n# " + "c" * 10_000 + "\n\n  d-2  \r\nd-1\n", encoding="utf-8")
    assert hw.read_desktop_ids(good) == ["d-1", "d-2", "d-1"]
    assert hw.read_desktop_ids(str(good)) == ["d-1", "d-2", "d-1"]
    with open(good, encoding="utf-8-sig") as text, open(good, "rb") as binary:
        assert hw.read_desktop_ids(text) == hw.read_desktop_ids(binary) == ["d-1", "d-2", "d-1"]
    assert hw.read_desktop_ids(io.StringIO("a\n#b\nc")) == ["a", "c"]

    latin1 = tmp_path / "latin1"
    latin1.write_bytes(b"d-1\nd-2\n\xe9t\xe9\n")
    long_line = tmp_path / "long"
    long_line.write_text("d-1\n" + "x" * 5000 + "\n")
    refused: List[Tuple[Union[str, pathlib.Path], int]] = [(latin1, 3), (long_line, 2), ("/dev/zero", 1)]
    for source, line in refused:
        with pytest.raises(hw.InvalidRequestError) as info:
            hw.read_desktop_ids(source)
        assert info.value.line == line, info.value
        assert f"line {line} of the desktop_ids from {source}" in str(info.value)
    with pytest.raises(hw.InvalidRequestError, match="missing"):
        hw.read_desktop_ids(tmp_path / "missing")
    with pytest.raises(TypeError, match="source must be a path"):
        hw.read_desktop_ids(3)  # type: ignore[arg-type]
