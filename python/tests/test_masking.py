"""Secrets stay masked whether or not the value that carries them parses: a proxy or endpoint
password holding `#`, `?`, `/`, `@`, `%`, a space or a comma, given as a keyword argument or
through the environment, never shows in an exception's text, repr, args or hints, or in the
client's repr. Every address is a closed loopback port; nothing is looked up or reached beyond
this machine."""

from __future__ import annotations

from typing import Callable, List

import pytest

import hwc_workspace as hw

MARK = "Zq9"
PASSWORDS: List[str] = [MARK + tail for tail in ("#ss", "/b", "?x", "@ss", "%41", "%zz", " s s", ",x", "#?/@% x")]
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def every_text(error: BaseException) -> str:
    parts = [str(error), repr(error), repr(error.args)]
    parts.extend(str(hint) for hint in getattr(error, "hints", None) or [])
    for name in ("endpoint", "message", "kind"):
        parts.append(repr(getattr(error, name, None)))
    return "\n".join(parts)


def assert_masked(what: str, make: Callable[[], hw.Client]) -> None:
    """Builds the client and, when that succeeds, makes one call: whatever fails must not
    show the password."""
    try:
        client = make()
    except hw.WorkspaceError as error:
        text = every_text(error)
    else:
        assert MARK not in repr(client), (what, repr(client))
        with pytest.raises(hw.WorkspaceError) as info:
            client.delete_desktop_sub_resources(["d-1"])
        text = every_text(info.value)
        client.close()
    assert MARK not in text, (what, text)


@pytest.mark.usefixtures("no_credentials")
@pytest.mark.parametrize("password", PASSWORDS)
def test_proxy_passwords_are_masked_from_the_keyword_and_every_variable(
    password: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for host in ("127.0.0.1:1", "[::1]:1", ""):
        url = f"http://alice:{password}@{host}"
        assert_masked(
            f"proxy={url!r}",
            lambda: hw.Client(ak="A", sk="S", project_id="p", endpoint="http://127.0.0.1:1", proxy=url, connect_timeout=0.5),
        )
        for variable in PROXY_VARIABLES:
            with monkeypatch.context() as m:
                m.setenv(variable, url)
                # Not loopback, so that the environment's proxy applies; reached only through it.
                assert_masked(
                    f"{variable}={url!r}",
                    lambda: hw.Client(
                        ak="A", sk="S", project_id="p", endpoint="http://workspace.masked.test:1", connect_timeout=0.5
                    ),
                )


@pytest.mark.usefixtures("no_credentials")
@pytest.mark.parametrize("password", PASSWORDS)
def test_endpoint_passwords_are_masked(password: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://alice:{password}@127.0.0.1:1"
    assert_masked("endpoint", lambda: hw.Client(ak="A", sk="S", project_id="p", endpoint=url))
    with monkeypatch.context() as m:
        m.setenv("HUAWEICLOUD_SDK_REGION_WORKSPACE_CN_NORTH_4", url)
        assert_masked("region override", lambda: hw.Client(ak="A", sk="S", project_id="p", region="cn-north-4"))
    with monkeypatch.context() as m:
        m.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", url)
        assert_masked("IAM endpoint", lambda: hw.Client(ak="A", sk="S", region="cn-north-4", endpoint="http://127.0.0.1:1"))
    assert_masked(
        "metadata_endpoint", lambda: hw.Client(project_id="p", endpoint="http://127.0.0.1:1", metadata_endpoint=url)
    )
    with monkeypatch.context() as m:
        m.setenv("HWC_METADATA_ENDPOINT", url)
        assert_masked("HWC_METADATA_ENDPOINT", lambda: hw.Client(project_id="p", endpoint="http://127.0.0.1:1"))
