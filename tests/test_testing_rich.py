"""The doubles and ``kairos serve`` speak reasoning blocks with signatures, refusals and
citations in each wire's real shape: kairos reads them back (streamed and ``chat()``), the
official SDKs read the same bytes, and script files accept them."""

from __future__ import annotations

import json

import httpx
import pytest

import kairos
from kairos.providers import WIRES, wire_spec
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
    reply_from_dict,
)
from loopback import LoopbackServer
from loopback import Reply as Served

RICH = Reply(
    [
        Reasoning("Let me think. "),
        Reasoning("Done.", signature="c2lnbmVk"),
        Cite("https://example.com/a", "Source A", "quoted text"),
        Text("Paris is "),
        Text("sunny."),
        Call("get_weather", {"city": "Paris"}, id="call_1"),
    ]
)
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")


def _both(wire: str, reply: Reply) -> list[kairos.ChatResponse]:
    llm = ScriptedProvider([reply, reply], wire=wire)
    with llm.chat_stream(REQ) as stream:
        streamed = stream.get_final_response()
    return [streamed, llm.chat(REQ)]


@pytest.mark.parametrize("wire", list(WIRES))
def test_rich_reply_reads_back_on_every_wire(wire: str) -> None:
    for resp in _both(wire, RICH):
        assert resp.content == "Paris is sunny."
        assert resp.reasoning == "Let me think. Done."
        assert [c.name for c in resp.tool_calls] == ["get_weather"]
        blocks = [p for p in resp.to_message().parts if isinstance(p, kairos.ReasoningBlock)]
        assert "".join(b.text for b in blocks) == "Let me think. Done."
        if wire in ("anthropic-messages", "gemini"):  # wires that sign reasoning
            assert blocks[-1].signature == "c2lnbmVk"
        if wire == "ollama-chat":
            assert resp.citations == ()  # Ollama has no citations
        else:
            (cite,) = resp.citations
            assert cite.url == "https://example.com/a"
            assert resp.content[cite.start : cite.end] == "Paris is sunny."  # type: ignore[misc]


def test_anthropic_signs_unsigned_thinking_and_renders_redacted_blocks() -> None:
    reply = Reply([Redacted("opaque=="), Reasoning("plan"), Text("ok")])
    for resp in _both("anthropic-messages", reply):
        first, second, text = resp.to_message().parts
        assert isinstance(first, kairos.ReasoningBlock) and first.redacted
        assert first.data == "opaque=="
        assert isinstance(second, kairos.ReasoningBlock) and second.signature
        assert isinstance(text, kairos.TextPart) and text.text == "ok"


@pytest.mark.parametrize(
    ("wire", "refusal", "content"),
    [
        ("openai-chat", "I can't help with that.", ""),
        ("anthropic-messages", None, ""),
        ("gemini", None, ""),
        ("ollama-chat", None, "I can't help with that."),
        ("openai-responses", "I can't help with that.", ""),
    ],
)
def test_refusal_in_each_wires_shape(wire: str, refusal: str | None, content: str) -> None:
    for resp in _both(wire, Reply([Refusal("I can't help with that.")])):
        assert resp.refusal == refusal and resp.content == content
        if wire != "ollama-chat":
            assert resp.finish_reason == "content_filter"


def _served(wire: str, reply: Reply) -> bytes:
    return b"".join(p for p in render_stream(reply, wire, "m") if isinstance(p, bytes))


def _client(data: bytes, ctype: str) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": ctype}, content=data)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_the_anthropic_sdk_reads_signatures_citations_and_redacted_thinking() -> None:
    anthropic = pytest.importorskip("anthropic")
    reply = Reply([*RICH.pieces[:-1], Redacted("opaque==")])
    served = [
        Served.body(_served("anthropic", reply), split=100),
        Served.json(200, json.loads(render_body(reply, "anthropic", "m"))),
    ]
    user = [{"role": "user", "content": "hi"}]
    with LoopbackServer(served) as server:
        client = anthropic.Anthropic(base_url=server.url, api_key="k", max_retries=0)
        with client.messages.stream(model="m", max_tokens=9, messages=user) as stream:
            streamed = stream.get_final_message()
        plain = client.messages.create(model="m", max_tokens=9, messages=user)
    for msg in (streamed, plain):
        assert [b.type for b in msg.content] == ["thinking", "text", "redacted_thinking"]
        assert msg.content[0].signature == "c2lnbmVk"
        assert msg.content[1].citations[0].url == "https://example.com/a"


