"""Configuration problems: ConfigurationError with a kind and hints, before anything is sent."""

from __future__ import annotations

from typing import Any, Dict

import pytest

import hwc_workspace as hw


@pytest.mark.usefixtures("no_credentials")
def test_missing_credentials() -> None:
    with pytest.raises(hw.ConfigurationError) as info:
        hw.Client(region="cn-north-4")
    e = info.value
    assert e.kind == "missing_credentials"
    assert e.hints and all(isinstance(h, str) for h in e.hints)
    assert "HUAWEICLOUD_SDK_AK" in str(e)
    assert "hint: " in str(e)
    with pytest.raises(hw.ConfigurationError):
        hw.AsyncClient(region="cn-north-4")


@pytest.mark.usefixtures("no_credentials")
def test_half_of_the_credentials() -> None:
    with pytest.raises(hw.ConfigurationError) as info:
        hw.Client(ak="AK", region="cn-north-4")
    assert info.value.kind == "invalid_credentials"
    with pytest.raises(hw.ConfigurationError):
        hw.Client(security_token="T", region="cn-north-4")


@pytest.mark.usefixtures("no_credentials")
def test_missing_project_id() -> None:
    # With a region, the project id is looked up through IAM by the first call; without one
    # (an endpoint that names none) nothing can find it.
    with pytest.raises(hw.ConfigurationError) as info:
        hw.Client(ak="AK", sk="SK", endpoint="http://127.0.0.1:1")
    assert info.value.kind == "missing_project_id"
    assert any("region" in hint for hint in info.value.hints)
    assert hw.Client(ak="AK", sk="SK", region="cn-north-4").project_id is None


def test_region_and_endpoint_problems() -> None:
    creds: Dict[str, Any] = {"ak": "AK", "sk": "SK", "project_id": "p1"}
    with pytest.raises(hw.ConfigurationError) as info:
        hw.Client(**creds, region="xx-nowhere-1")
    assert info.value.kind == "unknown_region"
    with pytest.raises(hw.ConfigurationError) as info:
        hw.Client(**creds)
    assert info.value.kind == "missing_endpoint"
    with pytest.raises(hw.ConfigurationError) as info:
        hw.Client(**creds, endpoint="ftp://example.com")
    assert info.value.kind == "invalid_endpoint"


def test_region_resolves_to_its_endpoint() -> None:
    client = hw.Client(ak="AK", sk="SK", project_id="p1", region="cn-north-4")
    assert client.endpoint == "https://workspace.cn-north-4.myhuaweicloud.com"


def test_ca_certificate_problems(tmp_path) -> None:  # type: ignore[no-untyped-def]
    creds: Dict[str, Any] = {"ak": "AK", "sk": "SK", "project_id": "p1", "region": "cn-north-4"}
    with pytest.raises(hw.ConfigurationError) as info:
        hw.Client(**creds, ca_cert=tmp_path / "missing.pem")
    assert info.value.kind == "ca_certificate"
    with pytest.raises(hw.ConfigurationError) as info:
        hw.Client(**creds, ca_cert=b"not a certificate")
    assert info.value.kind == "ca_certificate"
    with pytest.raises(hw.ConfigurationError):
        hw.Client(**creds, ca_cert=b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
