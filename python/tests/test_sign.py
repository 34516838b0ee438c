"""`sign_request` on every SDK-HMAC-SHA256 vector of the official signer, and a request
signed by it and sent by hand, which the simulator accepts."""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from pathlib import Path
from typing import Any, Dict, List

import pytest

import hwc_workspace as hw

VECTORS: List[Dict[str, Any]] = [
    v
    for v in json.loads((Path(__file__).resolve().parents[2] / "crates" / "hwc-sign" / "tests" / "data" / "sign_vectors.json").read_text(encoding="utf-8"))["vectors"]
    if v["algorithm"] == "SDK-HMAC-SHA256"
]


def from_latin1_view(value: str) -> str:
    """The official signer shows non-ASCII header values as their UTF-8 bytes decoded as
    Latin-1; undo that to compare with the text we return."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def test_there_are_vectors() -> None:
    assert len(VECTORS) >= 13


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_official_vector(vector: Dict[str, Any]) -> None:
    given, expected = vector["input"], vector["output"]
    headers = hw.sign_request(
        given["method"],
        expected["url"],
        given["headers"],
        given["body"],
        ak=vector["credentials"]["ak"],
        sk=vector["credentials"]["sk"],
    )
    assert isinstance(headers, dict)
    want = {name: from_latin1_view(value) for name, value in expected["headers_after_signing"].items()}
    assert list(headers.items()) == list(want.items())


def test_body_may_be_bytes_str_or_none() -> None:
    v = next(v for v in VECTORS if v["name"] == "op_basic_json")
    args = (v["input"]["method"], v["output"]["url"], v["input"]["headers"])
    creds = {"ak": v["credentials"]["ak"], "sk": v["credentials"]["sk"]}
    from_str = hw.sign_request(*args, v["input"]["body"], **creds)
    from_bytes = hw.sign_request(*args, v["input"]["body"].encode(), **creds)
    from_bytearray = hw.sign_request(*args, bytearray(v["input"]["body"].encode()), **creds)
    assert from_str == from_bytes == from_bytearray
    empty = next(v for v in VECTORS if v["name"] == "empty_body_post")
    assert hw.sign_request(*args, None, **creds)["Authorization"] == empty["output"]["authorization"]
    assert hw.sign_request(*args, b"", **creds)["Authorization"] == empty["output"]["authorization"]


def test_host_and_date_are_added() -> None:
    headers = hw.sign_request("GET", "https://example.com:8443/v1/x?b=2&a=1", {}, None, ak="AK", sk="SK")
    assert list(headers) == ["X-Sdk-Date", "Host", "Authorization"]
    assert headers["Host"] == "example.com:8443"
    assert re.fullmatch(r"\d{8}T\d{6}Z", headers["X-Sdk-Date"])
    assert headers["Authorization"].startswith("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=")
    assert hw.sign_request("GET", "https://example.com:443/", ak="AK", sk="SK")["Host"] == "example.com"


def test_query_parameters_are_signed() -> None:
    date = {"X-Sdk-Date": "20240102T030405Z"}
    base = hw.sign_request("GET", "https://h/p?a=1", date, ak="AK", sk="SK")["Authorization"]
    assert hw.sign_request("GET", "https://h/p?a=2", date, ak="AK", sk="SK")["Authorization"] != base
    # Order does not matter (the canonical query is sorted), encoding of the same value neither.
    assert hw.sign_request("GET", "https://h/p?b=%20&a=1", date, ak="AK", sk="SK") == hw.sign_request(
        "GET", "https://h/p?a=1&b=%20", date, ak="AK", sk="SK"
    )


def test_security_token_is_added_and_signed() -> None:
    v = next(v for v in VECTORS if v["name"] == "op_security_token")
    headers = dict(v["input"]["headers"])
    token = headers.pop("X-Security-Token")
    signed = hw.sign_request(
        "POST", v["output"]["url"], headers, v["input"]["body"], ak=v["credentials"]["ak"], sk=v["credentials"]["sk"], security_token=token
    )
    assert signed["X-Security-Token"] == token
    assert signed["Authorization"] == v["output"]["authorization"]


@pytest.mark.parametrize(
    "args,kwargs,error,match",
    [
        ((1, "https://h/"), {}, TypeError, "method must be str, got int"),
        (("GET", b"https://h/"), {}, TypeError, "url must be str, got bytes"),
        (("GET", "https://h/", {"A": 1}), {}, TypeError, "headers must be a mapping of str to str"),
        (("GET", "https://h/", [("A", "b")]), {}, TypeError, "headers must be a mapping"),
        (("GET", "https://h/", None, 3), {}, TypeError, "body must be bytes, str or None, got int"),
        (("GET", "https://h/"), {"sk": 1}, TypeError, "sk must be str, got int"),
        (("GET", "not a url"), {}, hw.InvalidRequestError, "url"),
        (("GET", "ftp://h/"), {}, hw.InvalidRequestError, "url"),
        (("G T", "https://h/"), {}, hw.InvalidRequestError, "method"),
        (("GET", "https://h/", {"X-Sdk-Date": "yesterday"}), {}, hw.InvalidRequestError, "X-Sdk-Date"),
        (("GET", "https://h/", {"X-A": "a\r\nX-B: b"}), {}, hw.InvalidRequestError, "line break"),
        (("GET", "https://h/"), {"ak": ""}, hw.InvalidRequestError, "ak"),
    ],
)
def test_bad_arguments(args: tuple, kwargs: Dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=re.escape(match)):
        hw.sign_request(*args, **{"ak": "AK", "sk": "SK", **kwargs})


def test_keys_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        hw.sign_request("GET", "https://h/", {}, None, "AK", "SK")  # type: ignore[misc]


def test_a_hand_made_request_signed_by_sign_request_is_accepted(sim: hw.Simulator) -> None:
    url = f"{sim.endpoint}/v2/{sim.project_id}/desktop/delete-sub-resources"
    body = json.dumps({"desktop_ids": sim.desktop_ids[:1], "sub_resource_type": "DESKTOP_SHARER"})
    headers = hw.sign_request(
        "POST", url, {"Content-Type": "application/json", "X-Project-Id": sim.project_id}, body, ak=sim.ak, sk=sim.sk
    )
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port)
    try:
        conn.request("POST", parsed.path, body=body.encode(), headers=headers)
        response = conn.getresponse()
        answer = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 200, answer
    assert [job.job_id for job in sim.jobs()] == [answer["job_id"]]
    # The same headers with another key's secret are refused.
    wrong = hw.sign_request("POST", url, {"Content-Type": "application/json", "X-Project-Id": sim.project_id}, body, ak=sim.ak, sk="wrong")
    assert wrong["Authorization"] != headers["Authorization"]
