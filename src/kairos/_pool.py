"""What kairos keeps per HTTP client: its admission gate (``_admit``) and its body drains.

No httpx here: ``_http`` (the only httpx package) gets each client's gate from this module and
registers the drains it starts. The state is kept per client (per event loop for an
``httpx.AsyncClient``), in weak maps, so a caller's own client is used as it is; the clients
kairos builds are registered with their capacity (:func:`own`).

**Drains** (async only; the sync shell drains in the caller's thread). After the end marker
the rest of the body (the chunked terminator, usually) is read by a background task bounded
by ``Timeouts.drain``, so the connection goes back to the pool without holding the caller.
The next request on the same client takes over one pending drain: it waits for it (bounded by
the same cap) rather than opening a second connection while the first is about to be free.
Every drain task is referenced here until it ends; :func:`asettle` cancels or awaits them when
a provider closes.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from ._admit import KEEPALIVE, AsyncGate, Gate

__all__ = [
    "GATE",
    "POOL",
    "AsyncPool",
    "adrain",
    "apool",
    "asettle",
    "drain",
    "gate",
    "kept",
    "own",
    "returned",
    "turn",
]


class AsyncPool:
    """An async client's admission gate and its pending drains, on one event loop."""

    __slots__ = ("drains", "gate", "loop", "unclaimed")

    def __init__(self, loop: Any, capacity: int | None, keepalive: int) -> None:
        self.loop = loop
        self.gate = AsyncGate(loop, capacity, keepalive)
        self.drains: set[Any] = set()  # strong references: the loop keeps only weak ones
        self.unclaimed: deque[Any] = deque()

    def start_drain(self, coro: Any) -> None:
        task = self.loop.create_task(coro)
        self.drains.add(task)
        self.unclaimed.append(task)
        task.add_done_callback(self.drains.discard)
        while self.unclaimed and self.unclaimed[0].done():
            self.unclaimed.popleft()

    async def take_over(self) -> None:
        """Wait for the oldest pending drain nobody waits for yet (its connection is about to
        be free), if the pool will keep that connection; bounded by the drain's own cap.
        Cancelling the waiter leaves the drain be."""
        while self.unclaimed and self.gate.keeps():
            task = self.unclaimed.popleft()
            if not task.done():
                import asyncio

                await asyncio.wait((task,))
                return

    async def settle(self, cancel: bool) -> None:
        """Cancel (``cancel``) or wait for every pending drain, so none outlives its client."""
        import asyncio

        tasks = list(self.drains)
        if cancel:
            for task in tasks:
                task.cancel()
        if tasks:
            await asyncio.wait(tasks)


DRAIN_BYTES = 64 * 1024  # a body going on after its end marker is not read past this


def drain(pieces: Iterator[bytes], clock: Any, cap: float) -> None:
    """Read what is left of a complete body: reads wait at most ``cap`` seconds in all (the
    read clock's deadline) and stop after ``DRAIN_BYTES``; a failed read just ends it."""
    clock.deadline = time.monotonic() + cap
    got = 0
    with contextlib.suppress(Exception):
        for data in pieces:
            got += len(data)
            if got > DRAIN_BYTES:
                break


async def adrain(
    pieces: AsyncIterator[bytes], clock: Any, cap: float, done: Callable[[], Awaitable[None]]
) -> None:
    """The async :func:`drain`, run as a task (:meth:`AsyncPool.start_drain`); ``done``
    closes the response after (also when the task is cancelled)."""
    clock.deadline = time.monotonic() + cap
    got = 0
    try:
        async for data in pieces:
            got += len(data)
            if got > DRAIN_BYTES:
                break
    except Exception:
        pass  # a read that ran out of time or failed: ``done`` closes the connection
    finally:
        await aclose_quietly(pieces)
        await done()


async def turn() -> None:
    """Let the loop run the tasks that are ready (a drain whose rest is already here ends)."""
    import asyncio

    await asyncio.sleep(0)


async def aclose_quietly(pieces: Any) -> None:
    with contextlib.suppress(Exception):
        await pieces.aclose()


GATE = "kairos_gate"  # a response's extension: the gate its request went through
POOL = "kairos_pool"  # an async response's extension: its client's AsyncPool


def kept(extensions: dict[str, Any]) -> bool:
    """Whether the pool will keep this response's connection once it goes idle (otherwise
    draining its body would only delay closing it)."""
    gate = extensions.get(GATE)
    return gate is None or bool(gate.keeps())


def returned(extensions: dict[str, Any]) -> None:
    """This response's body was read to its end: its connection went back to the pool."""
    gate = extensions.get(GATE)
    if gate is not None:
        gate.returned()


_gates: weakref.WeakKeyDictionary[Any, Gate] = weakref.WeakKeyDictionary()
_apools: weakref.WeakKeyDictionary[Any, AsyncPool] = weakref.WeakKeyDictionary()
_sizes: weakref.WeakKeyDictionary[Any, tuple[int, int]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
C = TypeVar("C")


def own(client: C, capacity: int, keepalive: int) -> C:
    """Register a client kairos built: its pool holds ``capacity`` connections and keeps
    idle ones while it holds at most ``keepalive``."""
    _sizes[client] = (capacity, keepalive)
    return client


def gate(client: Any) -> Gate:
    """The sync client's gate."""
    found = _gates.get(client)
    if found is None:
        with _lock:
            found = _gates.get(client)
            if found is None:
                found = _gates[client] = Gate(*_sizes.get(client, (None, KEEPALIVE)))
    return found


def apool(client: Any) -> AsyncPool:
    """The async client's state on the running loop (a client used from a new loop starts
    afresh: the old loop's waiters and drains cannot be awaited from this one)."""
    import asyncio

    loop = asyncio.get_running_loop()
    found = _apools.get(client)
    if found is None or found.loop is not loop:
        found = _apools[client] = AsyncPool(loop, *_sizes.get(client, (None, KEEPALIVE)))
    return found


async def asettle(client: Any, cancel: bool) -> None:
    """Cancel or await the pending drains of ``client`` on the running loop, if any."""
    import asyncio

    found = _apools.get(client)
    if found is not None and found.loop is asyncio.get_running_loop():
        await found.settle(cancel)
