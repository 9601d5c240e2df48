"""Message parts on the Responses wire: each part in the documented shape (OpenAI API reference:
``input_text``, ``input_image``, ``input_file``; ``function_call_output`` with content parts),
checked against the ``openai`` SDK's own request types; parts the wire cannot take are refused
before any request; the reasoning setting; every round-trip request is a valid SDK input."""

from __future__ import annotations

import base64

import pytest
from openai.types.responses import ResponseInputItemParam, ResponseInputParam

import kairos
from round_trip import MP3, PDF, PNG, first_turn, load, refused, round_trip_cases, second_request
from round_trip import tool_results as results
from sdk_types import mismatches

FMT = "openai-responses"
URL = "http://round-trip.test/v1"
M = kairos.Message
B64 = base64.b64encode


def _sent(*history: kairos.Message, **req: object) -> dict:  # type: ignore[type-arg]
    return second_request(FMT, list(history), "gpt-5", base_url=URL, **req)  # type: ignore[no-any-return]


def test_every_part_in_the_documented_shape_and_the_sdk_type() -> None:
    msg = _sent(
        M.user(
            "Describe these",
            kairos.Image.from_bytes(PNG, detail="low"),
            kairos.Image.from_url("https://example.com/cat.jpg"),
            kairos.Document.from_bytes(PDF, filename="report.pdf"),
            kairos.Document.from_url("https://example.com/a.pdf"),
            kairos.Document.from_bytes(b"plain notes", "text/plain"),
        )
    )["input"][0]
    assert msg == {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": "Describe these"},
            {
                "type": "input_image",
                "image_url": "data:image/png;base64," + B64(PNG).decode(),
                "detail": "low",
            },
            {"type": "input_image", "image_url": "https://example.com/cat.jpg", "detail": "auto"},
            {
                "type": "input_file",
                "file_data": "data:application/pdf;base64," + B64(PDF).decode(),
                "filename": "report.pdf",
            },
            {"type": "input_file", "file_url": "https://example.com/a.pdf"},
            {"type": "input_text", "text": "plain notes"},
        ],
    }
    assert mismatches(msg, ResponseInputItemParam) == []


@pytest.mark.parametrize(
    ("part", "why"),
    [
        (kairos.Audio.from_bytes(MP3), "takes no audio input"),
        (kairos.Audio.from_url("https://example.com/a.wav"), "takes no audio input"),
        (kairos.Document.from_bytes(b"PK\x03\x04", "application/zip"), "PDF and plain-text"),
    ],
)
def test_a_part_the_wire_cannot_take_is_refused_before_sending(part: kairos.Part, why: str) -> None:
    message = refused(FMT, [M.user("x", part)], "gpt-5")
    assert message.startswith(f"{FMT}: cannot send ") and why in message


def test_an_assistant_turn_holds_no_media() -> None:
    turn = M(kairos.Role.ASSISTANT, parts=(kairos.TextPart("x"), kairos.Image.from_bytes(PNG)))
    assert "an assistant turn holds no media" in refused(FMT, [M.user("x"), turn], "gpt-5")


def test_tool_results_take_text_and_media_and_have_no_error_flag() -> None:
    call = kairos.ToolCall("call_1", "f", "{}")
    history = [M.user("x"), M.assistant("", [call]), M.tool("boom", "call_1", is_error=True)]
    assert _sent(*history)["input"][2] == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": "boom",
    }
    history[2] = M.tool(["see", kairos.Image.from_bytes(PNG)], "call_1")
    item = _sent(*history)["input"][2]
    assert item["output"] == [
        {"type": "input_text", "text": "see"},
        {
            "type": "input_image",
            "image_url": "data:image/png;base64," + B64(PNG).decode(),
            "detail": "auto",
        },
    ]
    assert mismatches(item, ResponseInputItemParam) == []


@pytest.mark.parametrize(
    ("reasoning", "sent"),
    [
        (kairos.Reasoning("high"), {"effort": "high", "summary": "auto"}),
        (kairos.Reasoning("low", summary="detailed"), {"effort": "low", "summary": "detailed"}),
        (kairos.Reasoning("medium", budget_tokens=4000), {"effort": "medium", "summary": "auto"}),
    ],
)
def test_one_reasoning_setting(reasoning: kairos.Reasoning, sent: dict) -> None:  # type: ignore[type-arg]
    body = _sent(M.user("x"), reasoning=reasoning)
    assert body["reasoning"] == sent and body["include"] == ["reasoning.encrypted_content"]
    assert body["store"] is False
    plain = _sent(M.user("x"))
    assert "reasoning" not in plain and "include" not in plain  # no setting, nothing sent
    mine = _sent(M.user("x"), reasoning=reasoning, extras={"reasoning": {"effort": "low"}})
    assert mine["reasoning"] == {"effort": "low"}  # extras win


BUILT = ("message", "reasoning", "function_call", "function_call_output")


@pytest.mark.parametrize("name", round_trip_cases(FMT))
def test_every_round_trip_request_is_a_valid_sdk_input(name: str) -> None:
    """The items kairos writes are valid SDK params. Server-tool items go back as received and
    are left out of the check: the SDK itself sends ``web_search_call`` sources of type
    ``api`` that its own param type does not declare."""
    _, body = load(FMT, name)
    turn = first_turn(FMT, body, kairos.ChatRequest([M.user("hi")]), "chat-sync", URL)
    sent = _sent(M.user("hi"), turn.to_message(), *results(turn.to_message()))["input"]
    built = [i for i in sent if i["type"] in BUILT]
    assert len(built) >= 2 and mismatches(built, ResponseInputParam) == []
