"""kairos itself against ``kairos serve``: every provider (openai, qwen, anthropic, gemini,
ollama), sync and async, ``chat_stream`` and ``chat``, gets the scripted content, reasoning,
tool calls (two parallel calls to one function) and usage."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

import kairos
from kairos.serve import EmulatorServer

TEXT = "Ciao! Streaming through the emulator, 第一 chunk."
REASONING = "The user greets me."
USAGE = kairos.Usage(prompt_tokens=12, completion_tokens=8, total_tokens=20)
CALLS = [("lookup", {"q": "Paris"}), ("lookup", {"q": "Tokyo"})]
SCRIPT = {
    "replies": [
        {
            "match": "two lookups",
            "text": "On it.",
            "tool_calls": [{"name": n, "arguments": a} for n, a in CALLS],
            "usage": {"prompt_tokens": 30, "completion_tokens": 11},
        },
        {
            "reasoning": REASONING,
            "text": TEXT,
            "usage": {"prompt_tokens": 12, "completion_tokens": 8},
        },
    ]
}
PROVIDERS = {
    "openai": "OPENAI_BASE_URL",
    "qwen": "DASHSCOPE_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
    "gemini": "GEMINI_BASE_URL",
    "ollama": "OLLAMA_HOST",
}
MATRIX = pytest.mark.parametrize("mode", ["sync", "async"])
NAMES = pytest.mark.parametrize("name", list(PROVIDERS))
TEXT_REQ = kairos.ChatRequest([kairos.Message.user("hello")])
TOOLS_REQ = kairos.ChatRequest(
    [kairos.Message.user("do two lookups")], tools=[kairos.Tool("lookup", "find a place")]
)


@pytest.fixture(scope="module")
def srv() -> Iterator[EmulatorServer]:
    with EmulatorServer(SCRIPT) as server:
        yield server


def _stream(
    srv: EmulatorServer, name: str, mode: str, req: kairos.ChatRequest
) -> tuple[list[kairos.StreamChunk], kairos.ChatResponse]:
    url = srv.base_urls[PROVIDERS[name]]
    if mode == "sync":
        with kairos.provider(name, base_url=url, api_key="test-key") as p, p.chat_stream(req) as s:
            return list(s), s.response

    async def main() -> tuple[list[kairos.StreamChunk], kairos.ChatResponse]:
        async with (
            kairos.async_provider(name, base_url=url, api_key="test-key") as p,
            await p.chat_stream(req) as s,
        ):
            return [c async for c in s], s.response

    return asyncio.run(main())


def _chat(
    srv: EmulatorServer, name: str, mode: str, req: kairos.ChatRequest
) -> kairos.ChatResponse:
    url = srv.base_urls[PROVIDERS[name]]
    if mode == "sync":
        with kairos.provider(name, base_url=url, api_key="test-key") as p:
            return p.chat(req)

    async def main() -> kairos.ChatResponse:
        async with kairos.async_provider(name, base_url=url, api_key="test-key") as p:
            return await p.chat(req)

    return asyncio.run(main())


@NAMES
@MATRIX
def test_stream_text_reasoning_usage(srv: EmulatorServer, name: str, mode: str) -> None:
    chunks, resp = _stream(srv, name, mode, TEXT_REQ)
    assert "".join(c.content for c in chunks) == TEXT == resp.content
    assert "".join(c.reasoning for c in chunks) == REASONING == resp.reasoning
    assert len(chunks) > 4  # word by word, not one blob
    final = chunks[-1]
    assert [c.done for c in chunks].count(True) == 1 and final.done and final.error is None
    assert final.finish_reason == "stop"
    assert final.usage is not None
    got = (final.usage.prompt_tokens, final.usage.completion_tokens, final.usage.total_tokens)
    assert got == (12, 8, 20)
    assert srv.requests[-1].stream


@NAMES
@MATRIX
def test_stream_parallel_calls_to_one_function(srv: EmulatorServer, name: str, mode: str) -> None:
    chunks, resp = _stream(srv, name, mode, TOOLS_REQ)
    assert resp.content == "On it."
    assert [(c.name, c.parsed_arguments()) for c in resp.tool_calls] == CALLS
    ids = [c.id for c in resp.tool_calls]
    assert all(ids) and len(set(ids)) == 2
    assert chunks[-1].finish_reason == "tool_calls"
    assert resp.usage is not None and resp.usage.total_tokens == 41


@NAMES
@MATRIX
def test_chat_equals_the_stream(srv: EmulatorServer, name: str, mode: str) -> None:
    resp = _chat(srv, name, mode, TOOLS_REQ)
    assert resp.content == "On it." and resp.finish_reason == "tool_calls"
    assert [(c.name, c.parsed_arguments()) for c in resp.tool_calls] == CALLS
    assert resp.usage is not None and (resp.usage.prompt_tokens, resp.usage.completion_tokens) == (
        30,
        11,
    )


def test_requests_are_recorded_with_the_model_and_without_the_key_in_repr(
    srv: EmulatorServer,
) -> None:
    _chat(srv, "gemini", "sync", kairos.ChatRequest([kairos.Message.user("hello")], model="g-1"))
    seen = srv.requests[-1]
    assert seen.wire == "gemini" and seen.model == "g-1" and seen.prompt == "hello"
    assert seen.headers["x-goog-api-key"] == "test-key"
    assert "x-goog-api-key" not in repr(seen)
