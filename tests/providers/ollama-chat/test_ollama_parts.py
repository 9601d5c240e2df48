"""Message parts on the Ollama wire: images as base64 strings in ``images`` (``docs/api.md``,
"Chat request (with images)"), checked with the ``ollama`` client's own ``Message`` type;
anything else is refused before any request; reasoning is ``think``."""

from __future__ import annotations

import base64

import ollama
import pytest

import kairos
from round_trip import PDF, PNG, WAV, refused, second_request

M = kairos.Message


def test_images_are_base64_strings_as_the_client_sends_them() -> None:
    sent = second_request(
        "ollama", [M.user("What is this?", kairos.Image.from_bytes(PNG))], "llava"
    )
    msg = sent["messages"][0]
    assert msg == {
        "role": "user",
        "content": "What is this?",
        "images": [base64.b64encode(PNG).decode()],
    }
    client_msg = ollama.Message(
        role="user", content="What is this?", images=[ollama.Image(value=PNG)]
    )
    assert client_msg.model_dump(exclude_none=True) == msg


@pytest.mark.parametrize(
    ("part", "why"),
    [
        (kairos.Image.from_url("https://example.com/cat.png"), "not a URL"),
        (kairos.Document.from_bytes(PDF), "images only"),
        (kairos.Audio.from_bytes(WAV), "images only"),
    ],
)
def test_a_part_the_wire_cannot_take_is_refused_before_sending(part: kairos.Part, why: str) -> None:
    message = refused("ollama", [M.user("x", part)], "llava")
    assert message.startswith("ollama: cannot send ") and why in message


def test_reasoning_is_think() -> None:
    sent = second_request("ollama", [M.user("x")], "qwen3", reasoning=kairos.Reasoning("low"))
    assert sent["think"] is True