def test_the_openai_sdk_reads_refusals_and_annotations() -> None:
    openai = pytest.importorskip("openai")
    reply = Reply([Cite("https://example.com/a", "A"), Text("cited"), Refusal("no more")])
    data = render_body(reply, "openai", "m")
    client = openai.OpenAI(
        api_key="k", base_url="http://t/v1", http_client=_client(data, "application/json")
    )
    msg = (
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        .choices[0]
        .message
    )
    assert msg.refusal == "no more" and msg.content == "cited"
    assert msg.annotations[0].url_citation.url == "https://example.com/a"  # type: ignore[index]
    stream = _served("openai", reply)
    client = openai.OpenAI(
        api_key="k", base_url="http://t/v1", http_client=_client(stream, "text/event-stream")
    )
    with client.chat.completions.stream(
        model="m", messages=[{"role": "user", "content": "hi"}]
    ) as s:
        done = s.get_final_completion()
    assert done.choices[0].message.refusal == "no more"


def test_google_genai_reads_thoughts_signatures_and_grounding() -> None:
    genai = pytest.importorskip("google.genai")
    from google.genai import types

    data = render_body(RICH, "gemini", "gemini-3-pro-preview")
    client = genai.Client(
        api_key="k",
        http_options=types.HttpOptions(
            base_url="http://t", httpx_client=_client(data, "application/json")
        ),
    )
    resp = client.models.generate_content(model="gemini-3-pro-preview", contents="hi")
    parts = resp.candidates[0].content.parts  # type: ignore[index,union-attr]
    # a signed thought is a part of its own (never merged with an unsigned one); the call signed
    assert [bool(p.thought) for p in parts] == [True, True, False, False]  # type: ignore[union-attr]
    assert parts[1].thought_signature == b"signed"  # type: ignore[index]
    assert parts[3].function_call.name == "get_weather" and parts[3].thought_signature  # type: ignore[index,union-attr]
    chunk = resp.candidates[0].grounding_metadata.grounding_chunks[0]  # type: ignore[index,union-attr]
    assert chunk.web.uri == "https://example.com/a"  # type: ignore[union-attr]


def test_script_files_accept_signatures_refusals_and_citations() -> None:
    reply = reply_from_dict(
        {
            "reasoning": "Thinking it over.",
            "signature": "c2ln",
            "citations": [{"url": "https://example.com/a", "title": "A"}],
            "text": "Hello there",
            "refusal": "but no more",
            "pieces": [
                {"redacted": "opaque"},
                {"cite": {"url": "https://b.example"}},
                {"text": "!"},
            ],
        }
    )
    kinds = [type(p).__name__ for p in reply.pieces]
    assert kinds == [
        "Reasoning",
        "Reasoning",
        "Reasoning",
        "Cite",
        "Text",
        "Text",
        "Refusal",
        "Refusal",
        "Refusal",
        "Redacted",
        "Cite",
        "Text",
    ]
    assert reply.pieces[2] == Reasoning(" over.", "c2ln")  # words keep their leading space
    assert reply.refusal == "but no more" and reply.resolved_finish() == "content_filter"
    with pytest.raises(kairos.ConfigurationError, match="citation"):
        reply_from_dict({"citations": [{"title": "no url"}]})
    with pytest.raises(kairos.ConfigurationError, match="a piece is one of"):
        reply_from_dict({"pieces": [{"thought": "x"}]})


@pytest.mark.parametrize("wire", list(WIRES))
def test_a_whole_json_answer_gives_the_same_turn_as_the_stream(wire: str) -> None:
    """A server that answers a stream request with one JSON body (``parse_body``): the same
    ordered turn, citations and refusal as the streamed bytes of the same reply."""
    reply = Reply([*RICH.pieces[:-1], Refusal("no more"), RICH.pieces[-1]])
    url = "http://t/v1" if wire == "openai-chat" else "http://t"
    got = []
    for data, ctype in (
        (render_body(reply, wire, "m"), "application/json"),
        (_served(wire, reply), "text/event-stream"),
    ):
        with kairos.provider(
            wire_spec(wire).preset,
            api_key="k",
            base_url=url,
            http_client=_client(data, ctype),
        ) as llm:
            got.append(llm.chat(REQ))
    body, streamed = got
    assert body.to_message() == streamed.to_message()
    assert (body.citations, body.refusal) == (streamed.citations, streamed.refusal)
