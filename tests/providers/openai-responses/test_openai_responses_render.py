"""The Responses renderer's reasoning, redacted reasoning, refusals and citations, as the official
``openai`` SDK reads them (streamed and whole) and as kairos reads them back."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import kairos
from kairos.testing import (
    Call,
    Cite,
    Reasoning,
    Redacted,
    Refusal,
    Reply,
    ScriptedProvider,
    Text,
    render_body,
    render_stream,
)

openai = pytest.importorskip("openai")

FMT = "openai-responses"
REPLY = Reply(
    [
        Redacted("b3BhcXVl"),
        Reasoning("Look it up. "),
        Reasoning("Then answer.", signature="c2lnbmVk"),
        Text("Before. "),
        Cite("https://example.com/a", "Source A"),
        Text("Paris is "),
        Text("sunny."),
        Refusal("No more."),
        Call("get_weather", {"city": "Paris"}, id="call_1"),
    ]
)


def _client(data: bytes, ctype: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": ctype}, content=data)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return openai.OpenAI(api_key="k", base_url="http://t/v1", http_client=http)


def _sdk_outputs() -> list[Any]:
    stream = b"".join(p for p in render_stream(REPLY, FMT, "m") if isinstance(p, bytes))
    with _client(stream, "text/event-stream").responses.stream(model="m", input="hi") as s:
        streamed = s.get_final_response()
    whole = _client(render_body(REPLY, FMT, "m"), "application/json").responses.create(
        model="m", input="hi"
    )
    return [streamed, whole]


def test_the_openai_sdk_reads_reasoning_refusals_and_annotations() -> None:
    for final in _sdk_outputs():
        assert final.status == "completed"  # OpenAI completes a refused response
        kinds = [o.type for o in final.output]
        assert kinds == ["reasoning", "reasoning", "message", "message", "function_call"]
        redacted, reasoning, text, refusal, _ = final.output
        assert (redacted.summary, redacted.encrypted_content) == ([], "b3BhcXVl")
        assert [s.text for s in reasoning.summary] == ["Look it up. Then answer."]
        assert reasoning.encrypted_content == "c2lnbmVk"  # the scripted signature
        assert final.output_text == "Before. Paris is sunny."
        (note,) = text.content[0].annotations
        assert (note.type, note.url, note.title) == (
            "url_citation",
            "https://example.com/a",
            "Source A",
        )
        assert text.content[0].text[note.start_index : note.end_index] == "Paris is sunny."
        assert refusal.content[0].type == "refusal" and refusal.content[0].refusal == "No more."
        ids = [o.id for o in final.output]
        assert len({i.split("_", 1)[1][:24] for i in ids}) == 1  # one stem per response


def test_kairos_reads_them_back() -> None:
    llm = ScriptedProvider([REPLY, REPLY], wire=FMT)
    req = kairos.ChatRequest([kairos.Message.user("hi")])
    with llm.chat_stream(req) as stream:
        chunks = list(stream)
    for resp in (stream.get_final_response(), llm.chat(req)):
        redacted, block, text, refusal, call = resp.to_message().parts
        assert isinstance(redacted, kairos.ReasoningBlock) and redacted.redacted
        assert redacted.data == "b3BhcXVl"
        assert isinstance(block, kairos.ReasoningBlock) and block.data == "c2lnbmVk"
        assert block.text == "Look it up. Then answer." == resp.reasoning
        assert isinstance(text, kairos.TextPart) and text.text == "Before. Paris is sunny."
        assert refusal == kairos.Refusal("No more.") and resp.refusal == "No more."
        assert isinstance(call, kairos.ToolCall) and call.id == "call_1"
        (cite,) = resp.citations
        assert resp.content[cite.start : cite.end] == "Paris is sunny."  # type: ignore[misc]
        assert resp.finish_reason == "content_filter"  # a refused answer, calls or not
    assert "".join(c.refusal for c in chunks) == "No more."


def test_unsigned_reasoning_is_encrypted_only_when_asked() -> None:
    reply = Reply([Reasoning("Hmm."), Text("ok")])
    plain = json.loads(render_body(reply, FMT, "m"))["output"][0]
    assert "encrypted_content" not in plain
    asked = {"include": ["reasoning.encrypted_content"]}
    item = json.loads(render_body(reply, FMT, "m", request=asked))["output"][0]
    assert item["encrypted_content"].startswith("a2Fpcm9z")  # the emulator's own, checkable
