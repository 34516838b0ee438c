"""The coroutine behind every ``AsyncClient`` call: the compiled module checks the arguments
when the method is called, and the request starts when the coroutine first runs (so
``asyncio.run``, ``create_task`` and ``gather`` all take it)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Awaitable, Callable


async def run(start: Callable[[], Awaitable[Any]]) -> Any:
    return await start()
