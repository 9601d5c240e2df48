"""One attempt counter per call: any mix of retryable failures sends at most max_retries + 1
requests, sync and async (the call owner's single counter; issue 10's regression).

The failures are real bytes through ``httpx.MockTransport``: HTTP 429/500/503/529 error bodies,
connection resets before any response (the transport raises httpx's own error), and 200
streams whose first event is an in-band retryable error. Counted: the handler's calls.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kairos
from harness import _drain_async, _drain_sync

KINDS = ("429", "500", "503", "529", "reset", "in-band")
FAST: dict[str, Any] = {"base_delay": 0.001, "max_delay": 0.002}

# each wire: a good stream, an in-band retryable error stream, an HTTP error body
WIRES: dict[str, dict[str, Any]] = {
    "openai": {
        "ok": b'data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n'
        b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
        b"data: [DONE]\n\n",
        # OpenRouter / Groq put errors in the stream as OpenAI error objects
        "in-band": b'data: {"error":{"message":"overloaded","type":"server_error",'
        b'"code":null}}\n\n',
        "error": {"error": {"message": "try later", "type": "server_error", "code": None}},
        "in_band_cls": kairos.ServerError,
    },
    "anthropic": {
        "ok": b'event: message_start\ndata: {"type":"message_start","message":{"model":"m",'
        b'"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":"Hi"}}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":'
        b'"end_turn"},"usage":{"output_tokens":1}}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
        # the documented overload event (Anthropic streaming docs)
        "in-band": b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
        b'"message":"Overloaded"}}\n\n',
        "error": {"type": "error", "error": {"type": "api_error", "message": "try later"}},
        "in_band_cls": kairos.OverloadedError,
    },
}


class Script:
    """A transport handler answering each request with the next outcome, then success."""

    def __init__(self, wire: str, outcomes: list[str]) -> None:
        self.wire = WIRES[wire]
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        kind = self.outcomes.pop(0) if self.outcomes else "ok"
        sse = {"content-type": "text/event-stream"}
        if kind == "reset":
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        if kind in ("ok", "in-band"):
            return httpx.Response(200, headers=sse, content=self.wire[kind])
        headers = {"content-type": "application/json", "retry-after-ms": "1"}
        return httpx.Response(int(kind), headers=headers, content=json.dumps(self.wire["error"]))


def run(wire: str, outcomes: list[str], retries: int, mode: str) -> tuple[Script, Any]:
    """Stream once; returns the handler and the final chunk, or the error chat_stream raised."""
    script = Script(wire, outcomes)
    kw: dict[str, Any] = {"api_key": "test-key-12345", "base_url": "http://mock.test", "model": "m"}
    policy = kairos.RetryPolicy(max_retries=retries, **FAST)
    req = kairos.ChatRequest([kairos.Message.user("hi")])
    if mode == "sync":
        client = httpx.Client(transport=httpx.MockTransport(script))
        with kairos.provider(wire, http_client=client, max_retries=policy, **kw) as p:
            try:
                return script, _drain_sync(p.chat_stream(req)).final
            except kairos.KairosError as err:
                return script, err

    async def main() -> Any:
        client = httpx.AsyncClient(transport=httpx.MockTransport(script))
        async with kairos.async_provider(wire, http_client=client, max_retries=policy, **kw) as p:
            try:
                stream = await p.chat_stream(req)
            except kairos.KairosError as err:
                return err
            return (await _drain_async(stream)).final

    return script, asyncio.run(main())


def check(wire: str, outcomes: list[str], retries: int, mode: str) -> None:
    script, out = run(wire, outcomes, retries, mode)
    allowed = retries + 1
    assert script.calls <= allowed
    assert script.calls == min(len(outcomes) + 1, allowed)
    if len(outcomes) < allowed:  # the success was reached
        assert isinstance(out, kairos.StreamChunk) and out.error is None, out
        assert out.stats is not None and out.stats.attempts == script.calls
        return
    last = outcomes[allowed - 1]
    if "in-band" in outcomes[:allowed]:
        # the stream was handed over: it ends with a final chunk carrying the last error
        assert isinstance(out, kairos.StreamChunk) and out.done
        assert out.stats is not None and out.stats.attempts == script.calls
        out = out.error
    if last == "in-band":
        assert isinstance(out, WIRES[wire]["in_band_cls"])
    elif last == "reset":
        assert isinstance(out, kairos.ConnectError)
    else:
        assert isinstance(out, kairos.APIStatusError) and out.status == int(last)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("wire", sorted(WIRES))
def test_two_http_errors_then_in_band_error_send_three_requests(wire: str, mode: str) -> None:
    # the measured bug: 503, 503, then an in-band overload before the first chunk sent 5
    check(wire, ["503", "503", "in-band", "in-band", "in-band"], 2, mode)


@pytest.mark.parametrize("mode", ["sync", "async"])
@settings(max_examples=40, deadline=None)
@given(
    wire=st.sampled_from(sorted(WIRES)),
    outcomes=st.lists(st.sampled_from(KINDS), max_size=7),
    retries=st.integers(0, 4),
)
def test_any_mix_of_retryable_failures_sends_at_most_max_retries_plus_one(
    mode: str, wire: str, outcomes: list[str], retries: int
) -> None:
    check(wire, outcomes, retries, mode)
