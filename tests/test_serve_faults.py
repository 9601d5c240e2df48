"""Fault injection in ``kairos serve`` reaches kairos as the typed errors real failures give:
a slow first byte, a truncated body, HTTP 429 with ``Retry-After`` then success, in-band
failures, error statuses in each provider's own shape, unknown routes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import kairos
from kairos.serve import EmulatorServer

WIRES = {
    "openai": "OPENAI_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
    "gemini": "GEMINI_BASE_URL",
    "ollama": "OLLAMA_HOST",
    "openai-responses": "OPENAI_BASE_URL",
}
NAMES = pytest.mark.parametrize("name", list(WIRES))
REQ = kairos.ChatRequest([kairos.Message.user("hi")])


def _provider(srv: EmulatorServer, name: str, **kw: Any) -> kairos.HTTPProvider:
    return kairos.provider(name, base_url=srv.base_urls[WIRES[name]], api_key="test-key", **kw)


def _drain(srv: EmulatorServer, name: str, **kw: Any) -> list[kairos.StreamChunk]:
    with _provider(srv, name, **kw) as p, p.chat_stream(REQ) as s:
        out: list[kairos.StreamChunk] = []
        for chunk in s:
            out.append(chunk)
            if chunk.done:
                break
        return out


@NAMES
def test_delay_before_the_first_byte_is_a_first_chunk_timeout(name: str) -> None:
    script = [{"text": "too late", "delay_first": 1.5}]
    timeout = kairos.Timeouts(first_chunk=0.2, idle=0.2)
    with EmulatorServer(script) as srv:
        final = _drain(srv, name, timeout=timeout, max_retries=0)[-1]
    assert isinstance(final.error, kairos.FirstChunkTimeout), final.error
    assert final.finish_reason == "error"


@NAMES
def test_truncated_body_is_an_incomplete_stream(name: str) -> None:
    script = [{"text": "one two three four five six", "truncate_after": 3}]
    with EmulatorServer(script) as srv:
        chunks = _drain(srv, name, max_retries=0)
    final = chunks[-1]
    assert isinstance(final.error, kairos.IncompleteStreamError), final.error
    assert final.error.partial is not None
    assert "one two six".startswith(final.error.partial.content[:3])
    assert "six" not in final.error.partial.content


@NAMES
def test_429_with_retry_after_then_success(name: str) -> None:
    script = [{"status": 429, "retry_after": 0.05, "error": "slow down"}, {"text": "made it"}]
    with EmulatorServer(script) as srv:
        with _provider(srv, name, max_retries=0) as p, pytest.raises(kairos.RateLimitError) as info:
            p.chat(REQ)
        assert info.value.retry_after == pytest.approx(0.05)
        assert info.value.status == 429 and "slow down" in str(info.value)
        with _provider(srv, name) as p:  # the default policy retries after Retry-After
            assert p.chat(REQ).content == "made it"
        assert len(srv.requests) == 2  # the script stays on its last reply


def test_retry_happens_inside_one_call() -> None:
    script = [{"status": 429, "retry_after": 0.05}, {"status": 503}, {"text": "third time"}]
    with EmulatorServer(script) as srv, _provider(srv, "anthropic", max_retries=3) as p:
        assert p.chat(REQ).content == "third time"
        assert len(srv.requests) == 3


@NAMES
def test_in_band_failure_keeps_the_partial_reply(name: str) -> None:
    script = [{"text": "partial answer", "fail": {"kind": "overloaded", "message": "busy now"}}]
    with EmulatorServer(script) as srv:
        final = _drain(srv, name, max_retries=0)[-1]
    assert isinstance(final.error, kairos.APIStatusError), final.error
    assert final.error.partial is not None and final.error.partial.content == "partial answer"
    assert "busy now" in str(final.error)
    if name != "ollama":  # Ollama's in-band error line has no type (see kairos.providers.ollama)
        assert isinstance(final.error, kairos.OverloadedError)


NON_STREAM = {
    "openai": ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
    "anthropic": ("/v1/messages", {"messages": [{"role": "user", "content": "hi"}]}),
    "gemini": ("/v1beta/models/g:generateContent", {"contents": [{"parts": [{"text": "hi"}]}]}),
    "ollama": ("/api/chat", {"messages": [{"role": "user", "content": "hi"}], "stream": False}),
    "openai-responses": ("/v1/responses", {"input": "hi"}),
}


@NAMES
def test_failure_in_a_non_stream_answer_is_an_http_error(name: str) -> None:
    path, body = NON_STREAM[name]
    with EmulatorServer([{"text": "x", "fail": "rate_limit"}]) as srv:
        r = httpx.post(srv.url + path, json=body)
    assert r.status_code == 429 and "error" in r.json()
    assert not srv.requests[0].stream


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, kairos.BadRequestError),
        (401, kairos.AuthenticationError),
        (403, kairos.PermissionDeniedError),
        (404, kairos.NotFoundError),
        (500, kairos.ServerError),
        (529, kairos.OverloadedError),
    ],
)
@NAMES
def test_error_status_in_the_provider_shape(name: str, status: int, error: type) -> None:
    script = [{"status": status, "error": "scripted"}]
    with (
        EmulatorServer(script) as srv,
        _provider(srv, name, max_retries=0) as p,
        pytest.raises(error) as info,
    ):
        p.chat(REQ)
    assert info.value.status == status and "scripted" in str(info.value)


def test_unknown_route_and_bad_json_are_provider_shaped() -> None:
    with EmulatorServer([{"text": "unused"}]) as srv:
        with kairos.provider("anthropic", base_url=srv.url + "/nope", api_key="test-key") as p:
            with pytest.raises(kairos.NotFoundError) as info:
                p.chat(REQ)
            assert info.value.error_type == "not_found_error"
        r = httpx.post(srv.url + "/api/chat", content=b"{nope")
        assert r.status_code == 400 and "error" in r.json()
        assert not srv.requests  # neither reached the script


def test_chunk_delay_and_recorded_split_pace_a_replay(tmp_path: Any) -> None:
    body = b"".join(
        b'data: {"choices":[{"index":0,"delta":{"content":"%d "}}]}\n\n' % i for i in range(5)
    )
    (tmp_path / "r.sse").write_bytes(body + b"data: [DONE]\n\n")
    script = {"replies": [{"recorded": "r.sse", "chunk_delay": 0.05, "split": 20}]}
    with EmulatorServer(script, recorded=tmp_path) as srv:
        chunks = _drain(srv, "openai")
    assert "".join(c.content for c in chunks) == "0 1 2 3 4 "
    stats = chunks[-1].stats
    assert stats is not None and stats.total_time >= 0.2  # generous: 16 pauses of 50 ms
