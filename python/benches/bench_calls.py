"""Calls per second, signatures per second and import cost: hwc_workspace against Huawei's
official Python SDK and a raw ``http.client`` loop.

Two ways to run it:

- ``cargo xtask bench`` runs it with ``--json``: a plan on stdin names the endpoint (nginx
  answering the documented 200), the credentials and the exact request our Rust client sends;
  every figure is measured in alternating runs and its samples are printed as one JSON object.
  Progress goes to stderr.
- By hand, with no argument, against the in-process simulator (which verifies every
  signature), printing a short summary::

    python -m venv target/py-bench
    target/py-bench/bin/pip install ./python huaweicloudsdkworkspace
    target/py-bench/bin/python python/benches/bench_calls.py

Without ``huaweicloudsdkworkspace`` installed, its figures are skipped.
"""

from __future__ import annotations

import asyncio
import collections
import http.client
import json
import statistics
import subprocess
import sys
import time
import urllib.parse
from typing import Any, Callable, Optional

import hwc_workspace as hw

WARMUP = 200  # calls before timing (connection set up, caches warm)
IN_FLIGHT = 32

OFFICIAL_IMPORT = (
    "from huaweicloudsdkcore.auth.credentials import BasicCredentials\n"
    "from huaweicloudsdkworkspace.v2 import WorkspaceClient, DeleteDesktopSubResourcesRequest, "
    "DeleteDesktopSubResourcesReq"
)
OURS_IMPORT = "import hwc_workspace"


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def rate(call: Callable[[], object], seconds: float) -> float:
    """Sequential calls per second over ``seconds``."""
    calls = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(10):
            call()
        calls += 10
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - started)


def warm(call: Callable[[], object], calls: int = WARMUP) -> None:
    for _ in range(calls):
        call()


def ours_async_rate(make_client: Callable[[], hw.AsyncClient], ids: list[str], seconds: float) -> float:
    """AsyncClient calls per second with IN_FLIGHT calls in flight at all times."""

    async def main() -> float:
        client = make_client()
        await asyncio.gather(*(client.delete_desktop_sub_resources(ids) for _ in range(IN_FLIGHT * 4)))
        calls = 0
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal calls
            while time.perf_counter() < deadline:
                await client.delete_desktop_sub_resources(ids)
                calls += 1

        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return calls / (time.perf_counter() - started)

    return asyncio.run(main())


def official_clients(endpoint: str, ak: str, sk: str, project_id: str) -> Optional[tuple[Any, Any]]:
    """The official SDK's sync and async Workspace clients, or None when it is not installed."""
    try:
        from huaweicloudsdkcore.auth.credentials import BasicCredentials
        from huaweicloudsdkcore.http.http_config import HttpConfig
        from huaweicloudsdkworkspace.v2 import WorkspaceAsyncClient, WorkspaceClient
    except ImportError:
        return None
    clients = []
    for kind in (WorkspaceClient, WorkspaceAsyncClient):
        config = HttpConfig.get_default_config()
        config.ignore_ssl_verification = True
        clients.append(
            kind.new_builder()
            .with_http_config(config)
            .with_credentials(BasicCredentials(ak, sk, project_id))
            .with_endpoints([endpoint])
            .build()
        )
    return clients[0], clients[1]


def official_request(ids: list[str]) -> Any:
    from huaweicloudsdkworkspace.v2 import DeleteDesktopSubResourcesReq, DeleteDesktopSubResourcesRequest

    return DeleteDesktopSubResourcesRequest(
        body=DeleteDesktopSubResourcesReq(desktop_ids=ids, sub_resource_type="DESKTOP_SHARER")
    )


def official_async_rate(client: Any, request: Any, seconds: float) -> float:
    """The official async client (a thread pool under futures) with IN_FLIGHT calls in
    flight: as one call completes, the next is submitted."""
    calls = 0
    started = time.perf_counter()
    deadline = started + seconds
    pending = collections.deque(client.delete_desktop_sub_resources_async(request) for _ in range(IN_FLIGHT))
    while True:
        pending.popleft().result()
        calls += 1
        if time.perf_counter() >= deadline:
            break
        pending.append(client.delete_desktop_sub_resources_async(request))
    elapsed = time.perf_counter() - started
    for future in pending:
        future.result()
    return calls / elapsed


def http_client_call(endpoint: str, path: str, headers: dict[str, str], body: bytes) -> Callable[[], None]:
    """One keep-alive ``http.client`` connection posting fixed bytes: Python's wire floor."""
    parsed = urllib.parse.urlsplit(endpoint)
    connection = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port)

    def call() -> None:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"http.client loop: status {response.status}")

    return call


