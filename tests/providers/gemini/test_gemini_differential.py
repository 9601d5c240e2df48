"""Differential check: the official ``google-genai`` SDK and kairos read the same recorded
bytes from the same loopback server and must agree on content, reasoning, tool calls (name and
arguments), usage (kairos' completion count is the SDK's candidates plus thoughts), the raw
finish reason and the model. The recordings carry no
``functionCall.id`` (the SDK reports ``None``), so ids are checked only among kairos' own calls
(non-empty and distinct). A second check sends the same conversation through both clients and
compares the request bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google import genai
from google.genai import types

import kairos
from harness import case_names, load_case
from loopback import LoopbackServer, Reply

FMT = "gemini"
MODEL = "gemini-2.5-flash"
SSE = {"content-type": "text/event-stream"}
KEY = "k-differential"


def _reply(body: bytes) -> Reply:
    return Reply.body(body, split=256, headers=dict(SSE))


def _client(url: str) -> genai.Client:
    options = types.HttpOptions(base_url=url, api_version="v1beta")
    return genai.Client(api_key=KEY, http_options=options)


def _official(url: str) -> dict[str, Any]:
    content, reasoning, tools = [], [], []
    usage = finish = model = None
    client = _client(url)  # keep a reference: the SDK closes its HTTP client when collected
    for chunk in client.models.generate_content_stream(model=MODEL, contents="hi"):
        if chunk.usage_metadata is not None:
            usage = chunk.usage_metadata
        model = chunk.model_version or model
        cand = chunk.candidates[0] if chunk.candidates else None
        if cand is None:
            continue
        if cand.finish_reason is not None:
            finish = cand.finish_reason.value
        for part in (cand.content.parts if cand.content else None) or []:
            if part.function_call is not None:
                tools.append((part.function_call.name, dict(part.function_call.args or {})))
            elif part.text:
                (reasoning if part.thought else content).append(part.text)
    assert usage is not None
    return {
        "content": "".join(content),
        "reasoning": "".join(reasoning) or None,
        "tools": tools,
        "usage": (
            usage.prompt_token_count or 0,
            # kairos' completion count includes thoughts (candidates excludes them)
            (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0),
            usage.total_token_count,
            usage.thoughts_token_count,
            usage.cached_content_token_count,
        ),
        "finish": finish,
        "model": model,
    }


def _kairos(url: str) -> tuple[dict[str, Any], kairos.ChatResponse]:
    with kairos.provider("gemini", base_url=url, api_key=KEY) as p:
        resp = p.chat(kairos.ChatRequest([kairos.Message.user("hi")], model=MODEL))
    u = resp.usage
    assert u is not None
    return {
        "content": resp.content,
        "reasoning": resp.reasoning,
        "tools": [(c.name, c.parsed_arguments()) for c in resp.tool_calls],
        "usage": (
            u.prompt_tokens,
            u.completion_tokens,
            u.total_tokens,
            u.reasoning_tokens,
            u.cached_tokens,
        ),
        "finish": resp.raw_finish_reason,
        "model": resp.model,
    }, resp


def _both(body: bytes) -> tuple[dict[str, Any], dict[str, Any], kairos.ChatResponse]:
    with LoopbackServer([_reply(body), _reply(body)]) as server:
        theirs = _official(server.url)
        ours, resp = _kairos(server.url)
    path = f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
    assert [r.path for r in server.requests] == [path, path]
    assert [r.headers.get("x-goog-api-key") for r in server.requests] == [KEY, KEY]
    return theirs, ours, resp


@pytest.mark.parametrize("name", case_names(FMT))
def test_official_sdk_and_kairos_agree_on_recorded_bytes(name: str) -> None:
    _, body = load_case(FMT, name)
    theirs, ours, resp = _both(body)
    assert ours == theirs
    ids = [c.id for c in resp.tool_calls]
    assert all(ids) and len(set(ids)) == len(ids)


def test_synthetic_stream_with_cache_counts_and_split_calls() -> None:
    """Calls spread over two chunks, a cached-content count and a candidate without parts."""
    chunks = [
        {
            "candidates": [{"content": {"role": "model", "parts": [{"text": "Let me look."}]}}],
            "usageMetadata": {"promptTokenCount": 40, "totalTokenCount": 40},
            "modelVersion": MODEL,
        },
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [{"functionCall": {"name": "find", "args": {"q": "ä"}}}],
                    }
                }
            ]
        },
        {"candidates": [{"index": 0}]},
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [{"functionCall": {"name": "find", "args": {"q": "b"}}}],
                    },
                    "finishReason": "STOP",
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 40,
                "candidatesTokenCount": 12,
                "totalTokenCount": 60,
                "thoughtsTokenCount": 8,
                "cachedContentTokenCount": 32,
            },
            "modelVersion": MODEL,
        },
    ]
    body = b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)
    theirs, ours, resp = _both(body)
    assert ours == theirs
    assert ours["usage"] == (40, 12 + 8, 60, 8, 32)
    assert resp.finish_reason == "tool_calls"
    assert len({c.id for c in resp.tool_calls}) == 2


def test_request_bodies_agree_with_the_official_sdk() -> None:
    """The same conversation sent by both clients gives the same request body."""
    _, body = load_case(FMT, "pai-text-basic")
    params = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    with LoopbackServer([_reply(body), _reply(body)]) as server:
        config = types.GenerateContentConfig(
            system_instruction="be brief",
            temperature=0.5,
            top_p=0.8,
            max_output_tokens=20,
            stop_sequences=["END"],
            tools=[
                types.Tool(
                    function_declarations=[
                        types.FunctionDeclaration(
                            name="get_weather", description="weather", parameters=params
                        )
                    ]
                )
            ],
            tool_config=types.ToolConfig(
                function_calling_config=types.FunctionCallingConfig(mode="ANY")
            ),
        )
        contents = [
            types.Content(role="user", parts=[types.Part(text="weather in Oslo?")]),
            types.Content(
                role="model",
                parts=[
                    types.Part(
                        function_call=types.FunctionCall(
                            id="c1", name="get_weather", args={"city": "Oslo"}
                        )
                    )
                ],
            ),
            types.Content(
                role="user",
                parts=[
                    types.Part(
                        function_response=types.FunctionResponse(
                            id="c1", name="get_weather", response={"output": "cold"}
                        )
                    )
                ],
            ),
        ]
        client = _client(server.url)
        for _ in client.models.generate_content_stream(
            model=MODEL, contents=contents, config=config
        ):
            pass
        req = kairos.ChatRequest(
            [
                kairos.Message.system("be brief"),
                kairos.Message.user("weather in Oslo?"),
                kairos.Message.assistant(
                    "", [kairos.ToolCall("c1", "get_weather", '{"city": "Oslo"}')]
                ),
                kairos.Message.tool("cold", "c1"),  # the name comes from the call above
            ],
            model=MODEL,
            tools=[kairos.Tool("get_weather", "weather", params)],
            tool_choice="required",
            temperature=0.5,
            top_p=0.8,
            max_tokens=20,
            stop=["END"],
        )
        with kairos.provider("gemini", base_url=server.url, api_key=KEY) as p:
            p.chat(req)
    theirs, ours = (r.json() for r in server.requests)
    # the SDK marks the system instruction with role "user"; the API reference makes it optional
    assert theirs["systemInstruction"].pop("role", "user") == "user"

    # the SDK upper-cases JSON Schema type names into the OpenAPI enum (the API accepts both)
    def lower(x: Any) -> Any:
        return json.loads(json.dumps(x).lower())

    assert lower(theirs["tools"]) == lower(ours["tools"])
    for key in ("systemInstruction", "contents", "toolConfig", "generationConfig"):
        assert ours[key] == theirs[key], key
    assert set(ours) == set(theirs)
