"""Configuration problems: ConfigurationError with a kind and hints, before anything is sent."""

from __future__ import annotations

import json
import subprocess
import sys
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


def _client_in_a_subprocess(env: Dict[str, str], **kwargs: Any) -> Dict[str, Any]:
    """Builds a Client in a child process bounded by a generous timeout: a native parse cannot
    be interrupted from Python, so a parser gone quadratic fails the test instead of hanging
    it. Returns the error's kind and message, or {"kind": None} when the client was built."""
    code = (
        "import json, sys\n"
        "import hwc_workspace as hw\n"
        "try:\n"
        f"    hw.Client(**{kwargs!r})\n"
        "    print(json.dumps({'kind': None}))\n"
        "except hw.ConfigurationError as e:\n"
        "    print(json.dumps({'kind': e.kind, 'message': str(e)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout)


def _clean_env(home: Any) -> Dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("HUAWEICLOUD_SDK_")}
    env.update(HOME=str(home), HWC_METADATA_ENDPOINT="off")
    return env


def test_a_regions_file_of_deep_nesting_is_refused_naming_the_file_and_the_limit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # 200 KB of this kept the parser busy for more than 30 s, with no way to interrupt it.
    path = tmp_path / "regions.yaml"
    path.write_text("WORKSPACE: " + "[" * (4 * 1024 * 1024 - 64))
    env = _clean_env(tmp_path)
    env["HUAWEICLOUD_SDK_REGIONS_FILE"] = str(path)
    got = _client_in_a_subprocess(env, ak="AK", sk="SK", project_id="p", region="cn-north-4")
    assert got["kind"] == "invalid_endpoint", got
    assert str(path) in got["message"] and "deeper than 64 levels" in got["message"], got
    # An alias bomb is refused the same way, before any expansion.
    path.write_text("a: &a [x, x, x]\nWORKSPACE: [" + "*a, " * 100_000 + "]\n")
    got = _client_in_a_subprocess(env, ak="AK", sk="SK", project_id="p", region="cn-north-4")
    assert got["kind"] == "invalid_endpoint" and "alias" in got["message"], got


def test_config_files_never_fall_through_by_format(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = _clean_env(tmp_path)
    (tmp_path / ".huaweicloud").mkdir()
    credentials = tmp_path / ".huaweicloud" / "credentials"
    # A BOM (as Windows editors write) is skipped: the file's keys are used.
    credentials.write_bytes("\ufeff[basic]\nak = AK\nsk = SK\n".encode())
    assert _client_in_a_subprocess(env, project_id="p", endpoint="http://127.0.0.1:9") == {"kind": None}
    # A section twice would mix two accounts' keys; a file without keys is not skipped.
    for text, named in [
        ("[basic]\nak = AK\n[BASIC]\nsk = OTHER\n", "[basic] twice: line 1 and line 3"),
        ("[default]\nak = AK\nsk = SK\n", "no [basic] or [basiccredentials] section"),
    ]:
        credentials.write_text(text)
        got = _client_in_a_subprocess(env, project_id="p", endpoint="http://127.0.0.1:9")
        assert got["kind"] == "invalid_credentials", got
        assert str(credentials) in got["message"] and named in got["message"], got
        assert "OTHER" not in got["message"]
    # Two spellings of the service in regions.yaml: neither is picked at random.
    credentials.write_text("[basic]\nak = AK\nsk = SK\n")
    (tmp_path / ".huaweicloud" / "regions.yaml").write_text(
        "WORKSPACE:\n  - id: cn-north-4\n    endpoint: https://a.example\n"
        "workspace:\n  - id: cn-north-4\n    endpoint: https://b.example\n"
    )
    got = _client_in_a_subprocess(env, project_id="p", region="cn-north-4")
    assert got["kind"] == "invalid_endpoint", got
    assert "`WORKSPACE:` (line 1)" in got["message"] and "`workspace:` (line 4)" in got["message"], got