def official_signer(ak: str, sk: str, signing: dict[str, Any]) -> Optional[Callable[[], object]]:
    """One signature by the official SDK's SDK-HMAC-SHA256 signer, of a fresh request as the
    SDK builds one per call (the signer dates and mutates the request it signs)."""
    try:
        from huaweicloudsdkcore.auth.credentials import BasicCredentials
        from huaweicloudsdkcore.sdk_request import SdkRequest
        from huaweicloudsdkcore.signer.signer import Signer
    except ImportError:
        return None
    signer = Signer(BasicCredentials(ak, sk))
    headers = dict(signing["headers"])
    body = signing["body"].encode()

    def sign() -> object:
        request = SdkRequest(
            method="POST",
            schema="http",
            host=signing["host"],
            resource_path=signing["path"],
            query_params=[],
            header_params=dict(headers),
            body=body,
        )
        return signer.sign(request)

    return sign


def ours_signer(ak: str, sk: str, signing: dict[str, Any]) -> Callable[[], object]:
    url = f"http://{signing['host']}{signing['path']}"
    headers = dict(signing["headers"])
    body = signing["body"].encode()
    return lambda: hw.sign_request("POST", url, headers, body, ak=ak, sk=sk)


def import_samples(statement: str, runs: int) -> Optional[list[tuple[float, float]]]:
    """Import time (ms) and RSS growth (MiB) in ``runs`` fresh interpreters, each measured
    inside the interpreter around the import alone: what the import adds to a bare one."""
    # Current RSS from /proc (Linux): ru_maxrss would carry over the peak of this process,
    # which the child inherits across fork and exec.
    probe = (
        "import json, resource, time\n"
        "def rss():\n"
        "    try:\n"
        "        with open('/proc/self/status') as f:\n"
        "            return next(int(l.split()[1]) for l in f if l.startswith('VmRSS:'))\n"
        "    except OSError:\n"
        "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "before = rss()\n"
        "started = time.perf_counter()\n"
        f"{statement}\n"
        "elapsed = time.perf_counter() - started\n"
        "after = rss()\n"
        "print(json.dumps([elapsed * 1000, (after - before) / 1024]))\n"
    )
    samples = []
    # One unmeasured run first: it writes any missing bytecode caches.
    for _ in range(runs + 1):
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        if done.returncode != 0:
            return None
        ms, mib = json.loads(done.stdout)
        samples.append((ms, mib))
    return samples[1:]


BULK_IDS = 1_000_000

# A fresh interpreter: delete_many over BULK_IDS ids against the endpoint (nginx accepting
# every batch), every batch's outcome taken, then every line of account() read; the peak RSS
# of the whole process (the ids' list included), in MiB.
BULK_PROBE = """
import json, resource, sys
import hwc_workspace as hw
endpoint, ak, sk, project_id, count = sys.argv[1:6]
ids = [f"m{i:07d}-5e1a-4d00-8000-{i:012d}" for i in range(int(count))]
client = hw.Client(ak=ak, sk=sk, project_id=project_id, endpoint=endpoint)
run = client.delete_many(ids, concurrency=16)
batches = sum(1 for _ in run)
statuses = {}
for desktop in run.account():
    statuses[desktop.status] = statuses.get(desktop.status, 0) + 1
assert statuses == {"ACCEPTED": len(ids)}, statuses
print(json.dumps([batches, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))
"""


