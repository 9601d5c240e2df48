"""The round trip over recorded answers: the second turn built from ``to_message()`` carries
the assistant message the official ``ollama`` client sends back (``expected.round_trip``), each
way of reading the first turn, sent by a new provider object.

Two differences the server does not care about, stated and applied to kairos' side only:

* ``content: ""``: kairos always sends the field, the client omits an empty one (the server
  reads an absent ``content`` as empty).
* tool-call ``id``: kairos sends the call's id (newer servers send ids and match tool results by
  them; older ones ignore unknown fields); the client's ``Message.ToolCall`` has no id. The
  ids are dropped for the comparison and checked to be the first turn's.
"""

from __future__ import annotations

from typing import Any

import pytest

import kairos
from round_trip import WAYS, first_turn, load, round_trip_cases, second_request, tool_results

FMT = "ollama-chat"
CASES = round_trip_cases(FMT)
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="llama3.2")


def _without_ids(sent: dict[str, Any], turn: kairos.Message) -> dict[str, Any]:
    out = dict(sent)
    if out.get("content") == "":
        del out["content"]
    if "tool_calls" in out:
        assert [c["id"] for c in out["tool_calls"]] == [c.id for c in turn.tool_calls]
        out["tool_calls"] = [{"function": c["function"]} for c in out["tool_calls"]]
    return out


def test_the_corpus_has_round_trip_cases() -> None:
    assert len(CASES) == 2


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", CASES)
def test_second_turn_carries_the_sdk_assistant_message(name: str, way: str) -> None:
    case, body = load(FMT, name)
    turn = first_turn("ollama", body, REQ, way).to_message()
    history = [kairos.Message.user("hi"), turn, *tool_results(turn)]
    sent = second_request("ollama", history, "llama3.2")
    assert _without_ids(sent["messages"][1], turn) == case["expected"]["round_trip"]


def test_thinking_goes_to_ollama_only() -> None:
    _, body = load(FMT, "observed-qwen3-thinking-length-excerpt")
    turn = first_turn("ollama", body, REQ, "stream-sync").to_message()
    sent = second_request("gemini", [kairos.Message.user("hi"), turn], "gemini-2.5-flash")
    assert all("thought" not in p for c in sent["contents"] for p in c["parts"])
