"""One client shared by threads, a client used again in a forked child, and Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

import hwc_workspace as hw


def test_16_threads_200_calls_each_on_one_client(sim: hw.Simulator, client: hw.Client) -> None:
    def worker(n: int) -> int:
        done = 0
        for i in range(200):
            r = client.delete_desktop_sub_resources([sim.desktop_ids[(n + i) % 5]])
            done += bool(r.job_id)
        return done

    with ThreadPoolExecutor(16) as pool:
        assert sum(pool.map(worker, range(16))) == 16 * 200
    assert len(sim.jobs()) == 16 * 200


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_call_in_a_forked_child(sim: hw.Simulator, client: hw.Client) -> None:
    import asyncio

    # The parent has used the client (pool, runtime threads) before forking.
    client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    async_client = sim.async_client()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        pid = os.fork()
    if pid == 0:  # the child: report by exit status only, never return into pytest
        status = 1
        try:
            r = client.delete_desktop_sub_resources(sim.desktop_ids[1:2])
            r2 = asyncio.run(async_client.delete_desktop_sub_resources(sim.desktop_ids[2:3]))  # a coroutine
            status = 0 if r.job_id and r2.job_id else 2
            try:  # the server stayed in the parent: only the parent can inspect it
                sim.jobs()
                status = 3
            except RuntimeError:
                pass
            sim.close()  # leaves the parent's server alone, and returns at once
        except BaseException as e:  # noqa: BLE001
            print(f"child failed: {e!r}", file=sys.stderr)
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert len(sim.jobs()) == 3
    # And the parent goes on.
    assert client.delete_desktop_sub_resources(sim.desktop_ids[:1]).job_id


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
def test_ctrl_c_interrupts_a_blocking_call(sim: hw.Simulator, client: hw.Client) -> None:
    sim.set_latency(10.0)
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    finally:
        timer.cancel()
    assert time.monotonic() - started < 2.0
    sim.set_latency(0)
    assert client.delete_desktop_sub_resources(sim.desktop_ids[:1]).job_id
