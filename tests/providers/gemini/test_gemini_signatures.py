"""Thought signatures travel in the data, not in a provider object (issue 10).

The recorded Gemini 3 stream ``pai-function-call-thought-signature`` carries a
``thoughtSignature`` on its function-call part. A second turn built by a NEW provider object
from the first turn's response must carry that signature on the same part: the codec keeps no
state between requests. Checked against the official SDK's own next-turn request
(``expected.round_trip``), whose google-genai client re-encodes the signature bytes with the
URL-safe base64 alphabet: the bytes are compared.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

import kairos

CASE = Path(__file__).parent / "fixtures/gemini/pai-function-call-thought-signature"
BODY = (CASE / "response.sse").read_bytes()
EXPECTED = json.loads((CASE / "case.json").read_text())["expected"]
MODEL = "gemini-3-pro-preview"  # the model of the recording (its recorded_uri)
KEY = "test-key-gemini-1234"


class Recorder:
    def __init__(self) -> None:
        self.bodies: list[Any] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=BODY)


def _signature_bytes(value: str) -> bytes:
    return base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_"))


def first_turn(mode: str) -> kairos.ChatResponse:
    req = kairos.ChatRequest([kairos.Message.user("Which country?")], model=MODEL)
    rec = Recorder()
    if mode == "sync":
        client = httpx.Client(transport=httpx.MockTransport(rec))
        with (
            kairos.provider("gemini", api_key=KEY, http_client=client) as p,
            p.chat_stream(req) as stream,
        ):
            return stream.get_final_response()

    async def main() -> kairos.ChatResponse:
        client = httpx.AsyncClient(transport=httpx.MockTransport(rec))
        async with kairos.async_provider("gemini", api_key=KEY, http_client=client) as p:
            return await p.chat(req)

    return asyncio.run(main())


def second_turn_body(first: kairos.ChatResponse) -> Any:
    """The request a brand-new provider object sends for the next turn."""
    (call,) = first.tool_calls
    history = [
        kairos.Message.user("Which country?"),
        kairos.Message.assistant(first.content, first.tool_calls),
        kairos.Message.tool('{"country": "Mexico"}', call.id, call.name),
    ]
    rec = Recorder()
    client = httpx.Client(transport=httpx.MockTransport(rec))
    with kairos.provider("gemini", api_key=KEY, http_client=client) as fresh:
        fresh.chat(kairos.ChatRequest(history, model=MODEL))
    return rec.bodies[0]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_new_provider_object_sends_the_signature_on_the_same_part(mode: str) -> None:
    first = first_turn(mode)
    (call,) = first.tool_calls
    recorded = BODY.split(b'"thoughtSignature": "')[1].split(b'"')[0].decode()
    assert call.provider_data == {"gemini": {"thoughtSignature": recorded}}
    model_turn = second_turn_body(first)["contents"][1]
    assert model_turn["role"] == "model"
    (part,) = model_turn["parts"]
    assert part["functionCall"] == {"name": "get_country", "args": {}}
    assert part["thoughtSignature"] == recorded  # exactly as received
    sdk_part = EXPECTED["round_trip"]["parts"][0]  # the SDK also keeps an empty text part
    assert _signature_bytes(part["thoughtSignature"]) == _signature_bytes(
        sdk_part["thoughtSignature"]
    )
    assert part["functionCall"] == {
        "name": sdk_part["functionCall"]["name"],
        "args": sdk_part["functionCall"]["args"],
    }


def test_another_wire_never_receives_the_gemini_signature() -> None:
    first = first_turn("sync")
    (call,) = first.tool_calls
    history = [
        kairos.Message.user("Which country?"),
        kairos.Message.assistant("", first.tool_calls),
        kairos.Message.tool("Mexico", call.id, call.name),
    ]
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(400, json={"error": {"message": "stop here", "type": "x"}})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with (
        kairos.provider("openai", api_key=KEY, http_client=client, max_retries=0) as p,
        pytest.raises(kairos.BadRequestError),
    ):
        p.chat(kairos.ChatRequest(history, model="m"))
    assert b"thoughtSignature" not in seen[0] and call.id.encode() in seen[0]
