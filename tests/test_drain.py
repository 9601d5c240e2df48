"""After the end marker the rest of the body is drained, so the connection is reused (issue 17).

A raw-socket server (``rawhttp.py``) writes the chunked framing itself: the terminator right
after the end marker, late (a pause first), never (the socket is held until the client closes
it), or after junk. In every case the caller's stream ends with the right text and its final
chunk arrives before the terminator was even sent (async: the whole loop ends before it; sync:
the connection is drained before it is released); connections are counted on the server's
side: sequential streams use one connection whatever the gap, a body that never ends costs one
connection closed after ``Timeouts.drain``, and nothing stays open once the provider closes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import kairos
from rawhttp import HEAD, TERMINATOR, Piece, RawServer, chunk

REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
WAIT = 5.0  # upper bound on any wait in this file
CAP = 0.2  # Timeouts.drain where a test waits for it to run out
MODES = ["sync", "async"]


def event(content: str, finish: str | None = None) -> bytes:
    delta = {"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]}
    return b"data: " + json.dumps(delta).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"
BODY = HEAD + chunk(event("he")) + chunk(event("llo")) + chunk(event("", "stop")) + chunk(DONE)


def answer(*rest: Piece | None) -> Callable[[int, bytes], list[Piece | None]]:
    return lambda index, request: [BODY, *rest]


@dataclass
class Run:
    text: str
    final_at: float  # when the final chunk reached the caller
    ended_at: float  # when the caller's loop ended


def _sync(p: kairos.HTTPProvider, n: int) -> list[Run]:
    out = []
    for _ in range(n):
        text, final_at = [], 0.0
        for c in p.chat_stream(REQ):
            text.append(c.content)
            if c.done:
                final_at = time.monotonic()
        out.append(Run("".join(text), final_at, time.monotonic()))
    return out


async def _async(p: kairos.AsyncHTTPProvider, n: int) -> list[Run]:
    out = []
    for _ in range(n):
        text, final_at = [], 0.0
        async for c in await p.chat_stream(REQ):
            text.append(c.content)
            if c.done:
                final_at = time.monotonic()
        out.append(Run("".join(text), final_at, time.monotonic()))
    return out


def streams(mode: str, server: RawServer, n: int, check: Callable[[], Any] = lambda: None,
            **kw: Any) -> list[Run]:  # fmt: skip
    """``n`` sequential streams through one provider; ``check`` runs before it closes."""
    kw = {"api_key": "k", "base_url": server.url + "/v1", **kw}
    if mode == "sync":
        with kairos.provider("openai", **kw) as p:
            runs = _sync(p, n)
            check()
        return runs

    async def main() -> list[Run]:
        async with kairos.async_provider("openai", **kw) as p:
            runs = await _async(p, n)
            await asyncio.to_thread(check)
            return runs

    return asyncio.run(main())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("gap", "n"), [(0.0, 100), (0.002, 100), (0.02, 10), (0.05, 10)])
def test_sequential_streams_use_one_connection_whatever_the_gap(
    mode: str, gap: float, n: int
) -> None:
    with RawServer(answer(gap, TERMINATOR)) as server:
        runs = streams(mode, server, n)
        assert [r.text for r in runs] == ["hello"] * n
        assert server.accepted == 1
        assert server.wait_closed(WAIT)


@pytest.mark.parametrize("mode", MODES)
def test_the_final_chunk_does_not_wait_for_a_late_terminator(mode: str) -> None:
    with RawServer(answer(0.15, TERMINATOR)) as server:  # within the default cap (0.25 s)
        runs = streams(mode, server, 2, lambda: server.wait_for(lambda: len(server.sent_last) == 2))
        assert [r.text for r in runs] == ["hello"] * 2
        assert len(server.sent_last) == 2
        for run, terminator_sent in zip(runs, server.sent_last, strict=True):
            assert run.final_at < terminator_sent
            if mode == "async":  # nothing holds the caller; the drain runs in the background
                assert run.ended_at < terminator_sent
        assert server.accepted == 1  # and yet the connection was kept


@pytest.mark.parametrize("mode", MODES)
def test_a_body_that_never_ends_costs_the_cap_then_its_connection(mode: str) -> None:
    with RawServer(answer(None)) as server:
        timeout = kairos.Timeouts(drain=CAP)
        # both connections are closed by the drains' cap, while the provider is still open
        runs = streams(mode, server, 2, lambda: server.wait_closed(WAIT), timeout=timeout)
        assert [r.text for r in runs] == ["hello"] * 2
        assert server.accepted == 2 and server.open == 0
        closed = sorted(server.closed_at)
        for run, closed_at in zip(runs, closed, strict=True):
            assert closed_at - run.final_at >= CAP * 0.9  # not before the cap ran out
            if mode == "async":
                assert run.ended_at < closed_at  # the caller was not held meanwhile


@pytest.mark.parametrize("mode", MODES)
def test_events_after_the_end_marker_are_drained_not_shown(mode: str) -> None:
    junk = chunk(event("junk")) + chunk(b"data: {not json\n\n") + chunk(b"\x00garbage")
    with RawServer(answer(junk, 0.01, TERMINATOR)) as server:
        runs = streams(mode, server, 3)
        assert [r.text for r in runs] == ["hello"] * 3
        assert server.accepted == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "rest",
    [
        pytest.param([b"zz\r\nnot chunked\r\n", None], id="malformed-framing"),
        pytest.param([TERMINATOR + b"HTTP/1.1 junk\r\n"], id="junk-after-terminator"),
        pytest.param([0.01, TERMINATOR, 0.01, b"junk\r\n"], id="late-junk-after-terminator"),
    ],
)
def test_junk_after_the_body_ends_the_connection_not_the_stream(
    mode: str, rest: list[Piece | None]
) -> None:
    with RawServer(answer(*rest)) as server:
        runs = streams(mode, server, 3)
        assert [r.text for r in runs] == ["hello"] * 3
        assert server.wait_closed(WAIT)


@pytest.mark.parametrize("mode", MODES)
def test_leaving_a_complete_stream_early_still_keeps_its_connection(mode: str) -> None:
    """``break`` on the final chunk (with and without ``with``): the close drains."""
    kw: dict[str, Any] = {"api_key": "k"}
    with RawServer(answer(0.02, TERMINATOR)) as server:
        kw["base_url"] = server.url + "/v1"
        if mode == "sync":
            with kairos.provider("openai", **kw) as p:
                for _ in range(2):
                    with p.chat_stream(REQ) as s:
                        for c in s:
                            if c.done:
                                break
                    for c in p.chat_stream(REQ):
                        if c.done:
                            break
        else:

            async def main() -> None:
                async with kairos.async_provider("openai", **kw) as p:
                    for _ in range(2):
                        async with await p.chat_stream(REQ) as s:
                            async for c in s:
                                if c.done:
                                    break

            asyncio.run(main())
        assert server.requests == (4 if mode == "sync" else 2)
        assert server.accepted == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_retried_in_band_error_reuses_the_drained_connection(mode: str) -> None:
    error = b'data: {"error": {"message": "busy", "type": "server_error"}}\n\n'

    def reply(index: int, request: bytes) -> list[Piece | None]:
        if index == 0:
            return [HEAD + chunk(error), 0.02, TERMINATOR]
        return [BODY, TERMINATOR]

    retry = kairos.RetryPolicy(max_retries=1, base_delay=0.0, max_delay=0.0)
    with RawServer(reply) as server:
        runs = streams(mode, server, 1, max_retries=retry)
        assert [r.text for r in runs] == ["hello"]
        assert server.requests == 2 and server.accepted == 1


def test_no_drain_outlives_an_async_provider() -> None:
    """Closing the provider right after a stream whose body never ends: the drain (cap far
    away) is cancelled with kairos' own client, awaited with the caller's (within its cap);
    either way no task is left and the connection is closed."""

    async def main(server: RawServer) -> tuple[set[Any], set[Any]]:
        kw: dict[str, Any] = {"api_key": "k", "base_url": server.url + "/v1"}
        p = kairos.async_provider("openai", timeout=kairos.Timeouts(drain=WAIT * 2), **kw)
        async with p:
            assert await _async(p, 1)
        own = asyncio.all_tasks() - {asyncio.current_task()}
        async with httpx.AsyncClient() as client:
            q = kairos.async_provider(
                "openai", http_client=client, timeout=kairos.Timeouts(drain=CAP), **kw
            )
            async with q:
                assert await _async(q, 1)
            theirs = asyncio.all_tasks() - {asyncio.current_task()}
            assert not client.is_closed  # the caller's client is theirs to close
        return own, theirs

    with RawServer(answer(None)) as server:
        own, theirs = asyncio.run(main(server))
        assert own == set() and theirs == set()
        assert server.wait_closed(WAIT)
