"""TLS: certificates are verified by default, so a self-signed loopback server is refused
with a ``TransportError`` of kind ``tls``; the same server is accepted once its certificate is
given as ``ca_cert`` (a path or PEM bytes); and no argument or environment variable turns
verification off.

The server is Python's own ``http.server`` wrapped by ``ssl``; its certificate is made for the
test by the ``openssl`` command (Python's ``ssl`` module cannot make one), so the tests are
skipped where that command is missing.
"""

from __future__ import annotations

import asyncio
import http.server
import inspect
import shutil
import ssl
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Tuple

import pytest

import hwc_workspace as hw

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command makes the test certificate")

# A certificate for 127.0.0.1 that is its own issuer, and not a CA: rustls refuses a CA
# certificate presented as the server's own.
OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
x509_extensions = ext
prompt = no
[dn]
CN = hwc-workspace loopback test server
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
"""


class Answer(http.server.BaseHTTPRequestHandler):
    """Answers every deletion with the documented 200 body."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b'{"job_id": "tls-job"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-Id", "tls-req")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class TlsServer(http.server.ThreadingHTTPServer):
    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), Answer)
        self.context = context

    def get_request(self) -> Tuple[Any, Any]:
        connection, address = self.socket.accept()
        # The handshake happens in the request's thread, so a client that refuses the
        # certificate fails that request only.
        return self.context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client refusing the certificate is what some tests want


class Server(NamedTuple):
    endpoint: str
    ca_cert: Path


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("tls")
    config, cert, key = directory / "openssl.cnf", directory / "cert.pem", directory / "key.pem"
    config.write_text(OPENSSL_CONFIG)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-config", str(config)],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def server(certificate: Tuple[Path, Path]) -> Iterator[Server]:
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd = TlsServer(context)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Server(f"https://127.0.0.1:{httpd.server_address[1]}", cert)
    finally:
        httpd.shutdown()
        httpd.server_close()


def client(server: Server, **options: Any) -> hw.Client:
    return hw.Client(ak="AK-TLS", sk="SK-TLS", project_id="p-tls", endpoint=server.endpoint, timeout=10, **options)


def assert_refused_as_tls(e: BaseException, server: Server) -> None:
    assert type(e) is hw.TransportError, repr(e)
    assert e.kind == "tls"
    assert e.endpoint == server.endpoint
    assert "TLS" in str(e) and server.endpoint in str(e), str(e)
    assert "certificate" in str(e), str(e)
    # Why, in words: rustls's debug names (UnknownIssuer) are not shown.
    assert "not signed by a trusted certificate authority" in str(e) and "UnknownIssuer" not in str(e), str(e)


def test_a_self_signed_server_is_refused(server: Server) -> None:
    with pytest.raises(hw.TransportError) as info:
        client(server).delete_desktop_sub_resources(["d-1"])
    assert_refused_as_tls(info.value, server)

    async def call() -> None:
        async with hw.AsyncClient(ak="AK-TLS", sk="SK-TLS", project_id="p-tls", endpoint=server.endpoint) as ac:
            await ac.delete_desktop_sub_resources(["d-1"])

    with pytest.raises(hw.TransportError) as info:
        asyncio.run(call())
    assert_refused_as_tls(info.value, server)


def test_the_same_server_is_accepted_with_ca_cert(server: Server) -> None:
    for ca_cert in (server.ca_cert, str(server.ca_cert), server.ca_cert.read_bytes()):
        deleted = client(server, ca_cert=ca_cert).delete_desktop_sub_resources(["d-1"])
        assert (deleted.job_id, deleted.request_id) == ("tls-job", "tls-req")

    async def call() -> hw.Deleted:
        async with hw.AsyncClient(
            ak="AK-TLS", sk="SK-TLS", project_id="p-tls", endpoint=server.endpoint, ca_cert=server.ca_cert
        ) as ac:
            return await ac.delete_desktop_sub_resources(["d-1"])

    assert asyncio.run(call()).job_id == "tls-job"


def test_nothing_turns_verification_off(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    for cls in (hw.Client, hw.AsyncClient):
        # pyo3 can give an abi3 class a signature only on CPython 3.10+ (on 3.9 `inspect`
        # finds none); the keyword checks below hold on every version.
        if sys.version_info >= (3, 10):
            parameters = set(inspect.signature(cls).parameters)
            assert not {p for p in parameters if any(w in p for w in ("verify", "insecure", "ssl", "tls"))}, parameters
        for switch in ({"verify": False}, {"insecure": True}, {"verify_ssl": False}, {"ignore_ssl_verification": True}):
            with pytest.raises(TypeError):
                cls(ak="AK-TLS", sk="SK-TLS", project_id="p-tls", endpoint=server.endpoint, **switch)
    # Variables other tools read to weaken verification change nothing.
    for name, value in [
        ("PYTHONHTTPSVERIFY", "0"),
        ("CURL_CA_BUNDLE", ""),
        ("REQUESTS_CA_BUNDLE", ""),
        ("HUAWEICLOUD_SDK_IGNORE_SSL_VERIFICATION", "true"),
    ]:
        monkeypatch.setenv(name, value)
    with pytest.raises(hw.TransportError) as info:
        client(server).delete_desktop_sub_resources(["d-1"])
    assert_refused_as_tls(info.value, server)
