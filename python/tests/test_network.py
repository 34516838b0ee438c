"""Credentials and networks over loopback: keys from the simulator's instance metadata
service, the project id from its IAM, a real forward proxy the test starts, the environment's
proxies never used for loopback, and environment values that are not UTF-8."""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
import time
from typing import Iterator, List, Optional, Tuple

import pytest

import hwc_workspace as hw


class ForwardProxy:
    """A forward proxy for plain-http requests in absolute form, one per connection, asking
    for basic credentials when given; it records (method, target, authorized)."""

    def __init__(self, upstream: Tuple[str, int], credentials: Optional[str] = None) -> None:
        self.upstream = upstream
        self.expected = None if credentials is None else "Basic " + base64.b64encode(credentials.encode()).decode()
        self.seen: List[Tuple[str, str, bool]] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        with client:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = [line.split(":", 1) for line in lines[1:]]
            auth = next((v.strip() for k, v in headers if k.lower() == "proxy-authorization"), None)
            authorized = self.expected is None or auth == self.expected
            self.seen.append((method, target, authorized))
            if not authorized:
                client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                return
            path = "/" + target.split("://", 1)[1].split("/", 1)[1]
            kept = [f"{k}:{v}" for k, v in headers if k.lower() not in ("proxy-authorization", "connection")]
            length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
            while len(rest) < length:
                rest += client.recv(65536)
            request = "\r\n".join([f"{method} {path} HTTP/1.1", *kept, "connection: close", "", ""]).encode() + rest
            with socket.create_connection(self.upstream) as upstream:
                upstream.sendall(request)
                while True:
                    chunk = upstream.recv(65536)
                    if not chunk:
                        break
                    client.sendall(chunk)

    def close(self) -> None:
        self.server.close()


def _port(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


@pytest.fixture
def proxy(sim: hw.Simulator) -> Iterator[ForwardProxy]:
    p = ForwardProxy(("127.0.0.1", _port(sim.endpoint)), credentials="alice:s3cret")
    yield p
    p.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.usefixtures("no_credentials")
def test_keys_from_the_instance_metadata_service(sim: hw.Simulator) -> None:
    client = hw.Client(endpoint=sim.endpoint, metadata_endpoint=sim.endpoint, project_id=sim.project_id)
    assert client.ak is None
    client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    assert client.ak is not None and client.ak.startswith("HPUATMP")
    assert client.ak in repr(client)


@pytest.mark.usefixtures("no_credentials")
def test_async_keys_from_the_instance_metadata_service(sim: hw.Simulator) -> None:
    async def main() -> Optional[str]:
        client = hw.AsyncClient(endpoint=sim.endpoint, metadata_endpoint=sim.endpoint, project_id=sim.project_id)
        await client.delete_desktop_sub_resources(sim.desktop_ids[:1])
        return client.ak

    ak = asyncio.run(main())
    assert ak is not None and ak.startswith("HPUATMP")


@pytest.mark.usefixtures("no_credentials")
def test_off_cloud_the_chain_says_what_it_tried_within_a_second_or_two() -> None:
    endpoint = "http://127.0.0.1:%d" % _closed_port()
    client = hw.Client(endpoint="http://127.0.0.1:1", project_id="p1", metadata_endpoint=endpoint)
    started = time.monotonic()
    with pytest.raises(hw.ConfigurationError) as info:
        client.show_job("j")
    assert time.monotonic() - started < 3
    assert info.value.kind == "missing_credentials"
    for tried in ("HUAWEICLOUD_SDK_AK", "credentials file", "no instance metadata service answered", endpoint):
        assert tried in str(info.value)


@pytest.mark.usefixtures("no_credentials")
def test_the_project_id_is_looked_up_through_iam(sim: hw.Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", sim.endpoint)
    client = hw.Client(ak=sim.ak, sk=sim.sk, region="cn-north-4", endpoint=sim.endpoint)
    assert client.project_id is None
    client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    assert client.project_id == sim.project_id


@pytest.mark.usefixtures("no_credentials")
def test_an_explicit_proxy_is_used_and_its_password_never_shown(sim: hw.Simulator, proxy: ForwardProxy) -> None:
    with_password = proxy.url.replace("http://", "http://alice:s3cret@")
    # Loopback, yet an explicit proxy is always used.
    client = hw.Client(ak=sim.ak, sk=sim.sk, project_id=sim.project_id, endpoint=sim.endpoint, proxy=with_password)
    client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    assert [(m, a) for m, _, a in proxy.seen] == [("POST", True)]
    assert "s3cret" not in repr(client)
    wrong = proxy.url.replace("http://", "http://alice:wr0ng@")
    client = hw.Client(ak=sim.ak, sk=sim.sk, project_id=sim.project_id, endpoint=sim.endpoint, proxy=wrong)
    with pytest.raises(hw.WorkspaceError) as info:
        client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    assert "wr0ng" not in str(info.value) and "wr0ng" not in repr(info.value)
    with pytest.raises(hw.ConfigurationError) as config:
        hw.Client(ak="A", sk="S", project_id="p", endpoint=sim.endpoint, proxy="ftp://u:s3cret@p:1")
    assert config.value.kind == "invalid_proxy" and "s3cret" not in str(config.value)


@pytest.mark.usefixtures("no_credentials")
def test_the_environments_proxy_is_never_used_for_loopback(
    sim: hw.Simulator, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(variable, proxy.url)
    with sim.client() as client:
        client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    client = hw.Client(ak=sim.ak, sk=sim.sk, project_id=sim.project_id, endpoint=sim.endpoint)
    client.delete_desktop_sub_resources(sim.desktop_ids[1:2])
    assert proxy.seen == []


@pytest.mark.usefixtures("no_credentials")
def test_a_variable_that_is_not_utf8_is_an_error_naming_it(
    sim: hw.Simulator, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # Another account's keys in the file: a chain that took the bad value for unset would use them.
    home = tmp_path / "home"
    (home / ".huaweicloud").mkdir(parents=True)
    (home / ".huaweicloud" / "credentials").write_text(f"[basic]\nak = {sim.ak}\nsk = {sim.sk}\n")
    monkeypatch.setenv("HOME", str(home))
    for variable in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_PROJECT_ID", "HTTPS_PROXY"):
        with monkeypatch.context() as m:
            # Encoded with surrogateescape: the bytes ff fe, which are not UTF-8.
            m.setenv(variable, "\udcff\udcfe")
            with pytest.raises(hw.ConfigurationError) as info:
                hw.Client(endpoint=sim.endpoint, project_id=sim.project_id if variable != "HUAWEICLOUD_SDK_PROJECT_ID" else None)
            assert info.value.kind == "invalid_environment", variable
            assert variable in str(info.value) and "UTF-8" in str(info.value)
