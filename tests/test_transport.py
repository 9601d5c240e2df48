"""The body reader over real sockets: identity bodies are read from httpx's byte stream
directly; httpx's bookkeeping stays right and completed streams keep their connection."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import httpx
import pytest

import kairos
from loopback import LoopbackServer, Reply

REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")


def sse(*texts: str) -> list[bytes]:
    out = []
    for text in texts:
        delta = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
        out.append(b"data: " + json.dumps(delta).encode() + b"\n\n")
    end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    return [*out, b"data: " + json.dumps(end).encode() + b"\n\n", b"data: [DONE]\n\n"]


class Seen:
    """Response hook: each response and the local address of its connection."""

    def __init__(self) -> None:
        self.responses: list[httpx.Response] = []
        self.addrs: list[Any] = []

    def sync(self, r: httpx.Response) -> None:
        self.responses.append(r)
        self.addrs.append(r.extensions["network_stream"].get_extra_info("client_addr"))

    async def async_(self, r: httpx.Response) -> None:
        self.sync(r)


def test_sync_streams_reuse_the_connection_and_close_their_responses() -> None:
    seen = Seen()
    replies = [Reply(pieces=sse("a", "b", "c")) for _ in range(3)]
    with LoopbackServer(replies) as server:
        client = httpx.Client(event_hooks={"response": [seen.sync]})
        p = kairos.provider("openai", base_url=server.url + "/v1", api_key="k", http_client=client)
        with client:
            texts = ["".join(c.content or "" for c in p.chat_stream(REQ)) for _ in range(3)]
    assert texts == ["abc"] * 3
    assert len(set(seen.addrs)) == 1  # one connection for all three streams
    assert all(r.is_closed and r.is_stream_consumed for r in seen.responses)


def test_async_streams_reuse_the_connection_and_close_their_responses() -> None:
    seen = Seen()

    async def main() -> list[str]:
        client = httpx.AsyncClient(event_hooks={"response": [seen.async_]})
        kw: dict[str, Any] = {"api_key": "k", "http_client": client}
        async with client:
            p = kairos.async_provider("openai", base_url=server.url + "/v1", **kw)
            out = []
            for _ in range(3):
                stream = await p.chat_stream(REQ)
                out.append("".join([c.content or "" async for c in stream]))
            return out

    replies = [Reply(pieces=sse("a", "b", "c")) for _ in range(3)]
    with LoopbackServer(replies) as server:
        texts = asyncio.run(main())
    assert texts == ["abc"] * 3
    assert len(set(seen.addrs)) == 1
    assert all(r.is_closed and r.is_stream_consumed for r in seen.responses)


@pytest.mark.parametrize("coding", ["gzip", "identity"])
def test_content_coding_is_decoded(coding: str) -> None:
    body = b"".join(sse("h", "i"))
    data = gzip.compress(body) if coding == "gzip" else body
    headers = {"content-type": "text/event-stream", "content-encoding": coding}
    with LoopbackServer([Reply.body(data, split=7, headers=headers)]) as server:
        p = kairos.provider("openai", base_url=server.url + "/v1", api_key="k")
        with p:
            assert "".join(c.content or "" for c in p.chat_stream(REQ)) == "hi"


def test_connection_lost_mid_body_names_its_request() -> None:
    replies = [Reply(pieces=sse("a")[:1], drop=True)]
    with LoopbackServer(replies) as server:
        p = kairos.provider("openai", base_url=server.url + "/v1", api_key="k", max_retries=0)
        with p, p.chat_stream(REQ) as stream, pytest.raises(kairos.StreamInterrupted) as info:
            for _ in stream:
                pass
    cause = info.value.__cause__
    assert isinstance(cause, httpx.RequestError)
    assert cause.request.url.path == "/v1/chat/completions"
