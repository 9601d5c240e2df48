"""Every conformance case (all formats), replayed by ``kairos serve`` from its recorded body,
reaches kairos' client with the case's ``expected`` result, sync and async.

One in-process emulator serves every case: each is a script entry ``match``-ed by a marker in
the user message, so the requests are independent of test order."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kairos
from cases import conformance
from harness import Outcome, case_names, check_expected, load_case
from kairos.serve import EmulatorServer

# format -> (kairos provider, which base URL it takes)
FORMATS = {
    "openai-chat": ("openai", "OPENAI_BASE_URL"),
    "dashscope": ("qwen", "DASHSCOPE_BASE_URL"),
    "anthropic-messages": ("anthropic", "ANTHROPIC_BASE_URL"),
    "gemini": ("gemini", "GEMINI_BASE_URL"),
    "ollama-chat": ("ollama", "OLLAMA_HOST"),
}
CASES = [(fmt, name) for fmt in FORMATS for name in case_names(fmt)]
# cut by max_tokens inside a tool_use input: the arguments are not JSON (see
# test_conformance_anthropic.py); everything else is compared as usual
TRUNCATED_JSON = ("anthropic-messages", "antsdk-max-tokens-incomplete-tool-json")


def _marker(fmt: str, name: str) -> str:
    return f"<case {fmt}/{name}>"


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    root = Path(__file__).parent  # recorded paths must stay inside the folder given
    replies = [
        {
            "match": _marker(fmt, name),
            "recorded": str(next((conformance(fmt) / name).glob("response.*")).relative_to(root)),
        }
        for fmt, name in CASES
    ]
    with EmulatorServer({"replies": replies}, recorded=root) as srv:
        yield srv


def _run_sync(spec: str, url: str, req: kairos.ChatRequest) -> Outcome:
    chunks: list[kairos.StreamChunk] = []
    raised = None
    with kairos.provider(spec, base_url=url, api_key="test-key", max_retries=0) as p:
        stream = p.chat_stream(req)
        with stream:
            try:
                chunks.extend(stream)
            except kairos.KairosError as exc:
                raised = exc
        return Outcome(chunks, chunks[-1], stream.response, raised)


def _run_async(spec: str, url: str, req: kairos.ChatRequest) -> Outcome:
    async def main() -> Outcome:
        chunks: list[kairos.StreamChunk] = []
        raised = None
        async with kairos.async_provider(
            spec, base_url=url, api_key="test-key", max_retries=0
        ) as p:
            stream = await p.chat_stream(req)
            async with stream:
                try:
                    async for chunk in stream:
                        chunks.append(chunk)
                except kairos.KairosError as exc:
                    raised = exc
            return Outcome(chunks, chunks[-1], stream.response, raised)

    return asyncio.run(main())


def _with_generated_ids(out: Outcome, expected: dict[str, Any]) -> dict[str, Any]:
    """Gemini and Ollama bodies carry no tool-call ids (the SDK says ``None``); kairos
    generates distinct non-empty ones, which then stand in for the SDK's ``None``."""
    want = copy.deepcopy(expected)
    ids = [c.id for c in out.response.tool_calls]
    assert len(ids) == len(want["tool_calls"])
    assert all(ids) and len(set(ids)) == len(ids)
    for tool, got in zip(want["tool_calls"], ids, strict=True):
        if tool["id"] is None:
            tool["id"] = got
    return want


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("fmt", "name"), CASES, ids=[f"{f}/{n}" for f, n in CASES])
def test_replayed_case_matches_official_sdk(
    server: EmulatorServer, fmt: str, name: str, mode: str
) -> None:
    case, _ = load_case(fmt, name)
    spec, var = FORMATS[fmt]
    model = "gemini-2.5-flash" if fmt == "gemini" else "m"
    req = kairos.ChatRequest([kairos.Message.user(_marker(fmt, name))], model=model)
    out = (_run_sync if mode == "sync" else _run_async)(spec, server.base_urls[var], req)
    seen = server.requests[-1]
    assert seen.prompt == _marker(fmt, name) and seen.stream
    want = _with_generated_ids(out, case["expected"])
    if (fmt, name) == TRUNCATED_JSON:
        resp = out.response
        assert out.final.error is None and out.raised is None
        assert resp.content == want["content"]
        assert resp.raw_finish_reason == want["finish_reason"]
        assert [c.name for c in resp.tool_calls] == [t["name"] for t in want["tool_calls"]]
        return
    check_expected(out, want)
