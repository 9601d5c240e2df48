"""Every anthropic-messages conformance case, four ways (loopback/mock x sync/async), against the
official SDK's ``expected``; plus ``chat()`` parity and a gzip-encoded replay."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest

import kairos
from harness import WAY_IDS, WAYS, case_names, check_expected, load_case, run
from loopback import Reply

FMT = "anthropic-messages"
TRUNCATED = "antsdk-max-tokens-incomplete-tool-json"
CASES = case_names(FMT)
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
# no retries: the in-band overloaded_error case would otherwise be retried by design
KW: dict[str, Any] = {"max_retries": 0}


@pytest.mark.parametrize("name", [n for n in CASES if n != TRUNCATED])
@pytest.mark.parametrize(("transport", "mode"), WAYS, ids=WAY_IDS)
def test_case_matches_official_sdk(name: str, transport: str, mode: str) -> None:
    case, body = load_case(FMT, name)
    out = run("anthropic", Reply.body(body, split=777), REQ, transport=transport, mode=mode, **KW)
    check_expected(out, case["expected"])


def _partial_json(body: bytes, block: int) -> str:
    """The input_json_delta fragments of one content block, read straight from the bytes."""
    parts = []
    for line in body.decode().splitlines():
        if line.startswith("data: ") and "input_json_delta" in line:
            event = json.loads(line[6:])
            if event["index"] == block:
                parts.append(event["delta"]["partial_json"])
    return "".join(parts)


@pytest.mark.parametrize(("transport", "mode"), WAYS, ids=WAY_IDS)
def test_max_tokens_truncated_tool_json_keeps_raw_arguments(transport: str, mode: str) -> None:
    # oracle_note decision: the answer was cut by max_tokens in the middle of a tool_use input,
    # so the JSON is incomplete. The SDK returns a partially parsed object that drops the
    # unterminated last string ("Filing taxes"). kairos keeps ToolCall.arguments exactly as
    # received (the raw partial JSON text, nothing dropped), does not fail the stream (the
    # provider ended it normally, with stop_reason max_tokens -> finish_reason "length"), and
    # leaves it to the caller: parsed_arguments() raises ProtocolError for this call. Repairing
    # the JSON would invent text the provider never sent, or drop text it did.
    case, body = load_case(FMT, TRUNCATED)
    want = case["expected"]
    out = run("anthropic", Reply.body(body, split=777), REQ, transport=transport, mode=mode, **KW)
    resp = out.response
    assert out.final.error is None and out.raised is None
    assert resp.content == want["content"]
    assert resp.finish_reason == "length" and resp.raw_finish_reason == "max_tokens"
    u = want["usage"]
    assert resp.usage is not None
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens) == (
        u["prompt_tokens"],
        u["completion_tokens"],
        u["total_tokens"],
    )
    (call,) = resp.tool_calls
    (sdk_call,) = want["tool_calls"]
    assert (call.id, call.name) == (sdk_call["id"], sdk_call["name"])
    raw = _partial_json(body, 1)
    assert call.arguments == raw and raw.endswith('"Filing taxes')
    with pytest.raises(kairos.ProtocolError):
        call.parsed_arguments()
    # everything the SDK recovered is in the raw text, plus the string it dropped
    closed = json.loads(raw + '"]}')
    assert closed["filename"] == sdk_call["arguments"]["filename"]
    assert closed["lines_of_text"] == [*sdk_call["arguments"]["lines_of_text"], "Filing taxes"]
    assert out.final.tool_calls == resp.tool_calls


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_gzip_encoded_body_through_loopback(mode: str) -> None:
    # the case was recorded with Content-Encoding: gzip; the fixture stores it decompressed
    case, body = load_case(FMT, "llm-thinking-gzip")
    assert case["recorded_content_encoding"] == "gzip"
    packed = gzip.compress(body)
    reply = Reply.body(
        packed,
        split=100,
        headers={"content-type": "text/event-stream; charset=utf-8", "content-encoding": "gzip"},
    )
    out = run("anthropic", reply, REQ, transport="loopback", mode=mode, **KW)
    check_expected(out, case["expected"])


@pytest.mark.parametrize("name", CASES)
def test_chat_equals_drained_stream(name: str) -> None:
    case, body = load_case(FMT, name)
    out = run("anthropic", Reply.body(body), REQ, transport="mock", mode="sync", **KW)
    client = httpx.Client(
        transport=httpx.MockTransport(
            lambda r: httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=body
            )
        )
    )
    with kairos.provider(
        "anthropic", api_key="k", base_url="http://mock.test", http_client=client, **KW
    ) as p:
        if case["expected"]["error"] is None:
            assert p.chat(REQ) == out.response
        else:
            with pytest.raises(kairos.APIStatusError) as info:
                p.chat(REQ)
            assert info.value.partial == out.final.error.partial  # type: ignore[union-attr]