def bulk_peak_mib(endpoint: str, ak: str, sk: str, project_id: str) -> float:
    """Peak RSS (MiB) of ``delete_many`` over ``BULK_IDS`` ids with ``account()``."""
    done = subprocess.run(
        [sys.executable, "-c", BULK_PROBE, endpoint, ak, sk, project_id, str(BULK_IDS)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the bulk memory probe failed: {done.stderr.strip()}")
    batches, mib = json.loads(done.stdout)
    assert batches == BULK_IDS // 100, batches
    return float(mib)


def measure(plan: dict[str, Any]) -> dict[str, Any]:
    """Every Python figure of the plan, as lists of samples (one per run)."""
    runs, seconds = plan["runs"], plan["seconds"]
    endpoint, ak, sk, project_id = plan["endpoint"], plan["ak"], plan["sk"], plan["project_id"]
    ids = [plan["desktop_id"]]
    wire = plan["wire"]
    figures: dict[str, list[float]] = collections.defaultdict(list)

    client = hw.Client(ak=ak, sk=sk, project_id=project_id, endpoint=endpoint)
    sequential: dict[str, Callable[[], object]] = {
        "sequential_ours": lambda: client.delete_desktop_sub_resources(ids),
        "sequential_http_client": http_client_call(
            endpoint, wire["path"], dict(wire["headers"]), wire["body"].encode()
        ),
    }
    official = official_clients(endpoint, ak, sk, project_id)
    if official is not None:
        request = official_request(ids)
        response = official[0].delete_desktop_sub_resources(request)
        assert response.job_id, response
        sequential["sequential_official"] = lambda: official[0].delete_desktop_sub_resources(request)
    progress(f"Python: sequential calls ({', '.join(k.split('_', 1)[1] for k in sequential)})")
    for call in sequential.values():
        warm(call)
    for _ in range(runs):
        for name, call in sequential.items():
            figures[name].append(rate(call, seconds))

    progress(f"Python: {IN_FLIGHT} calls in flight (AsyncClient, official async client)")
    make_async = lambda: hw.AsyncClient(ak=ak, sk=sk, project_id=project_id, endpoint=endpoint)  # noqa: E731
    if official is not None:
        assert official[1].delete_desktop_sub_resources_async(request).result().job_id
        official_async_rate(official[1], request, seconds / 4)
    for _ in range(runs):
        figures["in_flight_ours"].append(ours_async_rate(make_async, ids, seconds))
        if official is not None:
            figures["in_flight_official"].append(official_async_rate(official[1], request, seconds))

    progress("Python: signatures per second (official signer, hwc_workspace.sign_request)")
    signers: dict[str, Callable[[], object]] = {"signatures_ours_python": ours_signer(ak, sk, plan["signing"])}
    official_sign = official_signer(ak, sk, plan["signing"])
    if official_sign is not None:
        signers["signatures_official"] = official_sign
    for sign in signers.values():
        warm(sign, 1000)
    for _ in range(runs):
        for name, sign in signers.items():
            figures[name].append(rate(sign, seconds / 2))

    progress("Python: import time and RSS in fresh interpreters")
    for name, statement, count in (
        ("ours", OURS_IMPORT, plan["import_runs"]),
        ("official", OFFICIAL_IMPORT, plan["official_import_runs"]),
    ):
        samples = import_samples(statement, count)
        if samples is not None:
            figures[f"import_ms_{name}"] = [ms for ms, _ in samples]
            figures[f"import_mib_{name}"] = [mib for _, mib in samples]

    progress(f"Python: peak RSS of delete_many over {BULK_IDS:,} ids with account()")
    figures["bulk_peak_mib"].append(bulk_peak_mib(endpoint, ak, sk, project_id))

    try:
        from importlib.metadata import version

        official_version: Optional[str] = version("huaweicloudsdkworkspace")
    except Exception:
        official_version = None
    return {
        "python": sys.version.split()[0],
        "hwc_workspace": hw.__version__,
        "official_sdk": official_version,
        "figures": figures,
    }


def by_hand() -> None:
    """The short summary against the in-process simulator."""
    seconds = 3.0
    print(f"python {sys.version.split()[0]}, hwc_workspace {hw.__version__}; {seconds:.0f} s per figure")
    with hw.Simulator() as sim:
        client = sim.client()
        ids = sim.desktop_ids[:1]
        ours = lambda: client.delete_desktop_sub_resources(ids)  # noqa: E731
        warm(ours)
        ours_rate = rate(ours, seconds)
        print(f"hwc_workspace Client, sequential:      {ours_rate:9.0f} calls/s  ({1e6 / ours_rate:6.1f} us/call)")
        async_rate = ours_async_rate(sim.async_client, ids, seconds)
        print(f"hwc_workspace AsyncClient, {IN_FLIGHT} in flight: {async_rate:9.0f} calls/s")
        official = official_clients(sim.endpoint, sim.ak, sim.sk, sim.project_id)
        if official is None:
            print("official SDK: huaweicloudsdkworkspace is not installed; skipped")
        else:
            request = official_request(ids)
            call = lambda: official[0].delete_desktop_sub_resources(request)  # noqa: E731
            warm(call)
            official_rate = rate(call, seconds)
            print(f"official SDK, sequential:              {official_rate:9.0f} calls/s  ({1e6 / official_rate:6.1f} us/call)")
            print(f"  sequential speed-up: {ours_rate / official_rate:.1f}x")

    ours_import = import_samples(OURS_IMPORT, 5)
    assert ours_import is not None
    ours_ms, ours_mib = (statistics.median(s[i] for s in ours_import) for i in (0, 1))
    print(f"import hwc_workspace:  {ours_ms:7.1f} ms, {ours_mib:6.1f} MiB RSS")
    official_import = import_samples(OFFICIAL_IMPORT, 5)
    if official_import is None:
        print("import of the official SDK: not installed; skipped")
    else:
        official_ms, official_mib = (statistics.median(s[i] for s in official_import) for i in (0, 1))
        print(f"import official SDK:   {official_ms:7.1f} ms, {official_mib:6.1f} MiB RSS")
        print(f"  import speed-up: {official_ms / ours_ms:.1f}x faster, {official_mib / max(ours_mib, 0.1):.1f}x less memory")


def main() -> None:
    if sys.argv[1:] == ["--json"]:
        print(json.dumps(measure(json.load(sys.stdin))))
    elif sys.argv[1:]:
        sys.exit(f"usage: {sys.argv[0]} [--json]   (with --json, a plan on stdin)")
    else:
        by_hand()


if __name__ == "__main__":
    main()
