"""The coroutine behind every ``AsyncClient`` call: the compiled module checks the arguments
when the method is called, and the request starts when the coroutine first runs (so
``asyncio.run``, ``create_task`` and ``gather`` all take it)."""

from __future__ import annotations

import weakref

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Awaitable, Callable

# The completion queue of each event loop (see the compiled module's `aio.rs`), dropped with
# its loop.
_completions: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


async def run(start: Callable[[], Awaitable[Any]]) -> Any:
    return await start()


def completions(loop: Any, new: Callable[[], Any]) -> Any:
    """The completion queue of ``loop``: made on first use, and woken through the socket the
    loop watches, or through ``call_soon_threadsafe`` where the loop cannot watch one."""
    try:
        return _completions[loop]
    except KeyError:
        pass
    except TypeError:
        # A loop that takes no weak reference: a queue per call (freed with the call), woken
        # the thread-safe way.
        queue = new()
        queue.wake_with(loop.call_soon_threadsafe)
        return queue
    queue = new()
    fileno = queue.fileno()
    try:
        if fileno is None:
            raise NotImplementedError
        loop.add_reader(fileno, queue.drain)
        # Closing the loop leaves the reader behind in its selector; removing it on close is
        # the loop's business, and the socket closes with the queue.
    except NotImplementedError:
        queue.wake_with(_waker(loop))
    _completions[loop] = queue
    return queue


def _waker(loop: Any) -> Callable[[Any], None]:
    """``loop.call_soon_threadsafe``, held weakly: the queue kept for the loop (under a weak
    key) must not keep the loop alive through its own value."""
    method = weakref.WeakMethod(loop.call_soon_threadsafe)

    def wake(drain: Any) -> None:
        call_soon_threadsafe = method()
        if call_soon_threadsafe is not None:
            call_soon_threadsafe(drain)

    return wake
