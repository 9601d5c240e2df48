"""The official SDKs (test-only dependencies) read the renderers' bytes as the scripted reply:
streamed and non-stream, for OpenAI, Anthropic, Gemini (google-genai) and Ollama."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import kairos
from kairos.testing import Call, Reasoning, Reply, Text, render_body, render_stream
from loopback import LoopbackServer
from loopback import Reply as Served

REPLY = Reply(
    [
        Reasoning("think "),
        Text("Hello"),
        Text(" world"),
        Call("f", {"a": 1}, id="c1"),
        Call("f", {"a": 2}, id="c2"),
    ],
    usage=kairos.Usage(5, 7, 12),
)
USER = [{"role": "user", "content": "hi"}]


def _stream(wire: str) -> bytes:
    return b"".join(p for p in render_stream(REPLY, wire, "m") if isinstance(p, bytes))


def _mock(data: bytes, ctype: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": ctype}, content=data)

    return httpx.MockTransport(handler)


def _openai(data: bytes, ctype: str) -> Any:
    openai = pytest.importorskip("openai")
    client = httpx.Client(transport=_mock(data, ctype))
    return openai.OpenAI(api_key="k", base_url="http://t/v1", http_client=client, max_retries=0)


def test_openai_sdk() -> None:
    with _openai(_stream("openai"), "text/event-stream").chat.completions.stream(
        model="m", messages=USER, stream_options={"include_usage": True}
    ) as stream:
        done = stream.get_final_completion()
    body = _openai(render_body(REPLY, "openai", "m"), "application/json")
    plain = body.chat.completions.create(model="m", messages=USER)
    for completion in (done, plain):
        msg = completion.choices[0].message
        assert msg.content == "Hello world"
        assert [(t.id, t.function.arguments) for t in msg.tool_calls] == [
            ("c1", '{"a":1}'),
            ("c2", '{"a":2}'),
        ]
        assert completion.usage.total_tokens == 12
        assert completion.choices[0].finish_reason == "tool_calls"


def _anthropic_blocks(message: Any) -> list[tuple[str, Any]]:
    out = []
    for block in message.content:
        value = {"thinking": "thinking", "text": "text", "tool_use": "input"}[block.type]
        out.append((block.type, getattr(block, value)))
    return out


def test_anthropic_sdk() -> None:
    anthropic = pytest.importorskip("anthropic")
    served = [
        Served.body(_stream("anthropic"), split=100),
        Served.json(200, json.loads(render_body(REPLY, "anthropic", "m"))),
    ]
    with LoopbackServer(served) as server:
        client = anthropic.Anthropic(base_url=server.url, api_key="k", max_retries=0)
        with client.messages.stream(model="m", max_tokens=10, messages=USER) as stream:
            streamed = stream.get_final_message()
        plain = client.messages.create(model="m", max_tokens=10, messages=USER)
    for message in (streamed, plain):
        assert _anthropic_blocks(message) == [
            ("thinking", "think "),
            ("text", "Hello world"),
            ("tool_use", {"a": 1}),
            ("tool_use", {"a": 2}),
        ]
        assert [b.id for b in message.content if b.type == "tool_use"] == ["c1", "c2"]
        assert (message.usage.input_tokens, message.usage.output_tokens) == (5, 7)
        assert message.stop_reason == "tool_use"


def _genai(data: bytes, ctype: str) -> Any:
    genai = pytest.importorskip("google.genai")
    options = {"base_url": "http://t", "httpx_client": httpx.Client(transport=_mock(data, ctype))}
    return genai.Client(api_key="k", http_options=options)


def _gemini_parts(parts: list[Any]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for p in parts:
        call = p.function_call
        out.append((p.text, bool(p.thought), call and (call.id, call.name, call.args)))
    return out


def test_gemini_sdk() -> None:
    client = _genai(_stream("gemini"), "text/event-stream")
    chunks = list(client.models.generate_content_stream(model="m", contents="hi"))
    parts = [p for c in chunks for p in c.candidates[0].content.parts]
    assert _gemini_parts(parts) == [
        ("think ", True, None),
        ("Hello", False, None),
        (" world", False, None),
        (None, False, ("c1", "f", {"a": 1})),
        (None, False, ("c2", "f", {"a": 2})),
    ]
    last = chunks[-1]
    assert last.usage_metadata.total_token_count == 12
    assert last.candidates[0].finish_reason.value == "STOP"
    plain = _genai(render_body(REPLY, "gemini", "m"), "application/json")
    answer = plain.models.generate_content(model="m", contents="hi")
    assert [t for t, *_ in _gemini_parts(answer.candidates[0].content.parts)][:2] == [
        "think ",
        "Hello world",
    ]
    assert answer.usage_metadata.candidates_token_count == 7


def test_ollama_sdk() -> None:
    ollama = pytest.importorskip("ollama")

    def make(data: bytes, ctype: str) -> Any:
        return ollama.Client(host="http://t", transport=_mock(data, ctype))

    chunks = list(make(_stream("ollama"), "application/x-ndjson").chat("m", USER, stream=True))
    assert "".join(c.message.content or "" for c in chunks) == "Hello world"
    assert "".join(c.message.thinking or "" for c in chunks) == "think "
    calls = [t.function for c in chunks for t in c.message.tool_calls or []]
    assert [(f.name, dict(f.arguments)) for f in calls] == [("f", {"a": 1}), ("f", {"a": 2})]
    assert (chunks[-1].done, chunks[-1].done_reason, chunks[-1].eval_count) == (True, "stop", 7)
    plain = make(render_body(REPLY, "ollama", "m"), "application/json").chat("m", USER)
    assert plain.message.content == "Hello world" and plain.prompt_eval_count == 5
    assert len(plain.message.tool_calls or []) == 2
