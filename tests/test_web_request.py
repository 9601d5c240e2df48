"""kairos.web.read_chat_request: the useChat body (UI messages with parts) to a ChatRequest."""

from __future__ import annotations

import base64
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
    assert m[3] == kairos.Message.tool("not found", "c2", "lookup", is_error=True)
    assert m[4] == kairos.Message.assistant("It is 18 degrees.")
    assert len(m) == 5


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452")  # a PNG's signature and first chunk


def test_file_parts_become_media_parts_in_order() -> None:
    png = "data:image/png;base64," + base64.b64encode(PNG).decode()
    pdf = "data:application/pdf;base64," + base64.b64encode(b"%PDF-1.4 x").decode()
    image = {"type": "file", "mediaType": "image/png", "filename": "cat.png", "url": png}
    doc = {"type": "file", "mediaType": "application/pdf", "filename": "r.pdf", "url": pdf}
    linked = {"type": "file", "mediaType": "image/jpeg", "url": "https://example.com/a.jpg"}
    (m,) = read_chat_request(body(ui("user", text("What is this?"), image, doc, linked))).messages
    first, picture, report, remote = m.parts
    assert isinstance(first, kairos.TextPart) and first.text == "What is this?"
    assert isinstance(picture, kairos.Image) and picture.data == PNG
    assert picture.media_type == "image/png"
    assert isinstance(report, kairos.Document) and report.filename == "r.pdf"
    assert isinstance(remote, kairos.Image) and remote.url == "https://example.com/a.jpg"
    assert m.content == "What is this?"


@pytest.mark.parametrize(
    ("part", "says"),
    [
        ({"mediaType": "image/png", "filename": "cat.png", "url": "data:,"}, "cat.png: its url"),
        ({"mediaType": "image/png", "url": "data:image/png;base64,@@"}, "broken base64"),
        ({"mediaType": "application/zip", "filename": "a.zip", "url": "data:,"}, "a.zip"),
        ({"filename": "x.png"}, "x.png without 'mediaType'"),
    ],
    ids=["not-base64", "broken-base64", "zip", "no-url"],
)
def test_unreadable_file_parts_are_a_one_line_400(part: dict[str, Any], says: str) -> None:
    with pytest.raises(BadChatRequest) as info:
        read_chat_request(body(ui("user", text("What is this?"), {"type": "file", **part})))
    message = str(info.value)
    assert says in message and "\n" not in message
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
