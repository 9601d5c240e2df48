"""The round trip over real recordings (openai-chat and dashscope): the second turn built from
``to_message()`` carries the assistant turn the official ``openai`` SDK sends back
(``expected.round_trip``: the ``ChatCompletionStreamState`` message as ``messages[1]``), each
way of reading the first turn, sent by a new provider object of the preset that recorded it.

Where kairos and the SDK write the same turn differently, the test states it and checks both:

* ``content: ""`` and ``content: null`` on a turn with ``tool_calls`` are the same to the API
  ("content ... required unless tool_calls"): the SDK keeps what was streamed, kairos sends
  ``null``. The expected ``""`` is compared as ``null`` on tool-call turns only.
* DeepSeek: kairos sends ``reasoning_content`` on assistant messages with ``tool_calls`` only
  (the preset row's rule): DeepSeek ignores it on other turns and the older deepseek-reasoner
  rejects it there. The SDK passes it through on every turn. On a DeepSeek turn without tool
  calls the expected ``reasoning_content`` is dropped, and kairos' absence of it is asserted.
* OpenRouter: kairos sends ``reasoning_details`` back as received (merged per ``index`` as they
  streamed; OpenRouter "Reasoning tokens": preserving reasoning blocks); the SDK's accumulator
  drops them. The field is compared with the details read straight from the recorded bytes,
  the rest with the SDK's turn.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import kairos
from round_trip import WAYS, first_turn, load, round_trip_cases, second_request, tool_results

CASES = [("openai-chat", n) for n in round_trip_cases("openai-chat")] + [
    ("dashscope", n) for n in round_trip_cases("dashscope")
]
PRESETS = {
    "openai": "openai",
    "groq": "groq",
    "openrouter": "openrouter",
    "deepseek": "deepseek",
    "alibaba-dashscope": "qwen",
}
URL = "http://round-trip.test/v1"
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")


def _details_from_bytes(body: bytes) -> list[dict[str, Any]]:
    """OpenRouter's streamed reasoning_details merged per index (strings concatenated)."""
    merged: dict[Any, dict[str, Any]] = {}
    for line in body.decode().splitlines():
        if not line.startswith("data: {"):
            continue
        choices = json.loads(line[6:]).get("choices") or [{}]
        for item in choices[0].get("delta", {}).get("reasoning_details") or []:
            into = merged.setdefault(item["index"], {})
            for key, value in item.items():
                if key in ("text", "signature") and isinstance(value, str):
                    into[key] = into.get(key, "") + value
                else:
                    into.setdefault(key, value)
    return list(merged.values())


def _expected(case: dict[str, Any], body: bytes, sent: dict[str, Any]) -> dict[str, Any]:
    want = dict(case["expected"]["round_trip"])
    if want.get("tool_calls") and want.get("content") == "":
        want["content"] = None  # same to the API on a tool-call turn
    if case["provider"] == "deepseek" and not want.get("tool_calls"):
        want.pop("reasoning_content", None)
        assert "reasoning_content" not in sent
    if case["provider"] == "openrouter":
        assert "reasoning_details" not in want  # the SDK drops them
        details = _details_from_bytes(body)
        assert details and sent.get("reasoning_details") == details
        want["reasoning_details"] = details
    return want


def test_the_corpus_has_round_trip_cases() -> None:
    assert len(CASES) == 13


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(("fmt", "name"), CASES, ids=[f"{f}/{n}" for f, n in CASES])
def test_second_turn_carries_the_sdk_assistant_turn(fmt: str, name: str, way: str) -> None:
    case, body = load(fmt, name)
    preset = PRESETS[case["provider"]]
    first = first_turn(preset, body, REQ, way, base_url=URL)
    turn = first.to_message()
    history = [kairos.Message.user("hi"), turn, *tool_results(turn)]
    sent = second_request(preset, history, "m", base_url=URL)
    assert sent["messages"][1] == _expected(case, body, sent["messages"][1])


def test_refusal_is_never_content_nor_an_empty_success() -> None:
    case, body = load("openai-chat", "oai-refusal-delta")
    first = first_turn("openai", body, REQ, "stream-sync", base_url=URL)
    assert first.content == "" and first.refusal == case["expected"]["refusal"]
    assert first.finish_reason == "content_filter" and first.raw_finish_reason == "stop"
    assert first.to_message().parts == (kairos.Refusal(case["expected"]["refusal"]),)


def test_refusal_arrives_as_chunk_deltas() -> None:
    import httpx

    _, body = load("openai-chat", "oai-refusal-delta")
    ctype = {"content-type": "text/event-stream"}
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, headers=ctype, content=body))
    )
    with kairos.provider("openai", api_key="k", base_url=URL, http_client=client) as p:
        chunks = list(p.chat_stream(REQ))
    pieces = [c.refusal for c in chunks if c.refusal]
    assert len(pieces) > 3 and all(c.content == "" for c in chunks)
    assert "".join(pieces) == "I'm sorry, I can't assist with that request."


def test_deepseek_tool_turn_carries_reasoning_content_even_from_another_provider() -> None:
    """DeepSeek rejects a tool-call turn without reasoning_content: a turn made by another
    provider (whose reasoning it must not receive) is sent with an empty one."""
    call = kairos.ToolCall("call_1", "f", "{}")
    foreign = kairos.ReasoningBlock("secret", provider="qwen", wire="openai-chat")
    turn = kairos.Message(kairos.Role.ASSISTANT, parts=(foreign, call))
    history = [kairos.Message.user("hi"), turn, kairos.Message.tool("1", "call_1")]
    sent = second_request("deepseek", history, "deepseek-chat", base_url=URL)
    assert sent["messages"][1]["reasoning_content"] == ""
    own = kairos.ReasoningBlock("mine", provider="deepseek", wire="openai-chat")
    turn = kairos.Message(kairos.Role.ASSISTANT, parts=(own, call))
    history = [kairos.Message.user("hi"), turn, kairos.Message.tool("1", "call_1")]
    sent = second_request("deepseek", history, "deepseek-chat", base_url=URL)
    assert sent["messages"][1]["reasoning_content"] == "mine"
    sent = second_request("openai", history, "gpt-x", base_url=URL)
    assert "reasoning_content" not in sent["messages"][1]  # never to another provider


def test_citations_from_annotations() -> None:
    _, body = load("openai-chat", "openrouter-web-search-annotations-comments")
    first = first_turn("openrouter", body, REQ, "chat-sync", base_url=URL)
    urls = [c.url for c in first.citations]
    assert "https://github.com/pydantic/pydantic-ai" in urls
    assert all(c.url and c.url.startswith("https://") for c in first.citations)
