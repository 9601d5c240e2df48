"""Run one recorded body through kairos, every way a caller can: a real loopback HTTP server or
``httpx.MockTransport``, sync or async. Compare the result with a conformance case's
``expected`` (produced by the provider's official SDK from the same bytes)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx

import kairos
from cases import conformance
from loopback import LoopbackServer, Reply

WAYS = [("loopback", "sync"), ("loopback", "async"), ("mock", "sync"), ("mock", "async")]
WAY_IDS = [f"{t}-{m}" for t, m in WAYS]
MOCK_URL = "http://mock.test"


def case_names(fmt: str) -> list[str]:
    return sorted(p.name for p in conformance(fmt).iterdir() if p.is_dir())


def load_case(fmt: str, name: str) -> tuple[dict[str, Any], bytes]:
    folder = conformance(fmt) / name
    case = json.loads((folder / "case.json").read_text())
    body = next(folder.glob("response.*")).read_bytes()
    return case, body


@dataclass
class Outcome:
    chunks: list[kairos.StreamChunk]
    final: kairos.StreamChunk
    response: kairos.ChatResponse
    raised: BaseException | None  # what iterating past the final chunk raised


def content_type(body: bytes) -> str:
    return "application/x-ndjson" if body.lstrip().startswith(b"{") else "text/event-stream"


def _drain_sync(stream: kairos.Stream) -> Outcome:
    chunks: list[kairos.StreamChunk] = []
    raised = None
    with stream:
        try:
            for chunk in stream:
                chunks.append(chunk)
        except kairos.KairosError as exc:
            raised = exc
    return Outcome(chunks, chunks[-1], stream.response, raised)


async def _drain_async(stream: kairos.AsyncStream) -> Outcome:
    chunks: list[kairos.StreamChunk] = []
    raised = None
    async with stream:
        try:
            async for chunk in stream:
                chunks.append(chunk)
        except kairos.KairosError as exc:
            raised = exc
    return Outcome(chunks, chunks[-1], stream.response, raised)


def run(
    spec: str,
    reply: Reply,
    request: kairos.ChatRequest,
    *,
    transport: str,
    mode: str,
    suffix: str = "",
    **kw: Any,
) -> Outcome:
    """Stream ``reply`` to kairos one way; ``suffix`` is appended to the base URL (``/v1``)."""
    if transport == "loopback":
        with LoopbackServer([reply]) as server:
            return _run(spec, request, server.url + suffix, None, mode, kw)
    body = b"".join(p for p in reply.pieces if isinstance(p, bytes))

    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(reply.status, headers=reply.headers, content=body)

    return _run(spec, request, MOCK_URL + suffix, httpx.MockTransport(handler), mode, kw)


def _run(
    spec: str,
    request: kairos.ChatRequest,
    base_url: str,
    mock: httpx.MockTransport | None,
    mode: str,
    kw: dict[str, Any],
) -> Outcome:
    kw.setdefault("api_key", "test-key")
    if mode == "sync":
        client = httpx.Client(transport=mock) if mock else None
        with kairos.provider(spec, base_url=base_url, http_client=client, **kw) as p:
            return _drain_sync(p.chat_stream(request))

    async def main() -> Outcome:
        client = httpx.AsyncClient(transport=mock) if mock else None
        async with kairos.async_provider(spec, base_url=base_url, http_client=client, **kw) as p:
            return await _drain_async(await p.chat_stream(request))

    return asyncio.run(main())


def completion_tokens(expected: dict[str, Any]) -> int:
    """kairos' completion count for a case: the SDK's, plus thought tokens the wire reports
    apart from the output (``raw_usage.thoughts_token_count``: Gemini's candidates exclude
    them; kairos' completion count includes reasoning on every wire)."""
    thoughts = (expected.get("raw_usage") or {}).get("thoughts_token_count") or 0
    return int(expected["usage"]["completion_tokens"]) + int(thoughts)


def check_expected(out: Outcome, expected: dict[str, Any]) -> None:
    """Assert kairos' result equals the official SDK's ``expected`` for the same bytes (the
    completion count as :func:`completion_tokens` says)."""
    resp = out.response
    assert resp.content == expected["content"]
    assert (resp.reasoning or None) == (expected["reasoning"] or None)
    got_tools = [(c.id, c.name, c.parsed_arguments()) for c in resp.tool_calls]
    want_tools = [(t["id"], t["name"], t["arguments"]) for t in expected["tool_calls"]]
    assert got_tools == want_tools
    if expected["usage"] is None:
        assert resp.usage is None
    else:
        assert resp.usage is not None
        u = expected["usage"]
        got = (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens)
        assert got == (u["prompt_tokens"], completion_tokens(expected), u["total_tokens"])
    assert resp.raw_finish_reason == expected["finish_reason"]
    # exactly one final chunk, and it is the last
    assert [c.done for c in out.chunks].count(True) == 1 and out.final.done
    assert out.final.stats is not None and out.final.stats.chunks == len(out.chunks)
    assert "".join(c.content for c in out.chunks) == expected["content"]
    err = expected["error"]
    if err is None:
        assert out.final.error is None, out.final.error
        assert out.raised is None
        return
    assert isinstance(out.final.error, kairos.APIStatusError), out.final.error
    assert out.raised is out.final.error  # iterating past a failed final chunk raises it
    assert out.final.finish_reason == "error"
    assert out.final.error.partial is not None
    assert out.final.error.partial.content == expected["content"]
