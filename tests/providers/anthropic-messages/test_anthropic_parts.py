"""Message parts on the Anthropic wire: each part in the documented block shape (API reference
"Messages": ``image``, ``document``, ``tool_result`` with ``is_error`` and images), checked
against the ``anthropic`` SDK's own request types; parts the wire cannot take are refused before
any request; the reasoning setting and what the API rejects with thinking on."""

from __future__ import annotations

import base64

import pytest
from anthropic.types import MessageParam

import kairos
from round_trip import JPEG, PDF, PNG, WAV, refused, second_request
from sdk_types import mismatches

M = kairos.Message
B64 = base64.b64encode


def _user(*content: str | kairos.Part) -> dict:  # type: ignore[type-arg]
    return second_request("anthropic", [M.user(*content)], "claude-x")["messages"][0]  # type: ignore[no-any-return]


def test_every_part_in_the_documented_shape_and_the_sdk_type() -> None:
    msg = _user(
        "Compare",
        kairos.Image.from_bytes(JPEG),
        kairos.Image.from_url("https://example.com/cat.png"),
        kairos.Document.from_bytes(PDF, filename="report.pdf"),
        kairos.Document.from_url("https://example.com/paper.pdf"),
        kairos.Document.from_bytes(b"some notes", "text/plain"),
    )
    assert msg == {
        "role": "user",
        "content": [
            {"type": "text", "text": "Compare"},
            {
                "type": "image",
                "source": {
                    "type": "base64",
                    "media_type": "image/jpeg",
                    "data": B64(JPEG).decode(),
                },
            },
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
            {
                "type": "document",
                "source": {
                    "type": "base64",
                    "media_type": "application/pdf",
                    "data": B64(PDF).decode(),
                },
                "title": "report.pdf",
            },
            {"type": "document", "source": {"type": "url", "url": "https://example.com/paper.pdf"}},
            {
                "type": "document",
                "source": {"type": "text", "media_type": "text/plain", "data": "some notes"},
            },
        ],
    }
    assert mismatches(msg, MessageParam) == []


def test_a_failed_tool_call_with_an_image_in_its_result() -> None:
    call = kairos.ToolCall("toolu_1", "screenshot", "{}")
    result = M.tool(["the page crashed", kairos.Image.from_bytes(PNG)], "toolu_1", is_error=True)
    sent = second_request("anthropic", [M.user("x"), M.assistant("", [call]), result], "c")
    block = sent["messages"][2]["content"][0]
    assert block == {
        "type": "tool_result",
        "tool_use_id": "toolu_1",
        "content": [
            {"type": "text", "text": "the page crashed"},
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": B64(PNG).decode()},
            },
        ],
        "is_error": True,
    }
    assert mismatches(sent["messages"][2], MessageParam) == []
    text_only = second_request(
        "anthropic",
        [M.user("x"), M.assistant("", [call]), M.tool("boom", "toolu_1", is_error=True)],
        "c",
    )
    assert text_only["messages"][2]["content"][0]["is_error"] is True


@pytest.mark.parametrize(
    ("part", "why"),
    [
        (kairos.Audio.from_bytes(WAV), "does not take audio"),
        (kairos.Image.from_bytes(b"BM" + b"\0" * 10), "Anthropic takes image/jpeg"),
        (kairos.Document.from_bytes(b"PK\x03\x04", "application/zip"), "PDF and plain-text"),
    ],
)
def test_a_part_the_wire_cannot_take_is_refused_before_sending(part: kairos.Part, why: str) -> None:
    message = refused("anthropic", [M.user("x", part)], "claude-x")
    assert message.startswith("anthropic: cannot send ") and why in message


def test_reasoning_is_thinking_with_a_budget_below_max_tokens() -> None:
    sent = second_request("anthropic", [M.user("x")], "c", reasoning=kairos.Reasoning("low"))
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert sent["max_tokens"] == 2048 + 4096
    r = kairos.Reasoning(budget_tokens=3000)
    sent = second_request("anthropic", [M.user("x")], "c", reasoning=r, max_tokens=5000)
    assert sent["thinking"]["budget_tokens"] == 3000 and sent["max_tokens"] == 5000


@pytest.mark.parametrize(
    ("req", "why"),
    [
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tool_choice": "get_weather"}, "tool_choice"),
        ({"tool_choice": {"type": "any"}}, "tool_choice"),
        ({"temperature": 0.2}, "temperature"),
        ({"max_tokens": 1000}, "max_tokens (1000) must be greater"),
    ],
)
def test_what_the_api_rejects_with_thinking_is_refused_before_sending(req: dict, why: str) -> None:  # type: ignore[type-arg]
    tools = [kairos.Tool("get_weather")]
    message = refused(
        "anthropic", [M.user("x")], "c", reasoning=kairos.Reasoning(), tools=tools, **req
    )
    assert message.startswith("anthropic: ") and why in message
