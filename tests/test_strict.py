"""Strict mode: ``kairos serve --strict`` and the doubles' ``strict=True`` reject a request the
way the real API does (status and the provider's own error body), and accept a correct tool
loop. One broken loop and one correct loop for each wire with a rule; requests are sent by
kairos, by plain httpx (what any client may send) and by the official SDKs."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest

import kairos
from kairos.serve import EmulatorServer
from kairos.testing import AsyncScriptedProvider, Call, Reasoning, Reply, ScriptedProvider, Text
from round_trip import PNG

M = kairos.Message
WEATHER = kairos.Tool("get_weather", "Weather in a city", {"type": "object", "properties": {}})
THINKING_CALL = Reply(
    [Reasoning("The user wants the weather."), Call("get_weather", {"city": "Paris"})]
)
ANSWER = Reply([Text("It is sunny in Paris.")])


def _loop(llm: Any, broken: bool, **req: Any) -> kairos.ChatResponse:
    """Two turns of a tool loop; ``broken`` rebuilds the assistant turn by hand from its text
    and calls, losing what the provider needs back (the mistake issue 12 is about)."""
    history = [M.user("Weather in Paris?")]
    first = llm.chat(kairos.ChatRequest(history, tools=[WEATHER], **req))
    turn = M.assistant(first.content, first.tool_calls) if broken else first.to_message()
    history += [turn, *(M.tool('{"sunny": true}', c.id, c.name) for c in first.tool_calls)]
    return llm.chat(kairos.ChatRequest(history, tools=[WEATHER], **req))  # type: ignore[no-any-return]


# -- Anthropic: the thinking block must come back, unmodified ---------------------------------
def test_anthropic_double_accepts_the_loop_built_with_to_message() -> None:
    llm = ScriptedProvider([THINKING_CALL, ANSWER], wire="anthropic", strict=True)
    assert _loop(llm, False, reasoning=kairos.Reasoning("low")).content == "It is sunny in Paris."
    sent = llm.exchanges[1].body["messages"][1]["content"]
    assert [b["type"] for b in sent] == ["thinking", "tool_use"] and sent[0]["signature"]


def test_anthropic_double_rejects_a_turn_without_its_thinking_block() -> None:
    llm = ScriptedProvider([THINKING_CALL, ANSWER], wire="anthropic", strict=True)
    with pytest.raises(kairos.BadRequestError) as info:
        _loop(llm, True, reasoning=kairos.Reasoning("low"))
    err = info.value
    assert err.status == 400 and err.error_type == "invalid_request_error"
    assert "Expected `thinking` or `redacted_thinking`, but found `tool_use`" in str(err)
    assert llm.remaining == 1  # a rejected request takes no reply


def test_anthropic_double_rejects_a_modified_thinking_block() -> None:
    llm = ScriptedProvider([THINKING_CALL, ANSWER], wire="anthropic", strict=True)
    history = [M.user("Weather?")]
    first = llm.chat(kairos.ChatRequest(history, tools=[WEATHER]))
    block = first.to_message().parts[0]
    assert isinstance(block, kairos.ReasoningBlock)
    forged = kairos.ReasoningBlock(
        "I changed my mind.", block.signature, provider="anthropic", wire="anthropic-messages"
    )
    turn = M(kairos.Role.ASSISTANT, parts=(forged, *first.tool_calls))
    history += [turn, M.tool("sunny", first.tool_calls[0].id)]
    with pytest.raises(kairos.BadRequestError, match="Invalid `signature`"):
        llm.chat(kairos.ChatRequest(history, tools=[WEATHER]))


def test_anthropic_async_double_is_strict_too() -> None:
    async def main() -> str:
        llm = AsyncScriptedProvider([THINKING_CALL, ANSWER], wire="anthropic-messages", strict=True)
        history = [M.user("Weather?")]
        first = await llm.chat(
            kairos.ChatRequest(history, tools=[WEATHER], reasoning=kairos.Reasoning())
        )
        history += [
            M.assistant(first.content, first.tool_calls),
            M.tool("x", first.tool_calls[0].id),
        ]
        try:
            await llm.chat(
                kairos.ChatRequest(history, tools=[WEATHER], reasoning=kairos.Reasoning())
            )
        except kairos.BadRequestError as err:
            return str(err)
        return "accepted"

    assert "Expected `thinking`" in asyncio.run(main())


def test_strict_emulator_and_the_anthropic_sdk() -> None:
    anthropic = pytest.importorskip("anthropic")
    with EmulatorServer({"replies": [THINKING_CALL_SCRIPT, "Sunny."]}, strict=True) as srv:
        client = anthropic.Anthropic(base_url=srv.url, api_key="x", max_retries=0)
        thinking = {"type": "enabled", "budget_tokens": 2048}
        tools = [{"name": "get_weather", "input_schema": {"type": "object"}}]
        msgs: list[Any] = [{"role": "user", "content": "Weather?"}]
        first = client.messages.create(
            model="claude-x", max_tokens=4096, messages=msgs, thinking=thinking, tools=tools
        )
        call = next(b for b in first.content if b.type == "tool_use")
        result = {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}],
        }
        dropped = [b.to_dict() for b in first.content if b.type != "thinking"]
        with pytest.raises(anthropic.BadRequestError) as info:
            client.messages.create(
                model="claude-x",
                max_tokens=4096,
                thinking=thinking,
                tools=tools,
                messages=[*msgs, {"role": "assistant", "content": dropped}, result],
            )
        assert info.value.status_code == 400
        assert info.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
        kept = {"role": "assistant", "content": [b.to_dict() for b in first.content]}
        second = client.messages.create(
            model="claude-x",
            max_tokens=4096,
            thinking=thinking,
            tools=tools,
            messages=[*msgs, kept, result],
        )
        assert second.content[0].text == "Sunny."  # type: ignore[union-attr]


THINKING_CALL_SCRIPT = {
    "reasoning": "The user wants the weather.",
    "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
}


# -- DeepSeek: reasoning_content on every tool-call turn --------------------------------------
def test_deepseek_preset_loop_passes_and_another_client_config_is_rejected() -> None:
    script = {"replies": [THINKING_CALL_SCRIPT, "Sunny."], "cycle": True}
    with EmulatorServer(script, strict=True) as srv:
        url = srv.base_urls["OPENAI_BASE_URL"]
        with kairos.provider("deepseek", base_url=url, api_key="x", max_retries=0) as llm:
            assert _loop(llm, False, model="deepseek-chat").content == "Sunny."
        sent = srv.requests[1].json()["messages"][1]
        assert sent["reasoning_content"] == "The user wants the weather."
        # the same server through a generic preset that does not carry reasoning back
        generic = kairos.provider("openai-compatible", base_url=url, api_key="x", max_retries=0)
        with generic as llm, pytest.raises(kairos.BadRequestError) as info:
            _loop(llm, False, model="deepseek-reasoner")
        assert (
            "Missing `reasoning_content` field in the assistant message at message index 1"
            in str(info.value)
        )
        assert info.value.error_type == "invalid_request_error"


def test_deepseek_double_accepts_the_loop_and_the_openai_sdk_dropping_it_is_rejected() -> None:
    llm = ScriptedProvider([THINKING_CALL, ANSWER], wire="deepseek", strict=True)
    assert _loop(llm, False).content == "It is sunny in Paris."
    assert (
        llm.exchanges[1].body["messages"][1]["reasoning_content"] == "The user wants the weather."
    )
    openai = pytest.importorskip("openai")
    with EmulatorServer({"replies": [THINKING_CALL_SCRIPT]}, strict=True) as srv:
        client = openai.OpenAI(
            base_url=srv.base_urls["OPENAI_BASE_URL"], api_key="x", max_retries=0
        )
        msgs: list[Any] = [{"role": "user", "content": "Weather?"}]
        fn = {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}
        tools: Any = [{"type": "function", "function": fn}]
        first = client.chat.completions.create(model="deepseek-chat", messages=msgs, tools=tools)
        call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
        turn = {"role": "assistant", "content": None, "tool_calls": [call.to_dict()]}
        result = {"role": "tool", "tool_call_id": call.id, "content": "sunny"}
        with pytest.raises(openai.BadRequestError) as info:
            client.chat.completions.create(
                model="deepseek-chat", messages=[*msgs, turn, result], tools=tools
            )
        assert "Missing `reasoning_content`" in info.value.message


# -- Gemini 3: the thought signature of the first call of each model turn ---------------------
def test_gemini_3_requires_the_thought_signature() -> None:
    with EmulatorServer({"replies": [THINKING_CALL_SCRIPT, "Sunny."]}, strict=True) as srv:
        with kairos.provider("gemini", base_url=srv.url, api_key="x", max_retries=0) as llm:
            assert _loop(llm, False, model="gemini-3-pro-preview").content == "Sunny."
        turn = srv.requests[1].json()["contents"][1]
        assert "thoughtSignature" in turn["parts"][-1]
        path = "/v1beta/models/gemini-3-pro-preview:generateContent"
        unsigned = {
            "role": "model",
            "parts": [{"functionCall": {"name": "get_weather", "args": {}}}],
        }
        result = {
            "role": "user",
            "parts": [{"functionResponse": {"name": "get_weather", "response": {"ok": 1}}}],
        }
        body = {"contents": [{"role": "user", "parts": [{"text": "Weather?"}]}, unsigned, result]}
        answer = httpx.post(srv.url + path, json=body)
        assert answer.status_code == 400
        err = answer.json()["error"]
        assert (
            err["status"] == "INVALID_ARGUMENT" and "missing a thought_signature" in err["message"]
        )
        older = httpx.post(
            srv.url + path.replace("gemini-3-pro-preview", "gemini-2.5-flash"), json=body
        )
        assert older.status_code == 200  # only Gemini 3 validates signatures


# -- parts a wire cannot take ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "body", "field", "text"),
    [
        (
            "/v1/messages",
            {
                "model": "c",
                "max_tokens": 9,
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image",
                                "source": {
                                    "type": "base64",
                                    "media_type": "image/bmp",
                                    "data": "Qk0=",
                                },
                            }
                        ],
                    }
                ],
            },
            ("error", "type"),
            "media_type: Input should be 'image/jpeg'",
        ),
        (
            "/v1/chat/completions",
            {
                "model": "gpt-x",
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "input_audio",
                                "input_audio": {"data": "AA==", "format": "flac"},
                            }
                        ],
                    }
                ],
            },
            ("error", "type"),
            "expected 'wav' or 'mp3'",
        ),
        (
            "/api/chat",
            {
                "model": "llava",
                "messages": [
                    {"role": "user", "content": "x", "images": ["data:image/png;base64,AA=="]}
                ],
            },
            None,
            "illegal base64 data at input byte 4",
        ),
        (
            "/api/chat",
            {
                "model": "llava",
                "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}],
            },
            None,
            "cannot unmarshal array into Go struct field ChatRequest.messages.content",
        ),
        (
            "/v1beta/models/gemini-2.5-flash:generateContent",
            {
                "contents": [
                    {
                        "role": "user",
                        "parts": [{"inlineData": {"mimeType": "image/bmp", "data": "Qk0="}}],
                    }
                ]
            },
            ("error", "status"),
            "Unsupported MIME type: image/bmp",
        ),
    ],
)
def test_a_part_the_wire_cannot_take_gets_the_providers_error(
    path: str, body: dict[str, Any], field: tuple[str, str] | None, text: str
) -> None:
    with EmulatorServer(["never sent"], strict=True) as srv:
        answer = httpx.post(srv.url + path, json=body)
        loose = EmulatorServer(["sent"])
        with loose:
            assert httpx.post(loose.url + path, json=body).status_code == 200  # not strict
    assert answer.status_code == 400
    data = answer.json()
    message = data["error"] if field is None else data["error"]["message"]
    assert text in message
    if field is not None:
        assert data[field[0]][field[1]] in ("invalid_request_error", "INVALID_ARGUMENT")


def test_kairos_sends_a_correct_image_request_everywhere() -> None:
    image = kairos.Image.from_bytes(PNG)
    with EmulatorServer(["I see a picture."], strict=True) as srv:
        for preset, url in (
            ("openai", srv.base_urls["OPENAI_BASE_URL"]),
            ("anthropic", srv.url),
            ("gemini", srv.url),
            ("ollama", srv.url),
        ):
            with kairos.provider(preset, base_url=url, api_key="x", max_retries=0) as llm:
                reply = llm.chat(kairos.ChatRequest([M.user("What is this?", image)]))
            assert reply.content == "I see a picture.", preset
    assert base64.b64decode(srv.requests[-1].json()["messages"][0]["images"][0]) == PNG
