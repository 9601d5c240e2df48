"""The renderers produce bytes kairos' own codecs read back as exactly the scripted reply.

Each wire's rendering goes through ``httpx.MockTransport`` into a real kairos provider (the
codec, the SSE / NDJSON decoder and the stream machine), streamed and non-stream, and the
in-band failures come out as the typed errors the real APIs' bodies give.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import kairos
from kairos.providers import wire_spec
from kairos.testing import (
    CONTENT_TYPES,
    WIRES,
    Call,
    Fail,
    Pause,
    Reasoning,
    Reply,
    Text,
    error_status,
    render_body,
    render_error,
    render_stream,
)

PRESET = {wire: wire_spec(wire).preset for wire in WIRES}  # the preset that speaks each wire
REQ = kairos.ChatRequest([kairos.Message.user("weather in Paris and Rome?")])
USAGE = kairos.Usage(prompt_tokens=31, completion_tokens=17, total_tokens=48)

REPLY = Reply(
    [
        Reasoning("Two cities, "),
        Reasoning("two calls."),
        Text("Checking "),
        Pause(0.0),
        Text("both."),
        Call("get_weather", {"city": "Paris", "units": "c"}, id="call_a"),
        Call("get_weather", {"city": "Rome", "units": "c"}, id="call_b"),
    ],
    usage=USAGE,
)


def _body(reply: Reply, wire: str) -> bytes:
    return b"".join(p for p in render_stream(reply, wire, "m-1") if isinstance(p, bytes))


def _provider(body: bytes, wire: str, ctype: str, status: int = 200) -> kairos.HTTPProvider:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"content-type": ctype}, content=body)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    return kairos.provider(
        PRESET[wire], api_key="k", base_url="http://mock.test", http_client=client, max_retries=0
    )


Drained = tuple[list[kairos.StreamChunk], kairos.ChatResponse, BaseException | None]


def _drain(p: kairos.HTTPProvider) -> Drained:
    chunks: list[kairos.StreamChunk] = []
    with p.chat_stream(REQ) as stream:
        try:
            for chunk in stream:
                chunks.append(chunk)
        except kairos.KairosError as exc:
            return chunks, stream.response, exc
    return chunks, stream.response, None


def _check_reply(resp: kairos.ChatResponse, wire: str) -> None:
    assert resp.content == "Checking both."
    assert resp.reasoning == "Two cities, two calls."
    got = [(c.name, c.parsed_arguments()) for c in resp.tool_calls]
    assert got == [
        ("get_weather", {"city": "Paris", "units": "c"}),
        ("get_weather", {"city": "Rome", "units": "c"}),
    ]
    assert [c.id for c in resp.tool_calls] == ["call_a", "call_b"]
    assert resp.usage is not None
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens) == (
        31,
        17,
        48,
    )
    assert resp.finish_reason == "tool_calls"
    assert resp.model == "m-1"


@pytest.mark.parametrize("wire", WIRES)
def test_stream_round_trip(wire: str) -> None:
    with _provider(_body(REPLY, wire), wire, CONTENT_TYPES[wire]) as p:
        chunks, resp, raised = _drain(p)
    assert raised is None
    assert [c.done for c in chunks].count(True) == 1 and chunks[-1].done
    final = chunks[-1]
    assert final.error is None and final.stats is not None
    assert "".join(c.content for c in chunks) == "Checking both."
    assert "".join(c.reasoning for c in chunks) == "Two cities, two calls."
    assert final.tool_calls == resp.tool_calls and final.usage == resp.usage
    _check_reply(resp, wire)


@pytest.mark.parametrize("wire", WIRES)
def test_chat_round_trip_stream_and_body(wire: str) -> None:
    with _provider(_body(REPLY, wire), wire, CONTENT_TYPES[wire]) as p:
        _check_reply(p.chat(REQ), wire)
    body = render_body(REPLY, wire, "m-1")
    json.loads(body)
    with _provider(body, wire, "application/json") as p:
        _check_reply(p.chat(REQ), wire)


@pytest.mark.parametrize("wire", WIRES)
def test_generated_ids_are_distinct_and_usage_estimated(wire: str) -> None:
    reply = Reply.text("hello there world", calls=[Call("f", {"x": 1}), Call("f", {"x": 2})])
    assert [p.text for p in reply.pieces[:3]] == ["hello", " there", " world"]  # type: ignore[union-attr]
    with _provider(_body(reply, wire), wire, CONTENT_TYPES[wire]) as p:
        resp = p.chat(REQ)
    assert resp.content == "hello there world"
    ids = [c.id for c in resp.tool_calls]
    assert len(ids) == 2 and len(set(ids)) == 2 and all(ids)
    assert [c.parsed_arguments() for c in resp.tool_calls] == [{"x": 1}, {"x": 2}]
    assert resp.usage is not None and resp.usage.completion_tokens > 0
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    assert resp.finish_reason == "tool_calls"


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("finish", ["stop", "length"])
def test_finish_reasons(wire: str, finish: str) -> None:
    with _provider(_body(Reply.text("a b", finish_reason=finish), wire), wire, "x") as p:
        resp = p.chat(REQ)
    assert resp.finish_reason == finish


# what each wire's real error shape gives: Anthropic and Gemini have no context-length type;
# Ollama drops the status of an error written after the first line (always a server error)
EXPECTED: dict[str, dict[str, type[kairos.APIStatusError]]] = {
    "openai-chat": {
        "overloaded": kairos.OverloadedError,
        "rate_limit": kairos.RateLimitError,
        "server": kairos.ServerError,
        "invalid_request": kairos.BadRequestError,
        "authentication": kairos.AuthenticationError,
        "context_length": kairos.ContextLengthError,
    },
}
EXPECTED["anthropic-messages"] = {
    **EXPECTED["openai-chat"],
    "context_length": kairos.BadRequestError,
}
EXPECTED["gemini"] = EXPECTED["anthropic-messages"]
EXPECTED["openai-responses"] = EXPECTED["openai-chat"]  # typed by the same codes, in-band too
EXPECTED["ollama-chat"] = dict.fromkeys(EXPECTED["openai-chat"], kairos.ServerError)


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("kind", sorted(EXPECTED["openai-chat"]))
def test_fail_renders_typed_in_band_error(wire: str, kind: str) -> None:
    reply = Reply([Text("partial "), Text("answer"), Fail(kind, "boom"), Text("never")])
    with _provider(_body(reply, wire), wire, CONTENT_TYPES[wire]) as p:
        chunks, _, raised = _drain(p)
    final = chunks[-1]
    assert final.done and [c.done for c in chunks].count(True) == 1
    assert type(final.error) is EXPECTED[wire][kind], final.error
    assert raised is final.error and final.finish_reason == "error"
    assert "boom" in str(final.error)
    assert final.error.partial is not None and final.error.partial.content == "partial answer"
    assert "never" not in "".join(c.content for c in chunks)


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("kind", sorted(EXPECTED["openai-chat"]))
def test_http_error_bodies(wire: str, kind: str) -> None:
    body = render_error(Fail(kind, "nope"), wire)
    assert render_body(Reply([Fail(kind, "nope")]), wire, "m") == body
    with (
        _provider(body, wire, "application/json", error_status(kind, wire)) as p,
        pytest.raises(kairos.APIStatusError) as info,
    ):
        p.chat(REQ)
    want: Any = EXPECTED["anthropic-messages" if wire == "ollama-chat" else wire][kind]
    if wire == "ollama-chat" and kind == "context_length":
        want = kairos.BadRequestError  # a plain 400
    assert type(info.value) is want, info.value


def test_pauses_and_chunk_delay_are_floats_between_bytes() -> None:
    reply = Reply([Text("a"), Pause(0.5), Text("b")], chunk_delay=0.01)
    out = list(render_stream(reply, "openai", "m"))
    assert 0.5 in out
    assert all(isinstance(p, bytes | float) for p in out)
    assert not isinstance(out[0], float) and not isinstance(out[-1], float)
    floats = [p for p in out if isinstance(p, float)]
    assert floats.count(0.01) == len([p for p in out if isinstance(p, bytes)]) - 1


def test_include_usage_false_omits_the_usage_chunk() -> None:
    out = b"".join(
        p
        for p in render_stream(Reply.text("hi"), "openai", "m", include_usage=False)
        if isinstance(p, bytes)
    )
    assert b'"usage"' not in out and out.endswith(b"data: [DONE]\n\n")


def test_unknown_wire_is_a_configuration_error() -> None:
    with pytest.raises(kairos.ConfigurationError, match="unknown wire"):
        list(render_stream(Reply.text("x"), "smoke-signals", "m"))
