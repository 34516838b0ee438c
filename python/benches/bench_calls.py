"""Calls per second and import cost: hwc_workspace against Huawei's official Python SDK.

Both clients call the same server, the in-process simulator from ``hw.Simulator()`` on
loopback, which verifies every signature; each figure runs for a bounded time. Import time
and RSS are measured in fresh interpreters.

    python -m venv target/py-bench
    target/py-bench/bin/pip install ./python huaweicloudsdkworkspace
    target/py-bench/bin/python python/benches/bench_calls.py

Without ``huaweicloudsdkworkspace`` installed, its figures are skipped.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from typing import Callable, Optional

import hwc_workspace as hw

SECONDS = 3.0  # per throughput figure
WARMUP = 200  # calls before timing (connection set up, caches warm)
IN_FLIGHT = 32
IMPORT_RUNS = 5

OFFICIAL_IMPORT = (
    "from huaweicloudsdkcore.auth.credentials import BasicCredentials\n"
    "from huaweicloudsdkworkspace.v2 import WorkspaceClient, DeleteDesktopSubResourcesRequest, "
    "DeleteDesktopSubResourcesReq"
)
OURS_IMPORT = "import hwc_workspace"


def rate(call: Callable[[], object]) -> float:
    """Sequential calls per second over SECONDS."""
    for _ in range(WARMUP):
        call()
    calls = 0
    started = time.perf_counter()
    deadline = started + SECONDS
    while True:
        for _ in range(50):
            call()
        calls += 50
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - started)


def async_rate(sim: hw.Simulator) -> float:
    """AsyncClient calls per second with IN_FLIGHT calls in flight at all times."""

    async def main() -> float:
        client = sim.async_client()
        ids = sim.desktop_ids[:1]
        await asyncio.gather(*(client.delete_desktop_sub_resources(ids) for _ in range(WARMUP)))
        calls = 0
        started = time.perf_counter()
        deadline = started + SECONDS

        async def worker() -> None:
            nonlocal calls
            while time.perf_counter() < deadline:
                await client.delete_desktop_sub_resources(ids)
                calls += 1

        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return calls / (time.perf_counter() - started)

    return asyncio.run(main())


def official_call(sim: hw.Simulator) -> Optional[Callable[[], object]]:
    try:
        from huaweicloudsdkcore.auth.credentials import BasicCredentials
        from huaweicloudsdkcore.http.http_config import HttpConfig
        from huaweicloudsdkworkspace.v2 import (
            DeleteDesktopSubResourcesReq,
            DeleteDesktopSubResourcesRequest,
            WorkspaceClient,
        )
    except ImportError:
        return None
    config = HttpConfig.get_default_config()
    config.ignore_ssl_verification = True
    client = (
        WorkspaceClient.new_builder()
        .with_http_config(config)
        .with_credentials(BasicCredentials(sim.ak, sim.sk, sim.project_id))
        .with_endpoints([sim.endpoint])
        .build()
    )
    request = DeleteDesktopSubResourcesRequest(
        body=DeleteDesktopSubResourcesReq(desktop_ids=sim.desktop_ids[:1], sub_resource_type="DESKTOP_SHARER")
    )
    response = client.delete_desktop_sub_resources(request)
    assert response.job_id, response  # the simulator accepted its signature
    return lambda: client.delete_desktop_sub_resources(request)


def import_cost(statement: str) -> Optional[tuple[float, float]]:
    """Median import time (ms) and RSS growth (MiB) over IMPORT_RUNS fresh interpreters."""
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
    runs = []
    for _ in range(IMPORT_RUNS):
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        if done.returncode != 0:
            return None
        runs.append(json.loads(done.stdout))
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    print(f"python {sys.version.split()[0]}, hwc_workspace {hw.__version__}; {SECONDS:.0f} s per figure")
    results: dict[str, float] = {}
    with hw.Simulator() as sim:
        client = sim.client()
        ids = sim.desktop_ids[:1]
        results["ours"] = rate(lambda: client.delete_desktop_sub_resources(ids))
        print(f"hwc_workspace Client, sequential:      {results['ours']:9.0f} calls/s  ({1e6 / results['ours']:6.1f} us/call)")
        results["ours_async"] = async_rate(sim)
        print(f"hwc_workspace AsyncClient, {IN_FLIGHT} in flight: {results['ours_async']:9.0f} calls/s")
        official = official_call(sim)
        if official is None:
            print("official SDK: huaweicloudsdkworkspace is not installed; skipped")
        else:
            results["official"] = rate(official)
            print(f"official SDK, sequential:              {results['official']:9.0f} calls/s  ({1e6 / results['official']:6.1f} us/call)")
            print(f"  sequential speed-up: {results['ours'] / results['official']:.1f}x")

    ours = import_cost(OURS_IMPORT)
    assert ours is not None
    print(f"import hwc_workspace:  {ours[0]:7.1f} ms, {ours[1]:6.1f} MiB RSS")
    official_import = import_cost(OFFICIAL_IMPORT)
    if official_import is None:
        print("import of the official SDK: not installed; skipped")
    else:
        print(f"import official SDK:   {official_import[0]:7.1f} ms, {official_import[1]:6.1f} MiB RSS")
        print(f"  import speed-up: {official_import[0] / ours[0]:.1f}x faster, {official_import[1] / max(ours[1], 0.1):.1f}x less memory")


if __name__ == "__main__":
    main()
