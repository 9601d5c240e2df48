"""When the browser goes away, the provider stream is closed within 100 ms.

A real chain over sockets: an HTTP client reads the UI message stream from a Starlette app under
Uvicorn, which streams from a kairos provider reading a loopback upstream. The client hangs up
mid-reply; the upstream server records when kairos closed its connection. Two upstreams: one
that keeps sending (it notices on its next write, every 5 ms) and one that has gone silent like
a model thinking (it watches its socket), so the close cannot wait for the next chunk."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import kairos
import kairos.web
from loopback import LoopbackServer, endless
from loopback import Reply as Raw
from web_support import SilentUpstream, chunk, serve_app

GAP = 0.005
BOUND = 0.1 + 2 * GAP  # the sending upstream notices on its next write (or the one after)
WAIT = 3.0
BODY = {
    "id": "c",
    "messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "hi"}]}],
}


def sending_upstream() -> LoopbackServer:
    return LoopbackServer(lambda seen: Raw(pieces=endless(chunk("x"), GAP, 4.0)))


def declaring_asgi_2_4(app: Any) -> Any:
    """``app`` as a server declaring ASGI spec 2.4 runs it: Starlette's own StreamingResponse
    then stops listening for ``http.disconnect`` and only notices a hang-up when it writes."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        scope = {**scope, "asgi": {**scope.get("asgi", {}), "spec_version": "2.4"}}
        await app(scope, receive, send)

    return wrapped


def app_for(base_url: str, mode: str) -> Starlette:
    """``/api/chat`` streaming from an OpenAI-style provider at ``base_url``, async or sync."""
    opts: dict[str, Any] = {"base_url": base_url + "/v1", "api_key": "k", "max_retries": 0}
    async_llm = kairos.async_provider("openai", **opts)
    sync_llm = kairos.provider("openai", **opts)

    async def chat(request: Request) -> Response:
        req = kairos.web.read_chat_request(await request.json(), model="m")
        if mode == "async":
            return kairos.web.UIMessageStreamResponse(async_llm.chat_stream(req))
        return kairos.web.UIMessageStreamResponse(lambda: sync_llm.chat_stream(req))

    return Starlette(routes=[Route("/api/chat", chat, methods=["POST"])])


def read_then_hang_up(url: str) -> float:
    """Read the stream until the first text delta, then close the connection; when."""
    with (
        httpx.Client(timeout=WAIT) as client,
        client.stream("POST", url + "/api/chat", json=BODY) as response,
    ):
        assert response.status_code == 200
        assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
        for line in response.iter_lines():
            if '"text-delta"' in line:
                break
        else:
            pytest.fail("the stream ended before any text")
    return time.monotonic()


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_hang_up_closes_a_sending_upstream(mode: str) -> None:
    with sending_upstream() as upstream, serve_app(app_for(upstream.url, mode)) as url:
        closed_at = read_then_hang_up(url)
        assert upstream.disconnected.wait(WAIT), "the upstream never saw kairos hang up"
        elapsed = time.monotonic() - closed_at
        assert elapsed < BOUND, f"upstream closed {elapsed * 1000:.0f} ms after the client left"
        assert upstream.completed == 0


@pytest.mark.parametrize("spec", ["2.3", "2.4"])
@pytest.mark.parametrize("mode", ["async", "sync"])
def test_hang_up_closes_a_silent_upstream(mode: str, spec: str) -> None:
    with SilentUpstream() as upstream:
        app = app_for(upstream.url, mode)
        with serve_app(declaring_asgi_2_4(app) if spec == "2.4" else app) as url:
            closed_at = read_then_hang_up(url)
            assert upstream.hung_up.wait(WAIT), "the upstream never saw kairos hang up"
        elapsed = upstream.hung_up_at - closed_at
        assert elapsed < 0.1, f"upstream closed {elapsed * 1000:.0f} ms after the client left"


async def _first_delta(ui: kairos.web.UIMessageStream) -> None:
    async for piece in ui:
        if b'"text-delta"' in piece:
            return
    pytest.fail("no text")


def test_aclose_of_the_plain_iterator_closes_the_upstream() -> None:
    req = kairos.ChatRequest([kairos.Message.user("hi")], model="m")

    async def main(upstream: LoopbackServer) -> float:
        llm = kairos.async_provider("openai", base_url=upstream.url + "/v1", api_key="k")
        ui = kairos.web.ui_message_stream(llm.chat_stream(req))
        await _first_delta(ui)
        await ui.aclose()
        return time.monotonic()

    with sending_upstream() as upstream:
        closed_at = asyncio.run(main(upstream))
        assert upstream.disconnected.wait(WAIT)
        assert time.monotonic() - closed_at < BOUND


def test_cancel_from_another_thread_wakes_a_reader_blocked_on_a_silent_sync_stream() -> None:
    req = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
    got: list[bytes] = []

    async def main(llm: kairos.HTTPProvider) -> float:
        ui = kairos.web.ui_message_stream(lambda: llm.chat_stream(req))
        pieces = ui.__aiter__()
        while b'"text-delta"' not in await pieces.__anext__():
            pass
        threading.Timer(0.05, ui.cancel).start()
        got.extend([p async for p in pieces])  # blocked on the silent upstream until cancel()
        return time.monotonic()

    with (
        SilentUpstream() as upstream,
        kairos.provider("openai", base_url=upstream.url + "/v1", api_key="k") as llm,
    ):
        t0 = time.monotonic()
        ended_at = asyncio.run(main(llm))
        assert upstream.hung_up.wait(WAIT)
        assert ended_at - t0 < WAIT
    assert got == []  # nobody is listening after a cancel: nothing more is sent


def test_cancelling_the_reading_task_closes_the_upstream() -> None:
    """A framework that just stops iterating and cancels its task (no aclose) is covered by
    task cancellation: the upstream closes too."""
    req = kairos.ChatRequest([kairos.Message.user("hi")], model="m")

    async def main(upstream: LoopbackServer) -> float:
        llm = kairos.async_provider("openai", base_url=upstream.url + "/v1", api_key="k")
        ui = kairos.web.ui_message_stream(llm.chat_stream(req))

        async def consume() -> None:
            async for _ in ui:
                pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.1)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return time.monotonic()

    with sending_upstream() as upstream:
        closed_at = asyncio.run(main(upstream))
        assert upstream.disconnected.wait(WAIT)
        assert time.monotonic() - closed_at < BOUND
