"""The asyncio client: many calls in flight, errors, cancellation, context manager."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

import hwc_workspace as hw


def test_gather_200_calls(sim: hw.Simulator) -> None:
    async def main() -> list[hw.Deleted]:
        async with sim.async_client() as client:
            return await asyncio.gather(
                *(client.delete_desktop_sub_resources([sim.desktop_ids[i % 5]]) for i in range(200))
            )

    results = asyncio.run(main())
    assert len(results) == 200
    assert len({r.job_id for r in results}) == 200
    assert len(sim.jobs()) == 200


def test_async_client_from_arguments_and_errors(sim: hw.Simulator) -> None:
    async def main() -> None:
        client = hw.AsyncClient(ak=sim.ak, sk=sim.sk, project_id=sim.project_id, endpoint=sim.endpoint)
        assert repr(client).startswith("<hwc_workspace.AsyncClient endpoint=")
        with pytest.raises(hw.NotFoundError) as info:
            await client.delete_desktop_sub_resources(["no-such-desktop"])
        assert info.value.error_code == "WKS.0102"
        with pytest.raises(hw.InvalidRequestError):
            await client.delete_desktop_sub_resources([])
        with pytest.raises(TypeError):
            client.delete_desktop_sub_resources("d-1")  # type: ignore[unused-coroutine]
        sim.fail_next("internal_error")
        results = await asyncio.gather(
            client.delete_desktop_sub_resources(sim.desktop_ids[:1]),
            client.delete_desktop_sub_resources(sim.desktop_ids[:1]),
            return_exceptions=True,
        )
        assert sorted(type(r).__name__ for r in results) == ["Deleted", "ServerResponseError"]
        client.close()
        with pytest.raises(RuntimeError, match="closed"):
            client.delete_desktop_sub_resources(sim.desktop_ids[:1])  # type: ignore[unused-coroutine]

    asyncio.run(main())


def test_timeout_and_cancellation(sim: hw.Simulator) -> None:
    async def main() -> None:
        sim.set_latency(1.0)
        client = sim.async_client(timeout=0.2)
        with pytest.raises(hw.RequestTimeoutError):
            await client.delete_desktop_sub_resources(sim.desktop_ids[:1])
        slow = sim.async_client()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(slow.delete_desktop_sub_resources(sim.desktop_ids[:1]), 0.1)
        sim.set_latency(0)
        # The loop keeps working after a cancellation, and the runtime too.
        assert (await slow.delete_desktop_sub_resources(sim.desktop_ids[:1])).job_id

    asyncio.run(main())


def test_calls_are_coroutines(sim: hw.Simulator) -> None:
    import inspect

    client = sim.async_client()
    coroutine = client.delete_desktop_sub_resources(sim.desktop_ids[:1])
    assert inspect.iscoroutine(coroutine)
    assert sim.request_count == 0  # nothing starts until it runs
    assert asyncio.run(coroutine).job_id
    with pytest.raises(RuntimeError, match="running in an asyncio event loop"):
        client.delete_desktop_sub_resources(sim.desktop_ids[:1]).send(None)

    async def tasks() -> int:
        task = asyncio.create_task(client.delete_desktop_sub_resources(sim.desktop_ids[:1]))
        return len((await task).job_id)

    assert asyncio.run(tasks())


def test_sync_and_async_in_one_program(sim: hw.Simulator) -> None:
    sync = sim.client()
    sync.delete_desktop_sub_resources(sim.desktop_ids[:1])

    async def main() -> None:
        async with sim.async_client() as client:
            await client.delete_desktop_sub_resources(sim.desktop_ids[:1])
        # A blocking call from a coroutine works too (it blocks the loop, as any blocking call).
        sync.delete_desktop_sub_resources(sim.desktop_ids[:1])

    asyncio.run(main())
    asyncio.run(main())
    assert len(sim.jobs()) == 5


def test_loops_in_four_threads_at_once_each_get_their_own_results(sim: hw.Simulator) -> None:
    # Each loop has its own completion queue; a result must settle the future of the loop
    # that started the call, never another's.
    import threading

    client = sim.async_client()
    found: dict[int, list[str]] = {}

    def run_loop(index: int) -> None:
        async def main() -> list[str]:
            deleted = await asyncio.gather(
                *(client.delete_desktop_sub_resources([sim.desktop_ids[index]]) for _ in range(50))
            )
            return [d.job_id for d in deleted]

        found[index] = asyncio.run(asyncio.wait_for(main(), 30))

    threads = [threading.Thread(target=run_loop, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(found) == [0, 1, 2, 3]
    job_ids = [job_id for ids in found.values() for job_id in ids]
    assert len(job_ids) == 200 and len(set(job_ids)) == 200
    assert len(sim.jobs()) == 200


def test_a_loop_that_cannot_watch_a_socket_is_woken_thread_safely(sim: hw.Simulator) -> None:
    # As Windows' proactor loop: `add_reader` is not implemented there.
    class NoReaders(asyncio.SelectorEventLoop):
        def add_reader(self, *args: object, **kwargs: object) -> None:
            raise NotImplementedError

    async def main() -> list[hw.Deleted]:
        async with sim.async_client() as client:
            with pytest.raises(hw.NotFoundError):
                await client.show_job("no-such-job")
            calls = (client.delete_desktop_sub_resources([sim.desktop_ids[i % 5]]) for i in range(100))
            return await asyncio.gather(*calls)

    event_loop = NoReaders()
    try:
        # Bounded: a loop that is never woken would otherwise wait for ever.
        results = event_loop.run_until_complete(asyncio.wait_for(main(), 30))
    finally:
        event_loop.close()
    assert len({r.job_id for r in results}) == 100
    # The queue kept for the loop does not keep the loop alive.
    gone = weakref.ref(event_loop)
    del event_loop
    gc.collect()
    assert gone() is None


# --- A bulk run that an `async for` lets go of ends as on a first signal: the batches in flight
# end and are recorded (see test_bulk.py for the helpers and the sync fronts).

from pathlib import Path  # noqa: E402

from test_bulk import FLEET, assert_resume_knows_everything, fleet, settled_within, unanswered  # noqa: E402


def test_break_out_of_async_for_records_the_batches_in_flight(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    with fleet() as sim:

        async def main() -> None:
            client = sim.async_client()
            async for outcome in client.delete_many(sim.desktop_ids, concurrency=3, journal=journal):
                assert outcome.status == "ACCEPTED"
                break
            sent = await asyncio.to_thread(settled_within, journal)
            assert 2 <= len(sent) < FLEET // 100
            await client.__aexit__(None, None, None)

        asyncio.run(main())
        sent, _ = unanswered(journal)
        assert_resume_knows_everything(sim, journal, sent)


def test_cancelling_the_task_of_an_async_for_records_the_batches_in_flight(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    with fleet() as sim:

        async def main() -> None:
            client = sim.async_client()
            run = client.delete_many(sim.desktop_ids, concurrency=3, journal=journal)
            first = asyncio.Event()

            async def iterate() -> None:
                async for _ in run:
                    first.set()

            task = asyncio.ensure_future(iterate())
            await first.wait()
            task.cancel()  # while it awaits the next outcome
            with pytest.raises(asyncio.CancelledError):
                await task
            # `run` is still referenced: the cancellation alone stopped it.
            await asyncio.to_thread(settled_within, journal)
            # The account waits for the settle to end; the journal is then final.
            accepted = [d for d in await asyncio.to_thread(run.account) if d.status == "ACCEPTED"]
            sent, open_ = unanswered(journal)
            assert not open_ and 2 <= len(sent) < FLEET // 100
            assert len(accepted) == 100 * len(sent)
            async with client:
                pass

        asyncio.run(main())
        sent, _ = unanswered(journal)
        assert_resume_knows_everything(sim, journal, sent)


def test_async_with_a_run_and_its_client_settle_the_batches_in_flight(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    other = tmp_path / "other.jsonl"
    with fleet() as sim:

        async def main() -> None:
            async with sim.async_client() as client:
                async with client.delete_many(sim.desktop_ids, concurrency=3, journal=journal) as run:
                    await run.__anext__()
                # Recorded once the block is left.
                sent, open_ = unanswered(journal)
                assert not open_ and 2 <= len(sent) < FLEET // 100
                # A run left to the client's close: `async with client` awaits its batches.
                held = client.delete_many(sim.desktop_ids[::-1], concurrency=3, journal=other)
                await held.__anext__()
            sent, open_ = unanswered(other)
            assert not open_ and len(sent) >= 2
            with pytest.raises(RuntimeError, match="closed"):
                await held.__anext__()

        asyncio.run(main())
