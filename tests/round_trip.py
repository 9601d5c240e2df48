"""The round trip over recorded answers: a first turn read from a conformance case's recorded
body, then the second-turn request a NEW provider object builds from ``to_message()``.

Each way of reading the first turn is exercised (a drained stream and ``chat()``, sync and
async); the second request is captured as the JSON body kairos sent, for comparison with the
case's ``expected.round_trip`` (the assistant turn the official SDK sends back; see
``shared/conformance/README.md``, "Round-trip expectations").
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import kairos
from cases import conformance

WAYS = ["stream-sync", "stream-async", "chat-sync", "chat-async"]
KEY = "test-key-round-trip"
URL = "http://round-trip.test"


def round_trip_cases(fmt: str) -> list[str]:
    """The cases of ``fmt`` whose ``expected`` has a ``round_trip``."""
    folder = conformance(fmt)
    names = []
    for case in sorted(folder.glob("*/case.json")):
        if json.loads(case.read_text())["expected"].get("round_trip") is not None:
            names.append(case.parent.name)
    return names


def load(fmt: str, name: str) -> tuple[dict[str, Any], bytes]:
    folder = conformance(fmt) / name
    case = json.loads((folder / "case.json").read_text())
    return case, next(folder.glob("response.*")).read_bytes()


def _ctype(body: bytes) -> str:
    return "application/x-ndjson" if body.lstrip().startswith(b"{") else "text/event-stream"


def _replay(body: bytes, seen: list[Any]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, headers={"content-type": _ctype(body)}, content=body)

    return handler


def first_turn(
    preset: str, body: bytes, req: kairos.ChatRequest, way: str, base_url: str = URL
) -> kairos.ChatResponse:
    """The answer to ``req`` read from the recorded ``body`` one way. A stream that ended with
    an in-band error gives the partial answer the error carries."""
    seen: list[Any] = []
    handler = _replay(body, seen)
    mode = way.split("-")[1]
    if mode == "sync":
        client = httpx.Client(transport=httpx.MockTransport(handler))
        with kairos.provider(preset, api_key=KEY, base_url=base_url, http_client=client) as p:
            return _sync(p, req, way.startswith("chat"))

    async def main() -> kairos.ChatResponse:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with kairos.async_provider(
            preset, api_key=KEY, base_url=base_url, http_client=client
        ) as p:
            return await _async(p, req, way.startswith("chat"))

    return asyncio.run(main())


def _sync(p: kairos.HTTPProvider, req: kairos.ChatRequest, chat: bool) -> kairos.ChatResponse:
    try:
        if chat:
            return p.chat(req)
        with p.chat_stream(req) as stream:
            return stream.get_final_response()
    except kairos.APIStatusError as err:
        assert err.partial is not None
        return err.partial


async def _async(
    p: kairos.AsyncHTTPProvider, req: kairos.ChatRequest, chat: bool
) -> kairos.ChatResponse:
    try:
        if chat:
            return await p.chat(req)
        stream = await p.chat_stream(req)
        async with stream:
            return await stream.get_final_response()
    except kairos.APIStatusError as err:
        assert err.partial is not None
        return err.partial


def second_request(
    preset: str, history: list[kairos.Message], model: str, base_url: str = URL, **req: Any
) -> Any:
    """The JSON body a brand-new provider object sends for ``history`` (the server answers
    with an error: only the request matters)."""
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(400, json={"error": {"message": "stop here", "type": "x"}})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with (
        kairos.provider(
            preset, api_key=KEY, base_url=base_url, http_client=client, max_retries=0
        ) as fresh,
        pytest.raises(kairos.APIStatusError),
    ):  # the request is all that matters
        fresh.chat(kairos.ChatRequest(history, model=model, **req))
    assert len(seen) == 1
    return seen[0]


def tool_results(message: kairos.Message) -> list[kairos.Message]:
    """A tool result for each call of ``message`` (so the history is a valid tool loop)."""
    return [kairos.Message.tool('{"ok": true}', c.id, c.name) for c in message.tool_calls]


def refused(preset: str, history: list[kairos.Message], model: str, **req: Any) -> str:
    """The :class:`kairos.ConfigurationError` message for ``history``, checking that no
    request was sent."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with (
        kairos.provider(preset, api_key=KEY, base_url=URL, http_client=client) as p,
        pytest.raises(kairos.ConfigurationError) as info,
    ):
        p.chat(kairos.ChatRequest(history, model=model, **req))
    assert seen == []
    return str(info.value)


# tiny files with real magic bytes (the builders read the media type from them)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16
PDF = b"%PDF-1.7\n%kairos test\n"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 16
MP3 = b"ID3\x04\x00" + b"\x00" * 16
