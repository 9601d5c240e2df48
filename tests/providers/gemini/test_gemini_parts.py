"""Message parts on the Gemini wire: ``inlineData`` (base64, no ``data:`` prefix) and
``fileData`` parts, validated by google-genai's own ``Content`` type; tool results that report
an error; the reasoning setting as ``thinkingConfig``."""

from __future__ import annotations

import base64
import json

import pytest
from google.genai import types

import kairos
from round_trip import MP3, PDF, PNG, refused, second_request

M = kairos.Message
B64 = base64.b64encode
MODEL = "gemini-2.5-flash"


def test_every_part_in_the_documented_shape_and_the_sdk_type() -> None:
    message = M.user(
        "Listen and read",
        kairos.Image.from_bytes(PNG),
        kairos.Document.from_bytes(PDF),
        kairos.Audio.from_bytes(MP3),
        kairos.Document.from_url("https://example.com/paper.pdf"),
        kairos.Image.from_url("gs://bucket/cat.png", "image/png"),
    )
    content = second_request("gemini", [message], MODEL)["contents"][0]
    assert content == {
        "role": "user",
        "parts": [
            {"text": "Listen and read"},
            {"inlineData": {"mimeType": "image/png", "data": B64(PNG).decode()}},
            {"inlineData": {"mimeType": "application/pdf", "data": B64(PDF).decode()}},
            {"inlineData": {"mimeType": "audio/mpeg", "data": B64(MP3).decode()}},
            {
                "fileData": {
                    "mimeType": "application/pdf",
                    "fileUri": "https://example.com/paper.pdf",
                }
            },
            {"fileData": {"mimeType": "image/png", "fileUri": "gs://bucket/cat.png"}},
        ],
    }
    parsed = types.Content.model_validate_json(json.dumps(content))  # the SDK's own type
    assert parsed.parts is not None and parsed.parts[1].inline_data is not None
    assert parsed.parts[1].inline_data.data == PNG


def test_a_url_of_unknown_type_is_refused_before_sending() -> None:
    part = kairos.Image.from_url("https://example.com/picture")
    assert "needs its media type" in refused("gemini", [M.user("x", part)], MODEL)


def test_a_failed_tool_call_answers_under_error() -> None:
    call = kairos.ToolCall("c1", "lookup", "{}")
    history = [M.user("x"), M.assistant("", [call])]
    sent = second_request(
        "gemini", [*history, M.tool("not found", "c1", "lookup", is_error=True)], MODEL
    )
    response = sent["contents"][2]["parts"][0]["functionResponse"]
    assert response == {"name": "lookup", "response": {"error": "not found"}, "id": "c1"}
    sent = second_request("gemini", [*history, M.tool("42", "c1", "lookup")], MODEL)
    assert sent["contents"][2]["parts"][0]["functionResponse"]["response"] == {"output": "42"}
    types.Content.model_validate_json(json.dumps(sent["contents"][2]))


@pytest.mark.parametrize(("effort", "budget"), [("low", 1024), ("medium", 8192), ("high", 24576)])
def test_reasoning_is_thinking_config(effort: str, budget: int) -> None:
    r = kairos.Reasoning(effort)  # type: ignore[arg-type]
    sent = second_request("gemini", [M.user("x")], MODEL, reasoning=r, temperature=0.5)
    config = sent["generationConfig"]
    assert config == {
        "temperature": 0.5,
        "thinkingConfig": {"thinkingBudget": budget, "includeThoughts": True},
    }
    types.GenerateContentConfig.model_validate_json(json.dumps(config))
