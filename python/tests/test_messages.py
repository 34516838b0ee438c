"""What the package says when a setting or an answer is not what it should be: a timeout under
a millisecond is refused by the core's rule (`MIN_DURATION`), and a web page answering at the
metadata address (a captive portal's 403) is named for what it is, with every source tried."""

from __future__ import annotations

import socket
import threading
from typing import List

import pytest

import hwc_workspace as hw


@pytest.mark.parametrize("keyword", ["timeout", "connect_timeout"])
@pytest.mark.parametrize("seconds", [1e-9, 0.0009, 0, 86_400.5])
def test_a_timeout_outside_a_millisecond_to_a_day_is_refused(keyword: str, seconds: float) -> None:
    with pytest.raises(hw.InvalidRequestError) as caught:
        hw.Client(endpoint="http://127.0.0.1:1", ak="a", sk="s", project_id="p", **{keyword: seconds})
    assert caught.value.field == keyword
    assert "from 0.001 to 86400" in str(caught.value)


def test_the_shortest_timeout_is_accepted(sim: hw.Simulator) -> None:
    hw.Client(endpoint=sim.endpoint, ak=sim.ak, sk=sim.sk, project_id=sim.project_id, timeout=0.001).close()
    with sim.client() as client:
        with pytest.raises(hw.InvalidRequestError) as caught:
            client.wait_job("j", poll_interval=1e-9)
        assert caught.value.field == "poll_interval"


class Portal:
    """A loopback server answering every connection with a captive portal's 403 page."""

    PAGE = b"<html><head><title>Guest Wi-Fi: sign in</title></head><body>Access denied</body></html>"

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.endpoint = "http://127.0.0.1:%d" % self.server.getsockname()[1]
        self.connections: List[int] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                self.connections.append(1)
                conn.settimeout(5)
                try:
                    conn.recv(4096)
                    head = b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                    conn.sendall(head % len(self.PAGE) + self.PAGE)
                except OSError:
                    pass


@pytest.mark.usefixtures("no_credentials")
def test_a_page_at_the_metadata_address_is_named_with_every_source_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    portal = Portal()
    monkeypatch.setenv("HWC_METADATA_ENDPOINT", portal.endpoint)
    client = hw.Client(endpoint="http://127.0.0.1:1", project_id="p")
    with pytest.raises(hw.ConfigurationError) as caught:
        client.delete_desktop_sub_resources(["d-1"])
    error = caught.value
    assert error.kind == "missing_credentials"
    for said in ("403 Forbidden", "text/html", 'an HTML page titled "Guest Wi-Fi: sign in"', "HUAWEICLOUD_SDK_AK", "credentials file"):
        assert said in str(error), said
    assert not any("bind an agency" in hint for hint in error.hints), error.hints
    assert any("HWC_METADATA_ENDPOINT=off" in hint for hint in error.hints), error.hints
    assert len(portal.connections) == 1
    portal.server.close()
