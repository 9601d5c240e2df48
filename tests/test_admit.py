"""The admission gates of ``kairos._admit``: when a request may enter httpx's pool.

Pure decisions, driven here the way ``_http`` drives them: ``enter`` before a send, the trace
events httpcore reports for the request (the names are httpcore's), ``done`` when the send
returns. The end-to-end behaviour over real sockets is in ``test_pool.py``.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from kairos._admit import LEARNING, OPEN, AsyncGate, Gate, Ticket

REUSED = "http11.send_request_headers.started"  # the first event on a kept-alive connection
OPENED = "connection.connect_tcp.started"  # the first event on a new connection
CLOSED = "http11.response_closed.complete"


async def full() -> tuple[AsyncGate, Ticket, Ticket]:
    """A gate of capacity 1 whose slot is taken (on a new connection) and a holder waiting
    inside the pool for the next free connection."""
    gate = AsyncGate(asyncio.get_running_loop(), 1)
    first, holder = await gate.enter(None), await gate.enter(None)
    assert first is not None and holder is not None and holder.held
    await first.atrace(OPENED, {})  # the transport traces: waiting is bounded by timeouts
    return gate, first, holder


async def admitted(gate: AsyncGate, n: int, timeout: float | None = 2.0) -> list[Any]:
    """Start ``n`` entries; return those that got in (tickets) or the pending tasks."""
    tasks = [asyncio.ensure_future(gate.enter(timeout)) for _ in range(n)]
    await asyncio.sleep(0)
    return tasks


def test_with_an_idle_connection_requests_enter_one_at_a_time() -> None:
    async def main() -> None:
        gate = AsyncGate(asyncio.get_running_loop(), None)
        gate.returned()  # one connection went back to the pool
        first, second, third = await admitted(gate, 3)
        assert first.done() and first.result().held
        assert not second.done() and not third.done()  # they would herd on the idle one
        await first.result().atrace(REUSED, {})  # the first took it: no idle one is left
        await asyncio.sleep(0)
        assert second.done() and third.done()
        assert not second.result().held and not third.result().held  # straight in, at once
        assert gate.active == 3 and gate.idle == 0

    asyncio.run(main())


def test_a_new_connection_means_no_idle_one_is_left() -> None:
    async def main() -> None:
        gate = AsyncGate(asyncio.get_running_loop(), None)
        for _ in range(3):
            gate.returned()  # the estimate: three idle (the pool closed two meanwhile)
        first, second = await admitted(gate, 2)
        await first.result().atrace(OPENED, {})
        await asyncio.sleep(0)
        assert gate.idle == 0 and second.done() and not second.result().held

    asyncio.run(main())


def test_a_full_pool_is_waited_for_here_one_at_a_time_in_order() -> None:
    """Capacity 2: two go in, a third waits inside the pool (holding the gate) for the next
    free connection, the others wait here, in order."""

    async def main() -> None:
        gate = AsyncGate(asyncio.get_running_loop(), 2)
        tasks = await admitted(gate, 6)
        assert [t.done() for t in tasks] == [True, True, True, False, False, False]
        first, second, holder = (t.result() for t in tasks[:3])
        assert not first.held and not second.held and holder.held
        for ticket in (first, second):
            await ticket.atrace(OPENED, {})
            ticket.done(True)
        await first.atrace(CLOSED, {})  # a connection is free: the holder takes it
        await holder.atrace(REUSED, {})
        await asyncio.sleep(0)
        assert [t.done() for t in tasks] == [True, True, True, True, False, False]
        assert tasks[3].result().held  # the next in line now waits inside the pool
        await second.atrace(CLOSED, {})
        await asyncio.sleep(0)
        assert not tasks[4].done()  # only one waits inside the pool at a time
        for t in tasks[4:]:
            t.cancel()

    asyncio.run(main())


def test_waiting_for_a_full_pool_ends_at_the_timeout() -> None:
    async def main() -> Any:
        gate, _, _ = await full()
        return await gate.enter(0.05)

    assert asyncio.run(main()) is None


def test_a_cancelled_waiter_passes_its_turn_on() -> None:
    async def main() -> None:
        gate, first, holder = await full()
        second, third = await admitted(gate, 2)
        await first.atrace(CLOSED, {})
        await holder.atrace(REUSED, {})  # the turn goes to the second...
        second.cancel()  # ...which is cancelled before it runs
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert second.cancelled() and third.done() and third.result().held
        assert gate.active == 2  # the holder and the third

    asyncio.run(main())


def test_a_transport_that_never_traces_opens_its_gate() -> None:
    async def main() -> None:
        gate = AsyncGate(asyncio.get_running_loop(), None)
        gate.returned()
        first, second = await admitted(gate, 2)
        await asyncio.sleep(LEARNING * 2)  # no trace comes: the second goes ahead anyway
        assert second.done() and not second.result().held
        first.result().done(True)  # answered without a single trace event
        second.result().done(True)
        assert gate.mode == OPEN and gate.active == 0
        later = await gate.enter(None)
        assert isinstance(later, Ticket) and later.gate is None

    asyncio.run(main())


def test_a_failed_send_gives_its_place_back() -> None:
    async def main() -> None:
        gate, _, holder = await full()
        (waiter,) = await admitted(gate, 1)
        holder.done(False)  # its wait in the pool failed (a pool timeout): no trace came
        await asyncio.sleep(0)
        assert waiter.done() and waiter.result().held and gate.active == 2

    asyncio.run(main())


def test_the_sync_gate_waits_for_its_turn() -> None:
    gate = Gate(1)
    first, holder = gate.enter(None), gate.enter(None)
    assert first is not None and holder is not None and holder.held
    first.trace(OPENED, {})
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(gate.enter(2.0)))
    waiter.start()
    waiter.join(0.1)
    assert waiter.is_alive() and not got  # the pool is full, and one waits inside it
    first.trace(CLOSED, {})
    holder.trace(REUSED, {})
    waiter.join(2.0)
    assert got and isinstance(got[0], Ticket) and got[0].held and gate.active == 2
    assert gate.enter(0.05) is None  # still full: a timeout


def test_a_connection_is_worth_draining_only_while_the_pool_keeps_idle_ones() -> None:
    """httpx closes a connection going idle while its pool holds more than its keep-alive
    bound: draining the rest of a body for it would only delay that."""
    gate = Gate(None)  # a caller's client: httpx's default bound (20) is assumed
    tickets = [gate.enter(None) for _ in range(21)]
    assert all(t is not None for t in tickets) and not gate.keeps()
    ticket = tickets[0]
    assert ticket is not None
    ticket.trace(OPENED, {})
    ticket.trace(CLOSED, {})
    assert gate.keeps() and Gate(1000, 100).keeps()
