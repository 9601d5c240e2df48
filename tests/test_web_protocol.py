"""kairos.web over real kairos streams: the UI message stream parts for text, reasoning, tool
calls, errors (mid-stream and before the first byte) and the finish metadata, sync and async.

The sources are kairos.testing doubles (each reply rendered as a provider's real wire bytes and
read back by kairos' codec and stream machine) and real providers over loopback servers."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

import kairos
import kairos.web
from kairos.testing import (
    AsyncScriptedProvider,
    Call,
    Cite,
    Fail,
    FunctionProvider,
    Refusal,
    Reply,
    ScriptedProvider,
    Text,
)
from loopback import LoopbackServer
from loopback import Reply as Raw
from web_support import collect, joined, types

REQ = kairos.ChatRequest([kairos.Message.user("hi")])
TEXT = "The quick brown fox jumps over the lazy dog."


def run_sync(reply: Reply | str, wire: str = "openai", **kw: Any) -> list[dict[str, Any]]:
    with ScriptedProvider([reply], wire=wire) as p:
        return collect(p.chat_stream(REQ), **kw)[0]


def run_async(reply: Reply | str, wire: str = "openai", **kw: Any) -> list[dict[str, Any]]:
    p = AsyncScriptedProvider([reply], wire=wire)
    return collect(p.chat_stream(REQ), **kw)[0]  # the coroutine: opened by kairos.web


RUNNERS = [run_sync, run_async]


@pytest.mark.parametrize("run", RUNNERS, ids=["sync", "async"])
@pytest.mark.parametrize("wire", ["openai", "anthropic", "gemini", "ollama"])
def test_text_reply(run: Any, wire: str) -> None:
    parts = run(Reply.text(TEXT), wire)
    kinds = types(parts)
    assert kinds[:3] == ["start", "start-step", "text-start"]
    assert kinds[-3:] == ["text-end", "finish-step", "finish"]
    assert set(kinds[3:-3]) == {"text-delta"} and len(kinds[3:-3]) == len(TEXT.split())
    assert parts[0]["messageId"].startswith("msg-")
    assert {p["id"] for p in parts if p["type"].startswith("text-")} == {parts[2]["id"]}
    assert joined(parts, "text") == TEXT
    finish = parts[-1]
    assert finish["finishReason"] == "stop"
    meta = finish["messageMetadata"]
    assert meta["finishReason"] == "stop"
    assert meta["chunks"] == len(TEXT.split()) + 1  # the deltas and the final chunk
    assert meta["ttftMs"] >= 0 and meta["totalMs"] >= meta["ttftMs"]
    assert meta["usage"]["outputTokens"] > 0
    assert meta["usage"]["totalTokens"] == (
        meta["usage"]["inputTokens"] + meta["usage"]["outputTokens"]
    )


@pytest.mark.parametrize("run", RUNNERS, ids=["sync", "async"])
def test_reasoning_block_then_text_block(run: Any) -> None:
    parts = run(Reply.text("Hello there.", reasoning="The user greets me."), "anthropic")
    kinds = types(parts)
    assert kinds == [
        "start",
        "start-step",
        "reasoning-start",
        *["reasoning-delta"] * 4,
        "reasoning-end",
        "text-start",
        "text-delta",
        "text-delta",
        "text-end",
        "finish-step",
        "finish",
    ]
    reasoning_id, text_id = parts[2]["id"], parts[8]["id"]
    assert reasoning_id != text_id
    assert parts[7] == {"type": "reasoning-end", "id": reasoning_id}
    assert joined(parts, "reasoning") == "The user greets me."
    assert joined(parts, "text") == "Hello there."


@pytest.mark.parametrize("run", RUNNERS, ids=["sync", "async"])
def test_a_refusal_is_its_own_text_block_and_the_finish_says_content_filter(run: Any) -> None:
    parts = run(Reply([Text("Let me see. "), Refusal("I can't help with that.")]), "openai")
    texts = [p for p in parts if p["type"] == "text-start"]
    assert len(texts) == 2  # the answer's text, then the refusal's
    assert joined(parts, "text") == "Let me see. I can't help with that."
    finish = parts[-1]
    assert finish["finishReason"] == "content-filter"
    assert finish["messageMetadata"]["refusal"] == "I can't help with that."


@pytest.mark.parametrize("run", RUNNERS, ids=["sync", "async"])
@pytest.mark.parametrize("wire", ["openai", "anthropic", "gemini"])
def test_citations_become_source_url_parts_before_the_finish(run: Any, wire: str) -> None:
    reply = Reply([Cite("https://example.com/a", "Source A", "quoted"), Text("Paris is sunny.")])
    parts = run(reply, wire)
    kinds = types(parts)
    (source,) = [p for p in parts if p["type"] == "source-url"]
    assert source == {
        "type": "source-url",
        "sourceId": "source-1",
        "url": "https://example.com/a",
        "title": "Source A",
    }
    assert kinds.index("source-url") > kinds.index("text-end")
    assert kinds[-2:] == ["finish-step", "finish"]


@pytest.mark.parametrize("wire", ["openai", "anthropic", "gemini", "ollama"])
@pytest.mark.parametrize("run", RUNNERS, ids=["sync", "async"])
def test_tool_calls_stream_their_input(run: Any, wire: str) -> None:
    calls = [
        Call("get_weather", {"city": "Paris", "unit": "celsius"}, id="call_a"),
        Call("get_time", {"zone": "Asia/Tokyo"}, id="call_b"),
    ]
    parts = run(Reply.text("Checking.", calls=calls), wire)
    kinds = types(parts)
    assert kinds[-2:] == ["finish-step", "finish"]
    assert parts[-1]["finishReason"] == "tool-calls"
    starts = [p for p in parts if p["type"] == "tool-input-start"]
    assert [p["toolName"] for p in starts] == ["get_weather", "get_time"]
    ids = [p["toolCallId"] for p in starts]
    assert len(set(ids)) == 2
    if wire in ("openai", "anthropic"):
        assert ids == ["call_a", "call_b"]  # these wires carry the ids
    available = [p for p in parts if p["type"] == "tool-input-available"]
    assert [(p["toolCallId"], p["toolName"], p["input"]) for p in available] == [
        (ids[0], "get_weather", {"city": "Paris", "unit": "celsius"}),
        (ids[1], "get_time", {"zone": "Asia/Tokyo"}),
    ]
    expected = ({"city": "Paris", "unit": "celsius"}, {"zone": "Asia/Tokyo"})
    for call_id, args in zip(ids, expected, strict=True):
        deltas = [
            p["inputTextDelta"]
            for p in parts
            if p["type"] == "tool-input-delta" and p["toolCallId"] == call_id
        ]
        assert json.loads("".join(deltas)) == args  # the deltas add up to the input
        first = kinds.index("tool-input-start")
        assert kinds.index("text-end") < first  # the text block closes before the tools
    if wire in ("openai", "anthropic"):
        streamed = [p for p in parts if p["type"] == "tool-input-delta"]
        assert len(streamed) > 2  # these wires split the arguments: real per-call deltas


def test_tool_input_that_is_not_json_is_sent_as_raw_text() -> None:
    parts = run_sync(Reply([Call("f", "not json at all", id="c1")]))
    available = [p for p in parts if p["type"] == "tool-input-available"]
    assert available == [
        {
            "type": "tool-input-available",
            "toolCallId": "c1",
            "toolName": "f",
            "input": "not json at all",
        }
    ]


@pytest.mark.parametrize("run", RUNNERS, ids=["sync", "async"])
@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_mid_stream_error_is_one_error_part(run: Any, wire: str) -> None:
    reply = Reply([Text("Partial "), Text("answer"), Fail("overloaded", "the model is overloaded")])
    with ScriptedProvider([reply], wire=wire) as p:
        expected = None
        try:
            p.chat(REQ)
        except kairos.OverloadedError as exc:
            expected = str(exc)
    assert expected is not None and "the model is overloaded" in expected
    parts = run(reply, wire)
    kinds = types(parts)
    assert kinds[-5:] == ["text-delta", "text-end", "error", "finish-step", "finish"]
    assert parts[-3] == {"type": "error", "errorText": expected}
    assert parts[-1]["finishReason"] == "error"
    assert parts[-1]["messageMetadata"]["finishReason"] == "error"
    assert joined(parts, "text") == "Partial answer"


def test_error_while_a_tool_call_streams_marks_the_call_failed() -> None:
    reply = Reply([Call("search", {"q": "kairos web"}, id="c1"), Fail("server", "boom")])
    parts = run_sync(reply, "anthropic")
    errors = [p for p in parts if p["type"] == "tool-input-error"]
    assert len(errors) == 1 and errors[0]["toolCallId"] == "c1"
    assert "boom" in errors[0]["errorText"]
    assert "tool-input-available" not in types(parts)
    assert types(parts)[-3:] == ["error", "finish-step", "finish"]


def _refusing_server() -> LoopbackServer:
    body = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
    return LoopbackServer(lambda seen: Raw.json(401, body))


def test_error_opening_an_async_stream_is_an_error_part() -> None:
    with _refusing_server() as srv:
        llm = kairos.async_provider("openai", base_url=srv.url + "/v1", api_key="sk-test")
        parts, raw = collect(llm.chat_stream(REQ))
    assert types(parts) == ["start", "start-step", "error", "finish-step", "finish"]
    text = parts[2]["errorText"]
    assert "Incorrect API key provided" in text and "(HTTP 401)" in text
    assert b"Traceback" not in raw and b"sk-test" not in raw


def test_error_opening_a_sync_stream_in_the_worker_is_an_error_part() -> None:
    with (
        _refusing_server() as srv,
        kairos.provider("openai", base_url=srv.url + "/v1", api_key="sk-test") as llm,
    ):
        parts, _ = collect(lambda: llm.chat_stream(REQ))
    assert types(parts) == ["start", "start-step", "error", "finish-step", "finish"]
    assert "(HTTP 401)" in parts[2]["errorText"]


def test_sync_streams_are_opened_and_read_off_the_event_loop_thread() -> None:
    seen: list[str] = []

    def model(req: kairos.ChatRequest) -> str:
        seen.append(threading.current_thread().name)
        return "from a worker"

    with FunctionProvider(model) as llm:
        parts, _ = collect(lambda: llm.chat_stream(REQ))
    assert joined(parts, "text") == "from a worker"
    assert len(seen) == 1 and seen[0].startswith("kairos-web")


def test_unexpected_exceptions_reach_the_page_without_their_details() -> None:
    async def broken() -> AsyncIterator[kairos.StreamChunk]:
        yield kairos.StreamChunk("fine so far")
        raise RuntimeError("/srv/app/secrets.py line 3: token=abc")

    class Source:
        def __aiter__(self) -> AsyncIterator[kairos.StreamChunk]:
            return broken()

        async def aclose(self) -> None:
            pass

    parts, raw = collect(Source())
    assert parts[-3] == {"type": "error", "errorText": "unexpected server error (RuntimeError)"}
    assert b"secrets" not in raw and b"abc" not in raw


def test_metadata_can_be_replaced_or_left_out() -> None:
    parts = run_sync("hi", metadata=None)
    assert parts[-1] == {"type": "finish", "finishReason": "stop"}
    parts = run_sync("hi", metadata=lambda final: {"chunks": final.stats.chunks}, message_id="m1")
    assert parts[0] == {"type": "start", "messageId": "m1"}
    assert parts[-1]["messageMetadata"] == {"chunks": 2}


def test_sse_framing_and_headers() -> None:
    assert kairos.web.sse({"type": "text-delta", "id": "t", "delta": "a\nb é"}) == (
        'data: {"type":"text-delta","id":"t","delta":"a\\nb é"}\n\n'.encode()
    )
    assert kairos.web.HEADERS["x-vercel-ai-ui-message-stream"] == "v1"
    assert kairos.web.HEADERS["content-type"] == "text/event-stream"
    _, raw = collect(ScriptedProvider(["ok"]).chat_stream(REQ))
    assert raw.endswith(b"\n\ndata: [DONE]\n\n") and raw.count(b"[DONE]") == 1


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)


def test_import_kairos_web_does_not_load_starlette() -> None:
    r = _python(
        "import sys, kairos.web\n"
        "assert 'starlette' not in sys.modules and 'uvicorn' not in sys.modules\n"
        "kairos.web.UIMessageStreamResponse\n"
        "assert 'starlette' in sys.modules\n"
    )
    assert r.returncode == 0, r.stderr


def test_without_starlette_the_response_is_a_one_line_configuration_error() -> None:
    r = _python(
        "import sys\n"
        "sys.modules['starlette'] = None  # as if the web extra were not installed\n"
        "import kairos, kairos.web\n"
        "try:\n"
        "    kairos.web.UIMessageStreamResponse\n"
        "except kairos.ConfigurationError as exc:\n"
        "    print(exc)\n"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "kairos.web.UIMessageStreamResponse needs starlette: pip install 'kairos-llm[web]'\n"
    )
