"""The round trip over real recordings: the next request built from ``to_message()`` carries the
output items the official ``openai`` SDK sends back (``expected.round_trip``: the terminal
``Response.output`` items as ``input[1:]``), each way of reading the first turn (stream /
``chat()``, sync / async), the second request built by a NEW provider object.

Compared as JSON: reasoning items (id, summary and content as received, encrypted content),
message items (id, status, phase, ``output_text`` parts with annotations and logprobs),
server-tool items as received, ``function_call`` items (call_id, name, arguments, id, status),
in order, then the tool results. Where kairos and the SDK send different values, the test says
so and checks both sides:

* **The ``.done`` copy of a reasoning item.** kairos keeps each reasoning item as
  ``response.output_item.done`` gave it (the block is complete then, and a stream that fails
  later keeps it); the SDK sends the copy in the terminal event. OpenAI encrypts the same
  reasoning again for each copy (another Fernet token of the same length) and OpenRouter gives
  each copy a new temporary id (``rs_tmp_...``). Those two fields are compared with the
  ``.done`` event's item read from the recorded bytes, and the copies are checked to differ in
  nothing else. A non-stream answer (the terminal response object served as JSON) has one copy
  only: its next turn is the SDK's exactly.
* **Reasoning without ``encrypted_content`` under ``store: false``.** kairos sends ``store:
  false``; the API keeps no items then and answers a reasoning item it must look up (one
  without ``encrypted_content``) with 404 "Items are not persisted when `store` is set to
  `false`", so kairos leaves such items out. With ``extras={"store": True}`` they are sent, as
  the SDK (storing by default) does; both are checked.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

import kairos
from round_trip import WAYS, first_turn, load, round_trip_cases, second_request, tool_results

FMT = "openai-responses"
CASES = round_trip_cases(FMT)
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
URL = "http://round-trip.test/v1"


def _done_items(body: bytes) -> dict[str, dict[str, Any]]:
    """The ``response.output_item.done`` copies of the reasoning items, by output index."""
    out = {}
    for line in body.decode().splitlines():
        if line.startswith("data:") and line[5:].strip().startswith("{"):
            event = json.loads(line[5:])
            item = event.get("item") or {}
            if event["type"] == "response.output_item.done" and item.get("type") == "reasoning":
                out[str(event["output_index"])] = item
    return out


def _expected(case: dict[str, Any], body: bytes | None, store: bool) -> list[dict[str, Any]]:
    """``expected.round_trip`` with the stated normalisations (see the module docstring)."""
    done = _done_items(body) if body is not None else {}
    want = []
    for i, item in enumerate(case["expected"]["round_trip"]):
        if item["type"] == "reasoning":
            if str(i) in done:  # the .done copy: re-encrypted / renamed, nothing else differs
                copy = done[str(i)]
                changed = {k for k in item.keys() | copy.keys() if item.get(k) != copy.get(k)}
                assert changed <= {"encrypted_content", "id"}, changed
                assert len(copy.get("encrypted_content") or "") == len(
                    item.get("encrypted_content") or ""
                )
                item = copy
            if "encrypted_content" not in item and not store:
                continue  # the API would answer 404 (store: false)
        want.append(item)
    return want


def _next_turn(first: kairos.ChatResponse, store: bool) -> tuple[list[Any], kairos.Message]:
    turn = first.to_message()
    history = [kairos.Message.user("hi"), turn, *tool_results(turn)]
    extras = {"store": True} if store else {}
    sent = second_request(FMT, history, "m", base_url=URL, extras=extras)
    assert sent["input"][0] == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "hi"}],
    }
    return sent["input"][1:], turn


def _check(sent: list[Any], want: list[dict[str, Any]], turn: kairos.Message) -> None:
    assert sent[: len(want)] == want
    results = sent[len(want) :]  # the tool results follow, keyed by call_id
    assert results == [
        {"type": "function_call_output", "call_id": c.id, "output": '{"ok": true}'}
        for c in turn.tool_calls
    ]


def test_the_corpus_has_round_trip_cases() -> None:
    assert len(CASES) == 13


@pytest.mark.parametrize("store", [False, True], ids=["store-false", "store-true"])
@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", CASES)
def test_second_turn_carries_the_sdk_output_items(name: str, way: str, store: bool) -> None:
    case, body = load(FMT, name)
    sent, turn = _next_turn(first_turn(FMT, body, REQ, way, base_url=URL), store)
    _check(sent, _expected(case, body, store), turn)


def _terminal(body: bytes) -> dict[str, Any]:
    for line in body.decode().splitlines():
        if line.startswith("data:") and '"response.completed"' in line:
            return dict(json.loads(line[5:])["response"])
    raise AssertionError("no response.completed event")


def _json_answer(answer: bytes, way: str) -> kairos.ChatResponse:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/json"}, content=answer)

    if way == "sync":
        client = httpx.Client(transport=httpx.MockTransport(handler))
        with kairos.provider(FMT, api_key="k", base_url=URL, http_client=client) as p:
            return p.chat(REQ)

    async def main() -> kairos.ChatResponse:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with kairos.async_provider(FMT, api_key="k", base_url=URL, http_client=client) as p:
            return await p.chat(REQ)

    return asyncio.run(main())


@pytest.mark.parametrize("way", ["sync", "async"])
@pytest.mark.parametrize("name", CASES)
def test_a_non_stream_answer_goes_back_exactly_as_the_sdk_sends_it(name: str, way: str) -> None:
    """The terminal response object served as JSON (what ``stream: false`` answers): the one
    copy of each item, so no normalisation but the ``store`` rule."""
    case, body = load(FMT, name)
    first = _json_answer(json.dumps(_terminal(body)).encode(), way)
    sent, turn = _next_turn(first, store=True)
    _check(sent, case["expected"]["round_trip"], turn)


def test_reasoning_blocks_carry_the_item_as_received() -> None:
    case, body = load(FMT, "pai-reasoning-summary-multipart-unicode")
    first = first_turn(FMT, body, REQ, "stream-sync", base_url=URL)
    (block,) = [p for p in first.to_message().parts if isinstance(p, kairos.ReasoningBlock)]
    item = case["expected"]["round_trip"][0]
    assert (block.provider, block.wire, block.id) == (FMT, FMT, item["id"])
    assert block.text == case["expected"]["reasoning"] == first.reasoning
    assert block.data and block.data == _done_items(body)["0"]["encrypted_content"]
    assert len(item["summary"]) == 4  # four summary parts: sent back as four
    assert block.provider_data == {FMT: {"summary": item["summary"]}}


def test_calls_keep_only_their_item_id_and_status() -> None:
    _, body = load(FMT, "vercel-reasoning-summary-encrypted-function-call")
    first = first_turn(FMT, body, REQ, "chat-sync", base_url=URL)
    (call,) = first.tool_calls
    assert call.provider_data == {
        FMT: {"id": "fc_01830d662ab3856501693c32151234819091cfca267e98cc5f", "status": "completed"}
    }


def test_another_provider_never_receives_responses_reasoning() -> None:
    """History from the Responses wire sent to Chat Completions, or to another provider on this
    wire (Azure): text and calls go, reasoning items and server-tool items do not."""
    _, body = load(FMT, "pai-phase-reasoning-text-function-call")
    turn = first_turn(FMT, body, REQ, "stream-sync", base_url=URL).to_message()
    history = [kairos.Message.user("hi"), turn, *tool_results(turn)]
    chat = second_request("openai", history, "gpt-x", base_url=URL)
    assert "encrypted_content" not in str(chat) and "rs_" not in str(chat)
    assert chat["messages"][1]["tool_calls"][0]["id"] == turn.tool_calls[0].id
    azure = second_request("azure-responses", history, "dep", base_url=URL + "/openai/v1")
    kinds = [i["type"] for i in azure["input"]]
    assert kinds == ["message", "message", "function_call", "function_call_output"]
    _, body = load(FMT, "pai-web-search-reasoning-unicode")
    turn = first_turn(FMT, body, REQ, "stream-sync", base_url=URL).to_message()
    foreign = second_request("azure-responses", [kairos.Message.user("hi"), turn], "dep")
    assert [i["type"] for i in foreign["input"]] == ["message", "message"]


def test_history_from_another_provider_keeps_text_and_calls() -> None:
    call = kairos.ToolCall("toolu_1", "f", '{"a": 1}')
    thinking = kairos.ReasoningBlock("hmm", "sig", provider="anthropic", wire="anthropic-messages")
    turn = kairos.Message(kairos.Role.ASSISTANT, parts=(thinking, kairos.TextPart("Let me"), call))
    history = [kairos.Message.user("hi"), turn, kairos.Message.tool("1", "toolu_1", "f")]
    sent = second_request(FMT, history, "gpt-5", base_url=URL)
    assert sent["input"][1:] == [
        {"type": "message", "role": "assistant", "content": "Let me"},
        {"type": "function_call", "call_id": "toolu_1", "name": "f", "arguments": '{"a": 1}'},
        {"type": "function_call_output", "call_id": "toolu_1", "output": "1"},
    ]
