"""ReplayTransport: every recorded conformance body, replayed through a real kairos provider
(split into pieces, sync and async), gives the case's ``expected`` result; and the network
guard blocks real requests (a loopback server standing in for the internet) while in-memory
transports keep working."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import httpx
import pytest

import kairos
from cases import conformance
from harness import Outcome, case_names, check_expected, load_case
from kairos.testing import (
    NetworkBlocked,
    ReplayTransport,
    ScriptedProvider,
    block_network,
)
from kairos.testing.pytest_plugin import kairos_no_network  # noqa: F401 - the fixture
from loopback import LoopbackServer, Reply

SPEC = {
    "openai-chat": "openai",
    "dashscope": "qwen",
    "anthropic-messages": "anthropic",
    "gemini": "gemini",
    "ollama-chat": "ollama",
}
# its tool JSON is cut by max_tokens on purpose; test_conformance_anthropic covers it
SPECIAL = {("anthropic-messages", "antsdk-max-tokens-incomplete-tool-json")}
CASES = [(f, n) for f in SPEC for n in case_names(f) if (f, n) not in SPECIAL]
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
KEY = "test-key-123"


def _fill_generated_ids(out: Outcome, expected: dict[str, Any]) -> dict[str, Any]:
    """Gemini and Ollama bodies have no call ids (the SDKs say None); kairos generates them."""
    want = copy.deepcopy(expected)
    got = [c.id for c in out.response.tool_calls]
    assert all(got) and len(set(got)) == len(got)
    for tool, call_id in zip(want["tool_calls"], got, strict=True):
        if tool["id"] is None:
            tool["id"] = call_id
    return want


def _outcome(chunks: list[kairos.StreamChunk], resp: kairos.ChatResponse, raised: Any) -> Outcome:
    return Outcome(chunks, chunks[-1], resp, raised)


def _sync(spec: str, transport: ReplayTransport) -> Outcome:
    client = httpx.Client(transport=transport)
    with kairos.provider(spec, api_key=KEY, http_client=client, max_retries=0) as p:
        chunks: list[kairos.StreamChunk] = []
        with p.chat_stream(REQ) as stream:
            try:
                chunks.extend(stream)
            except kairos.KairosError as exc:
                return _outcome(chunks, stream.response, exc)
        return _outcome(chunks, stream.response, None)


async def _async(spec: str, transport: ReplayTransport) -> Outcome:
    client = httpx.AsyncClient(transport=transport)
    async with kairos.async_provider(spec, api_key=KEY, http_client=client, max_retries=0) as p:
        chunks: list[kairos.StreamChunk] = []
        stream = await p.chat_stream(REQ)
        async with stream:
            try:
                async for chunk in stream:
                    chunks.append(chunk)
            except kairos.KairosError as exc:
                return _outcome(chunks, stream.response, exc)
        return _outcome(chunks, stream.response, None)


@pytest.mark.parametrize(("fmt", "name"), CASES, ids=[f"{f}/{n}" for f, n in CASES])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_replaying_a_recorded_body_gives_the_expected_result(
    fmt: str, name: str, mode: str
) -> None:
    case, body = load_case(fmt, name)
    transport = ReplayTransport(body, split=501)
    if mode == "sync":
        out = _sync(SPEC[fmt], transport)
    else:
        out = asyncio.run(_async(SPEC[fmt], transport))
    check_expected(out, _fill_generated_ids(out, case["expected"]))
    assert len(transport.requests) == 1 and transport.bodies[0].closed


def test_replay_from_a_path_with_delays_and_pieces() -> None:
    path = next((conformance("openai-chat") / "oai-text-stop-usage").glob("response.*"))
    case = load_case("openai-chat", "oai-text-stop-usage")[0]
    for transport in (
        ReplayTransport(path, split=64, delay=0.001),
        ReplayTransport(str(path)),
        ReplayTransport(path.read_bytes().splitlines(keepends=True)),
    ):
        client = httpx.Client(transport=transport)
        resp = kairos.provider("openai", api_key=KEY, http_client=client).chat(REQ)
        assert resp.content == case["expected"]["content"]
        assert transport.bodies[0].completed


def test_replay_content_type_and_status() -> None:
    ndjson = conformance("ollama-chat") / "docs-chat-tool-call"
    body = next(ndjson.glob("response.*")).read_bytes()
    t = ReplayTransport(body)
    client = httpx.Client(transport=t)
    assert kairos.provider("ollama", http_client=client).chat(REQ).tool_calls
    assert t.requests[0].url.path == "/api/chat"
    error = ReplayTransport(
        b'{"error": {"message": "slow down", "type": "requests"}}',
        status=429,
        headers={"Content-Type": "application/json", "retry-after": "0"},
    )
    p = kairos.provider("openai", api_key=KEY, http_client=httpx.Client(transport=error))
    with pytest.raises(kairos.RateLimitError):
        p.chat(REQ)
    assert len(error.requests) == 3  # the default two retries, each replayed


def test_replay_rejects_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(kairos.ConfigurationError, match="cannot read"):
        ReplayTransport(tmp_path / "nope.sse")


# -- the network guard ------------------------------------------------------------------------
OK_BODY = b'data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\n'


def _loopback_reply() -> Reply:
    return Reply.body(OK_BODY + b"data: [DONE]\n\n")


def test_guard_blocks_a_real_request_sync_and_async() -> None:
    with LoopbackServer([_loopback_reply()]) as server:
        p = kairos.provider("openai", api_key=KEY, base_url=server.url)
        with block_network(), pytest.raises(NetworkBlocked, match="blocked a real POST"):
            p.chat(REQ)

        async def main() -> None:
            ap = kairos.async_provider("openai", api_key=KEY, base_url=server.url)
            async with ap, block_network():
                with pytest.raises(NetworkBlocked):
                    await ap.chat(REQ)

        asyncio.run(main())
        assert server.requests == []  # nothing reached the server
        assert p.chat(REQ).content == "hi"  # the guard is gone after the block
        p.close()


def test_guard_allows_in_memory_transports_and_optionally_loopback() -> None:
    with block_network() as guard:
        assert not guard.allow_loopback
        assert ScriptedProvider(["fine"]).chat(REQ).content == "fine"
        replay = ReplayTransport(OK_BODY + b"data: [DONE]\n\n")
        client = httpx.Client(transport=replay)
        assert kairos.provider("openai", api_key=KEY, http_client=client).chat(REQ).content
    with LoopbackServer([_loopback_reply()]) as server, block_network(allow_loopback=True):
        p = kairos.provider("openai", api_key=KEY, base_url=server.url)
        assert p.chat(REQ).content == "hi"
        p.close()


def test_nested_guards_the_strictest_wins() -> None:
    with LoopbackServer([]) as server:
        p = kairos.provider("openai", api_key=KEY, base_url=server.url)
        with block_network(allow_loopback=True), block_network(), pytest.raises(NetworkBlocked):
            p.chat(REQ)
        p.close()
        assert server.requests == []


def test_guard_as_sync_and_async_decorator() -> None:
    with LoopbackServer([]) as server:

        @block_network()
        def sync_call() -> None:
            kairos.provider("openai", api_key=KEY, base_url=server.url).chat(REQ)

        @block_network()
        async def async_call() -> None:
            await kairos.async_provider("openai", api_key=KEY, base_url=server.url).chat(REQ)

        with pytest.raises(NetworkBlocked):
            sync_call()
        with pytest.raises(NetworkBlocked):
            asyncio.run(async_call())
        assert server.requests == []


def test_pytest_fixture_blocks_the_network(kairos_no_network: block_network) -> None:  # noqa: F811
    assert isinstance(kairos_no_network, block_network)
    with LoopbackServer([]) as server, pytest.raises(NetworkBlocked):
        kairos.provider("openai", api_key=KEY, base_url=server.url).chat(REQ)
    err = NetworkBlocked("x")
    assert isinstance(err, kairos.ConfigurationError) and not err.retryable


def test_the_plugin_is_registered_in_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib")

    text = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    plugins = tomllib.loads(text)["project"]["entry-points"]["pytest11"]
    assert plugins == {"kairos": "kairos.testing.pytest_plugin"}
