"""The round trip over real recordings: the second turn built from ``to_message()`` carries
the model turn google-genai sends back (``expected.round_trip``: ONE model content whose parts
keep ``thoughtSignature`` on the part it arrived on), each way of reading the first turn, sent
by a new provider object.

google-genai writes the same turn differently in three ways the API does not care about; both
sides go through :func:`canonical`, which states them:

* signatures: google-genai decodes ``thoughtSignature`` to bytes and re-encodes it with the
  URL-safe base64 alphabet; kairos sends the string as received. Compared as bytes.
* empty parts: the SDK keeps each streamed chunk's empty ``{"text": ""}`` part; kairos drops
  an empty text part unless it carries a signature (those are kept, signature and all).
* part boundaries: the SDK keeps one part per streamed chunk; kairos joins consecutive
  unsigned text parts (and unsigned thought parts) into one. A signed part is never joined
  with another (Gemini "Thought signatures": do not merge a part that has a signature with
  one that does not), so a signature still starts its own part on both sides and the parts
  after it are compared one run at a time.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

import kairos
from round_trip import WAYS, first_turn, load, round_trip_cases, second_request, tool_results

FMT = "gemini"
CASES = round_trip_cases(FMT)
MODEL = "gemini-2.5-flash"
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model=MODEL)


def _sig(value: str) -> bytes:
    return base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_"))


def canonical(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The normalisations of the module docstring, applied to either side."""
    out: list[dict[str, Any]] = []
    for part in parts:
        part = dict(part)
        if "thoughtSignature" in part:
            part["thoughtSignature"] = _sig(part["thoughtSignature"])
        if set(part) == {"text"} and not part["text"]:
            continue  # an empty unsigned text part
        if out and _joins(out[-1], part):
            out[-1]["text"] += part["text"]  # an unsigned run of one kind
            continue
        out.append(part)
    return out


def _joins(last: dict[str, Any], part: dict[str, Any]) -> bool:
    """Both unsigned text parts of the same kind (plain, or ``thought``)."""
    if "thoughtSignature" in last or "thoughtSignature" in part:
        return False
    return "text" in last and "text" in part and set(last) == set(part)


def test_the_corpus_has_round_trip_cases() -> None:
    assert len(CASES) == 6


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", CASES)
def test_second_turn_carries_the_sdk_model_turn(name: str, way: str) -> None:
    case, body = load(FMT, name)
    first = first_turn("gemini", body, REQ, way)
    turn = first.to_message()
    history = [kairos.Message.user("hi"), turn, *tool_results(turn)]
    sent = second_request("gemini", history, MODEL)
    got, want = sent["contents"][1], case["expected"]["round_trip"]
    assert got["role"] == want["role"] == "model"
    assert canonical(got["parts"]) == canonical(want["parts"])
    signed = [p for p in want["parts"] if "thoughtSignature" in p]
    assert len([p for p in got["parts"] if "thoughtSignature" in p]) == len(signed)


def test_a_signed_text_part_keeps_its_signature_and_stays_apart() -> None:
    case, body = load(FMT, "pai-thought-parts")
    parts = first_turn("gemini", body, REQ, "stream-sync").to_message().parts
    kinds = [type(p).__name__ for p in parts]
    assert kinds == ["ReasoningBlock", "TextPart", "TextPart"]
    signed = parts[1]
    assert isinstance(signed, kairos.TextPart)
    sdk = case["expected"]["round_trip"]["parts"][4]
    assert signed.text == sdk["text"]
    assert _sig(signed.provider_data["gemini"]["thoughtSignature"]) == _sig(  # type: ignore[index]
        sdk["thoughtSignature"]
    )


def test_code_execution_parts_are_provider_parts_for_gemini_only() -> None:
    _, body = load(FMT, "pai-code-execution-parts")
    turn = first_turn("gemini", body, REQ, "chat-sync").to_message()
    own = [p for p in turn.parts if isinstance(p, kairos.ProviderPart)]
    assert [sorted(p.data) for p in own] == [
        ["executableCode", "thoughtSignature"],
        ["codeExecutionResult"],
    ]
    sent = second_request("anthropic", [kairos.Message.user("hi"), turn], "claude-x")
    assert "executableCode" not in str(sent) and "thoughtSignature" not in str(sent)
    assert sent["messages"][1]["content"] == turn.content


def test_grounding_becomes_citations_with_character_offsets() -> None:
    _, body = load(FMT, "pai-web-search-grounding")
    first = first_turn("gemini", body, REQ, "stream-sync")
    assert first.citations
    for cite in first.citations:
        assert cite.url and cite.url.startswith("https://")
        assert cite.cited_text and cite.start is not None and cite.end is not None
        assert first.content[cite.start : cite.end] == cite.cited_text
