"""The round trip over real recordings: the second turn built from ``to_message()`` carries
exactly the assistant turn the official ``anthropic`` SDK sends back (``expected.round_trip``:
``get_final_message().to_param()`` as ``messages[1]``).

Compared as JSON, with no normalisation: thinking blocks with their signatures, redacted
thinking, text blocks, ``tool_use`` (with ``caller``), server-tool blocks, in order. Each way of
reading the first turn (stream / ``chat()``, sync / async), and the second request is built by a
new provider object (codecs keep no state between requests).
"""

from __future__ import annotations

import pytest

import kairos
from round_trip import WAYS, first_turn, load, round_trip_cases, second_request, tool_results

FMT = "anthropic-messages"
CASES = round_trip_cases(FMT)
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")


def test_the_corpus_has_round_trip_cases() -> None:
    assert len(CASES) == 9


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", CASES)
def test_second_turn_carries_the_sdk_assistant_turn(name: str, way: str) -> None:
    case, body = load(FMT, name)
    first = first_turn("anthropic", body, REQ, way)
    turn = first.to_message()
    history = [kairos.Message.user("hi"), turn, *tool_results(turn)]
    sent = second_request("anthropic", history, "m")
    assert sent["messages"][1] == case["expected"]["round_trip"]
    if turn.tool_calls:  # the loop goes on: the results follow in a user turn
        results = sent["messages"][2]["content"]
        assert [r["tool_use_id"] for r in results] == [c.id for c in turn.tool_calls]


def test_thinking_blocks_come_first_with_their_signatures() -> None:
    case, body = load(FMT, "pai-thinking-text-ping")
    turn = first_turn("anthropic", body, REQ, "stream-sync").to_message()
    block = turn.parts[0]
    assert isinstance(block, kairos.ReasoningBlock)
    assert block.provider == "anthropic" and block.wire == FMT
    assert block.signature == case["expected"]["round_trip"]["content"][0]["signature"]
    assert block.text == case["expected"]["reasoning"]


def test_redacted_thinking_is_opaque_data() -> None:
    _, body = load(FMT, "pai-redacted-thinking")
    first = first_turn("anthropic", body, REQ, "chat-sync")
    blocks = [p for p in first.parts if isinstance(p, kairos.ReasoningBlock)]
    assert len(blocks) == 2 and all(b.redacted and b.data for b in blocks)
    assert first.reasoning is None  # nothing readable


def test_another_provider_never_receives_anthropic_reasoning() -> None:
    """History from Anthropic sent to OpenAI keeps the text and calls, drops the thinking."""
    _, body = load(FMT, "pai-web-fetch-server-tool")
    turn = first_turn("anthropic", body, REQ, "stream-sync").to_message()
    sent = second_request("openai", [kairos.Message.user("hi"), turn], "gpt-x")
    text = str(sent)
    assert "signature" not in text and "srvtoolu_" not in text and "web_fetch" not in text
    assert sent["messages"][1] == {"role": "assistant", "content": turn.content}
