"""The Responses stream mapping on hand-made event sequences (the documented shapes the corpus
has no recording of: incomplete and failed responses, the flat error event, refusals, items
that arrive only whole), through the public API over ``httpx.MockTransport``."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import kairos
from harness import Outcome, _drain_sync

FMT = "openai-responses"
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 4},
    "output_tokens": 30,
    "output_tokens_details": {"reasoning_tokens": 20},
    "total_tokens": 42,
}


def sse(events: list[dict[str, Any]], named: bool = True) -> bytes:
    out = b""
    for seq, ev in enumerate(events):
        head = f"event: {ev['type']}\n" if named else ""
        out += f"{head}data: {json.dumps({**ev, 'sequence_number': seq})}\n\n".encode()
    return out


def response(status: str = "completed", **fields: Any) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "status": status, "model": "m-2", **fields}


def created() -> dict[str, Any]:
    return {"type": "response.created", "response": response("in_progress", output=[])}


def text(delta: str, index: int = 0) -> dict[str, Any]:
    return {"type": "response.output_text.delta", "output_index": index, "delta": delta}


def end(kind: str = "response.completed", **fields: Any) -> dict[str, Any]:
    status = kind.split(".")[1]
    return {"type": kind, "response": response(status, usage=USAGE, **fields)}


def stream(body: bytes) -> Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with kairos.provider(FMT, api_key="k", base_url="http://mock.test", http_client=client) as p:
        return _drain_sync(p.chat_stream(REQ))


def test_text_usage_and_model() -> None:
    out = stream(sse([created(), text("Hel"), text("lo"), end()], named=False))
    assert [c.content for c in out.chunks] == ["Hel", "lo", ""]
    assert out.response.usage == kairos.Usage(12, 30, 42, cached_tokens=4, reasoning_tokens=20)
    assert out.response.model == "m-2"
    assert (out.final.finish_reason, out.final.raw_finish_reason) == ("stop", "completed")


@pytest.mark.parametrize(
    ("reason", "finish"),
    [("max_output_tokens", "length"), ("content_filter", "content_filter"), (None, "stop")],
)
def test_incomplete_response_ends_with_its_reason(reason: str | None, finish: str) -> None:
    details = {"reason": reason} if reason else None
    out = stream(
        sse([created(), text("cut"), end("response.incomplete", incomplete_details=details)])
    )
    assert out.final.error is None and out.raised is None
    assert out.final.finish_reason == finish
    assert out.final.raw_finish_reason == (reason or "incomplete")
    assert out.response.content == "cut" and out.response.usage is not None


@pytest.mark.parametrize(
    "event",
    [
        # the API reference's shape
        {"type": "error", "code": "rate_limit_exceeded", "message": "slow down", "param": None},
        # as recorded (vercel/ai fixture)
        {
            "type": "error",
            "error": {"type": "tokens", "code": "rate_limit_exceeded", "message": "slow down"},
        },
    ],
)
def test_both_error_event_shapes_are_typed(event: dict[str, Any]) -> None:
    out = stream(sse([created(), text("part"), event]))
    err = out.final.error
    assert isinstance(err, kairos.RateLimitError) and err.error_type == "rate_limit_exceeded"
    assert out.raised is err and str(err).endswith("slow down")
    assert err.partial is not None and err.partial.content == "part"
    assert out.final.finish_reason == "error"


def test_failed_response_without_an_error_event_is_typed_from_its_code() -> None:
    failed = end("response.failed", error={"code": "server_error", "message": "model crashed"})
    out = stream(sse([created(), text("so far"), failed]))
    assert isinstance(out.final.error, kairos.ServerError)
    assert out.final.error.error_type == "server_error" and "model crashed" in str(out.final.error)
    assert out.final.error.partial is not None and out.final.error.partial.content == "so far"
    bad_prompt = end("response.failed", error={"code": "invalid_prompt", "message": "no"})
    assert isinstance(stream(sse([created(), bad_prompt])).final.error, kairos.BadRequestError)


@pytest.mark.parametrize("tail", [b"", b"data: [DONE]\n\n"])
def test_a_body_without_a_terminal_event_is_incomplete(tail: bytes) -> None:
    out = stream(sse([created(), text("half")]) + tail)
    assert isinstance(out.final.error, kairos.IncompleteStreamError)
    assert out.final.error.partial is not None and out.final.error.partial.content == "half"


def test_events_typed_only_by_their_event_line() -> None:
    body = b"".join(
        f"event: {ev.pop('type')}\ndata: {json.dumps(ev)}\n\n".encode()
        for ev in [created(), text("by "), text("name"), end()]
    )
    out = stream(body)
    assert out.response.content == "by name" and out.final.raw_finish_reason == "completed"


def test_done_marker_after_the_terminal_event_is_ignored() -> None:
    out = stream(sse([created(), text("ok"), end()], named=False) + b"data: [DONE]\n\n")
    assert out.final.error is None and out.response.content == "ok"


def _item(kind: str, index: int, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": f"response.output_item.{kind}", "output_index": index, "item": item}


def test_whole_items_without_deltas_give_their_text_reasoning_and_calls() -> None:
    reasoning = {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [
            {"type": "summary_text", "text": "Think. "},
            {"type": "summary_text", "text": "Done."},
        ],
        "encrypted_content": "enc-1",
    }
    message = {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Answer", "annotations": []}],
    }
    call = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "f",
        "arguments": '{"a":1}',
    }
    events = [
        created(),
        _item("done", 0, reasoning),
        _item("done", 1, message),
        _item("done", 2, call),
    ]
    out = stream(sse([*events, end()]))
    resp = out.response
    assert (resp.reasoning, resp.content) == ("Think. Done.", "Answer")
    (got,) = resp.tool_calls
    assert (got.id, got.name, got.arguments) == ("call_1", "f", '{"a":1}')
    assert got.provider_data == {FMT: {"id": "fc_1"}}  # the call's own item id, nothing else
    assert out.final.finish_reason == "tool_calls"
    block, text, call = resp.to_message().parts
    assert isinstance(block, kairos.ReasoningBlock) and isinstance(text, kairos.TextPart)
    assert (block.text, block.id, block.data) == ("Think. Done.", "rs_1", "enc-1")
    assert (block.provider, block.wire) == (FMT, FMT)
    assert block.provider_data == {FMT: {"summary": reasoning["summary"]}}  # the parts, as sent
    assert text.text == "Answer" and call == got


def test_a_terminal_event_alone_carries_the_whole_answer() -> None:
    message = {"type": "message", "content": [{"type": "output_text", "text": "All at once"}]}
    out = stream(sse([end(output=[message])]))
    assert out.response.content == "All at once" and out.final.error is None


def test_streamed_text_is_not_taken_twice_from_the_finished_items() -> None:
    message = {"type": "message", "content": [{"type": "output_text", "text": "Hello"}]}
    events = [created(), text("Hel"), text("lo"), _item("done", 0, message), end(output=[message])]
    assert stream(sse(events)).response.content == "Hello"


def test_items_that_streamed_without_done_events_are_completed_from_the_final_response() -> None:
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "e"}
    message = {
        "type": "message",
        "id": "msg_1",
        "status": "completed",
        "content": [{"type": "output_text", "text": "Hi", "annotations": []}],
    }
    think = {
        "type": "response.reasoning_summary_text.delta",
        "item_id": "rs_1",  # names the block its finished item completes
        "output_index": 0,
        "delta": "Hm",
    }
    out = stream(sse([created(), think, text("Hi", 1), end(output=[reasoning, message])]))
    block, part = out.response.to_message().parts
    assert isinstance(block, kairos.ReasoningBlock) and isinstance(part, kairos.TextPart)
    assert (block.text, block.id, block.data) == ("Hm", "rs_1", "e")
    assert part.text == "Hi" and part.provider_data == {
        FMT: {
            "item": {"type": "message", "id": "msg_1", "status": "completed"},
            "part": {"type": "output_text", "annotations": []},
        }
    }


def test_call_arguments_are_completed_from_the_done_events() -> None:
    added = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "f",
        "arguments": "",
    }
    piece = {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": '{"a":'}
    done = {
        "type": "response.function_call_arguments.done",
        "output_index": 0,
        "arguments": '{"a":1}',
    }
    whole = _item("done", 0, {**added, "arguments": '{"a":1}'})
    out = stream(sse([created(), _item("added", 0, added), piece, done, whole, end()]))
    (call,) = out.response.tool_calls
    assert call.arguments == '{"a":1}' and call.id == "call_1"


def test_refusal_deltas_are_the_refusal_never_content() -> None:
    """``response.refusal.delta`` pieces are ``StreamChunk.refusal`` and ``ChatResponse.refusal``;
    the answer ends ``content_filter`` (OpenAI completes a refused response)."""
    pieces = ["I can't help", " with that."]
    events = [
        {"type": "response.refusal.delta", "output_index": 0, "content_index": 0, "delta": p}
        for p in pieces
    ]
    out = stream(sse([created(), *events, end()]))
    assert [c.refusal for c in out.chunks if c.refusal] == pieces
    assert all(c.content == "" for c in out.chunks)
    assert out.response.refusal == "I can't help with that." and out.response.content == ""
    assert (out.final.finish_reason, out.final.raw_finish_reason) == ("content_filter", "completed")
    assert out.response.to_message().parts == (kairos.Refusal("I can't help with that."),)


def test_a_refusal_part_of_a_whole_item_is_the_refusal() -> None:
    message = {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "content": [{"type": "refusal", "refusal": "No."}],
    }
    out = stream(sse([created(), _item("done", 0, message), end()]))
    assert (out.response.refusal, out.response.content) == ("No.", "")
    assert out.final.finish_reason == "content_filter"


def test_url_citations_are_the_answers_citations_in_characters_of_the_content() -> None:
    """``start_index``/``end_index`` count characters of the part's text; kairos' spans count
    characters of the whole answer (two message items here)."""
    first = {"type": "message", "id": "msg_1", "content": [{"type": "output_text", "text": "Hé. "}]}
    note = {"type": "url_citation", "start_index": 0, "end_index": 5, "url": "https://a.example"}
    second = {
        "type": "message",
        "id": "msg_2",
        "content": [
            {"type": "output_text", "text": "Süd wins", "annotations": [{**note, "title": "A"}]}
        ],
    }
    streamed = [created(), text("Hé. ", 0), _item("done", 0, first)]
    streamed += [text("Süd ", 1), text("wins", 1), _item("done", 1, second)]
    for events in (streamed, [created()]):  # streamed, and whole items in the final response
        out = stream(sse([*events, end(output=[first, second])]))
        (cite,) = out.response.citations
        assert (cite.url, cite.title, cite.start, cite.end) == ("https://a.example", "A", 4, 9)
        assert out.response.content[cite.start : cite.end] == "Süd w"
        parts = out.response.to_message().parts
        assert [p.text for p in parts] == ["Hé. ", "Süd wins"]  # type: ignore[union-attr]


def test_non_objects_and_bad_json_are_protocol_errors() -> None:
    assert isinstance(stream(b"data: [1, 2]\n\n").final.error, kairos.ProtocolError)
    assert isinstance(
        stream(sse([created()]) + b"data: {nope\n\n").final.error, kairos.ProtocolError
    )
