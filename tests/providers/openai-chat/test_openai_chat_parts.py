"""Message parts on the Chat Completions wire: each part in the documented shape (OpenAI API
reference: content parts ``image_url``, ``file``, ``input_audio``), checked against the
``openai`` SDK's own request types; parts the wire cannot take are refused before any request;
the reasoning setting per preset row."""

from __future__ import annotations

import base64

import pytest
from openai.types.chat import ChatCompletionMessageParam

import kairos
from round_trip import MP3, PDF, PNG, WAV, refused, second_request
from sdk_types import mismatches

URL = "http://round-trip.test/v1"
M = kairos.Message
B64 = base64.b64encode


def _user(*content: str | kairos.Part, preset: str = "openai") -> dict:  # type: ignore[type-arg]
    sent = second_request(preset, [M.user(*content)], "gpt-x", base_url=URL)
    return sent["messages"][0]  # type: ignore[no-any-return]


def test_every_part_in_the_documented_shape_and_the_sdk_type() -> None:
    msg = _user(
        "Describe these",
        kairos.Image.from_bytes(PNG, detail="low"),
        kairos.Image.from_url("https://example.com/cat.jpg"),
        kairos.Document.from_bytes(PDF, filename="report.pdf"),
        kairos.Audio.from_bytes(WAV),
        kairos.Audio.from_bytes(MP3),
    )
    assert msg == {
        "role": "user",
        "content": [
            {"type": "text", "text": "Describe these"},
            {
                "type": "image_url",
                "image_url": {"url": "data:image/png;base64," + B64(PNG).decode(), "detail": "low"},
            },
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
            {
                "type": "file",
                "file": {
                    "file_data": "data:application/pdf;base64," + B64(PDF).decode(),
                    "filename": "report.pdf",
                },
            },
            {"type": "input_audio", "input_audio": {"data": B64(WAV).decode(), "format": "wav"}},
            {"type": "input_audio", "input_audio": {"data": B64(MP3).decode(), "format": "mp3"}},
        ],
    }
    assert mismatches(msg, ChatCompletionMessageParam) == []


def test_text_only_messages_keep_their_string_content() -> None:
    assert _user("hi") == {"role": "user", "content": "hi"}
    assert _user(kairos.TextPart("a"), "b") == {"role": "user", "content": "ab"}


def test_a_plain_text_document_is_a_text_part() -> None:
    msg = _user(kairos.Document.from_bytes(b"plain notes", "text/plain"))
    assert msg["content"] == [{"type": "text", "text": "plain notes"}]


@pytest.mark.parametrize(
    ("part", "why"),
    [
        (kairos.Document.from_url("https://example.com/a.pdf"), "not a URL"),
        (kairos.Audio.from_url("https://example.com/a.wav"), "WAV or MP3 bytes"),
        (kairos.Audio.from_bytes(b"fLaC" + b"\0" * 8), "WAV or MP3 bytes"),
        (kairos.Document.from_bytes(b"PK\x03\x04", "application/zip"), "PDF and plain-text"),
    ],
)
def test_a_part_the_wire_cannot_take_is_refused_before_sending(part: kairos.Part, why: str) -> None:
    message = refused("openai", [M.user("x", part)], "gpt-x")
    assert message.startswith("openai: cannot send ") and why in message


def test_tool_results_take_text_only_and_have_no_error_flag() -> None:
    call = kairos.ToolCall("call_1", "f", "{}")
    history = [M.user("x"), M.assistant("", [call]), M.tool("boom", "call_1", is_error=True)]
    sent = second_request("openai", history, "gpt-x", base_url=URL)
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": "call_1", "content": "boom"}
    image = kairos.Image.from_bytes(PNG)
    history[2] = M.tool(["see", image], "call_1")
    assert "tool result takes text only" in refused("openai", history, "gpt-x")


@pytest.mark.parametrize(
    ("preset", "fields"),
    [
        ("openai", {"reasoning_effort": "high"}),
        ("groq", {"reasoning_effort": "high"}),
        ("openrouter", {"reasoning": {"effort": "high"}}),
        ("deepseek", {"thinking": {"type": "enabled"}, "reasoning_effort": "high"}),
        ("qwen", {"enable_thinking": True}),
    ],
)
def test_one_reasoning_setting_per_preset(preset: str, fields: dict) -> None:  # type: ignore[type-arg]
    reasoning = kairos.Reasoning(effort="high")
    sent = second_request(preset, [M.user("x")], "m", base_url=URL, reasoning=reasoning)
    assert {k: sent[k] for k in fields} == fields


def test_a_budget_where_the_provider_takes_one() -> None:
    r = kairos.Reasoning(budget_tokens=2000)
    sent = second_request("qwen", [M.user("x")], "m", base_url=URL, reasoning=r)
    assert sent["enable_thinking"] is True and sent["thinking_budget"] == 2000
    sent = second_request("openrouter", [M.user("x")], "m", base_url=URL, reasoning=r)
    assert sent["reasoning"] == {"max_tokens": 2000}
    sent = second_request("openai", [M.user("x")], "m", base_url=URL)
    assert "reasoning_effort" not in sent  # no setting, nothing sent


def test_bad_reasoning_settings_are_configuration_errors() -> None:
    with pytest.raises(kairos.ConfigurationError, match="effort"):
        kairos.Reasoning(effort="max")  # type: ignore[arg-type]
    with pytest.raises(kairos.ConfigurationError, match="budget_tokens"):
        kairos.Reasoning(budget_tokens=0)
