"""kairos.web.read_chat_request: the useChat body (UI messages with parts) to a ChatRequest."""

from __future__ import annotations

import json
from typing import Any

import pytest

import kairos
from kairos.web import BadChatRequest, read_chat_request


def ui(role: str, *parts: dict[str, Any], id: str = "m") -> dict[str, Any]:
    return {"id": id, "role": role, "parts": list(parts)}


def text(t: str) -> dict[str, Any]:
    return {"type": "text", "text": t}


def body(*messages: dict[str, Any]) -> dict[str, Any]:
    # the shape DefaultChatTransport posts (ai 6: src/ui/http-chat-transport.ts)
    return {"id": "chat-1", "messages": list(messages), "trigger": "submit-message"}


def test_text_messages_and_options() -> None:
    req = read_chat_request(
        body(
            ui("system", text("Be brief.")),
            ui("user", text("Hello"), text("there")),
            ui(
                "assistant", {"type": "step-start"}, text("Hi!"), {"type": "reasoning", "text": "x"}
            ),
            ui("user", text("Weather?")),
        ),
        system="You are kairos.",
        model="m1",
        temperature=0.2,
    )
    assert [(m.role, m.content) for m in req.messages] == [
        (kairos.Role.SYSTEM, "You are kairos."),
        (kairos.Role.SYSTEM, "Be brief."),
        (kairos.Role.USER, "Hello\nthere"),
        (kairos.Role.ASSISTANT, "Hi!"),  # reasoning is not sent back
        (kairos.Role.USER, "Weather?"),
    ]
    assert req.model == "m1" and req.temperature == 0.2


def test_json_text_and_bytes_are_read_too() -> None:
    raw = json.dumps(body(ui("user", text("hola"))))
    for b in (raw, raw.encode()):
        assert list(read_chat_request(b).messages) == [kairos.Message.user("hola")]


def test_answered_tool_calls_become_calls_and_results_per_step() -> None:
    assistant = ui(
        "assistant",
        {"type": "step-start"},
        text("Let me check."),
        {
            "type": "tool-get_weather",
            "toolCallId": "c1",
            "state": "output-available",
            "input": {"city": "Paris"},
            "output": {"temp": 18},
        },
        {
            "type": "dynamic-tool",
            "toolName": "lookup",
            "toolCallId": "c2",
            "state": "output-error",
            "input": {},
            "errorText": "not found",
        },
        {"type": "tool-pending", "toolCallId": "c3", "state": "input-available", "input": {}},
        {"type": "step-start"},
        text("It is 18 degrees."),
    )
    req = read_chat_request(body(ui("user", text("Weather in Paris?")), assistant))
    m = list(req.messages)
    assert m[0] == kairos.Message.user("Weather in Paris?")
    assert m[1].role is kairos.Role.ASSISTANT and m[1].content == "Let me check."
    assert [(c.id, c.name, c.parsed_arguments()) for c in m[1].tool_calls] == [
        ("c1", "get_weather", {"city": "Paris"}),
        ("c2", "lookup", {}),
    ]  # c3 has no result: providers refuse a call without an answer, so it is left out
    assert m[2] == kairos.Message.tool('{"temp": 18}', "c1", "get_weather")
    assert m[3] == kairos.Message.tool("error: not found", "c2", "lookup")
    assert m[4] == kairos.Message.assistant("It is 18 degrees.")
    assert len(m) == 5


def test_file_parts_are_refused_with_a_one_line_400() -> None:
    image = {"type": "file", "mediaType": "image/png", "filename": "cat.png", "url": "data:,"}
    with pytest.raises(BadChatRequest) as info:
        read_chat_request(body(ui("user", text("What is this?"), image)))
    message = str(info.value)
    assert "cat.png" in message and "cannot send files or images" in message
    assert "\n" not in message
    assert info.value.http_status == 400
    assert isinstance(info.value, kairos.ConfigurationError)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (b"{not json", "not JSON"),
        ([1, 2], "not a JSON object"),
        ({"messages": []}, "non-empty list"),
        ({"id": "x"}, "non-empty list"),
        ({"messages": ["hi"]}, "message 0 is not an object"),
        ({"messages": [{"role": "robot", "parts": []}]}, "role 'robot'"),
        ({"messages": [{"role": "user"}]}, "no 'parts' list"),
        ({"messages": [{"role": "user", "parts": [{"text": "x"}]}]}, "without a 'type'"),
        ({"messages": [{"role": "user", "parts": [{"type": "text"}]}]}, "without 'text'"),
    ],
)
def test_bad_bodies_are_one_line_errors(value: Any, fragment: str) -> None:
    with pytest.raises(BadChatRequest) as info:
        read_chat_request(value)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_ai_sdk_4_content_strings_are_read() -> None:
    req = read_chat_request({"messages": [{"role": "user", "content": "old shape"}]})
    assert list(req.messages) == [kairos.Message.user("old shape")]


def test_unknown_request_option_is_a_configuration_error() -> None:
    with pytest.raises(kairos.ConfigurationError, match="read_chat_request"):
        read_chat_request(body(ui("user", text("x"))), colour="blue")
