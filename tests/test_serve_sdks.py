"""The official SDKs (openai, anthropic, google-genai, ollama) pointed at an in-process
``kairos serve`` receive exactly the scripted content, tool calls and usage, streaming and not.

Nothing here reaches the internet: every SDK gets the emulator's loopback base URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import ollama
import openai
import pytest
from google import genai
from google.genai import types

from kairos.serve import EmulatorServer

TEXT = "Hello from the emulator! ¿Qué tal? 👋"
TOOL_TEXT = "Checking both cities."
CALLS = [("get_weather", {"city": "Paris", "units": "c"}), ("get_weather", {"city": "Tokyo"})]
SCRIPT = {
    "replies": [
        {
            "match": "weather",
            "text": TOOL_TEXT,
            "tool_calls": [
                {"name": n, "arguments": a, "id": f"call_{i}"} for i, (n, a) in enumerate(CALLS)
            ],
            "usage": {"prompt_tokens": 21, "completion_tokens": 13},
        },
        {"text": TEXT, "usage": {"prompt_tokens": 7, "completion_tokens": 9}},
    ]
}
# every request offers the tool (kairos serve answers tool calls only to requests that do)
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "units": {"type": "string"}}}
FUNCTION = {"name": "get_weather", "description": "Weather for a city", "parameters": SCHEMA}
# (content, [(name, arguments)], (prompt_tokens, completion_tokens))
Result = tuple[str, list[tuple[str, dict[str, Any]]], tuple[int, int]]
WANT_TEXT: Result = (TEXT, [], (7, 9))
WANT_TOOLS: Result = (TOOL_TEXT, CALLS, (21, 13))
PROMPTS = [("hello", WANT_TEXT), ("weather in Paris and Tokyo?", WANT_TOOLS)]
IDS = ["text", "parallel-tools"]
STREAM = pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
CASES = pytest.mark.parametrize(("prompt", "want"), PROMPTS, ids=IDS)


@pytest.fixture(scope="module")
def srv() -> Iterator[EmulatorServer]:
    with EmulatorServer(SCRIPT) as server:
        yield server


@STREAM
@CASES
def test_openai_sdk(srv: EmulatorServer, prompt: str, want: Result, stream: bool) -> None:
    client = openai.OpenAI(base_url=srv.base_urls["OPENAI_BASE_URL"], api_key="k", max_retries=0)
    messages: Any = [{"role": "user", "content": prompt}]
    tools: Any = [{"type": "function", "function": FUNCTION}]
    with client:
        if not stream:
            r = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=tools)
            msg, usage = r.choices[0].message, r.usage
            assert usage is not None
            calls = [
                (c.function.name, json.loads(c.function.arguments)) for c in msg.tool_calls or []
            ]  # type: ignore[union-attr]
            got = (msg.content or "", calls, (usage.prompt_tokens, usage.completion_tokens))
            assert got == want
            return
        text, args, names, tokens = "", {}, {}, (0, 0)
        for chunk in client.chat.completions.create(
            model="gpt-4o-mini",
            messages=messages,
            tools=tools,
            stream=True,
            stream_options={"include_usage": True},
        ):
            if chunk.usage is not None:
                tokens = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            for choice in chunk.choices:
                text += choice.delta.content or ""
                for tc in choice.delta.tool_calls or []:
                    fn = tc.function
                    if fn is not None and fn.name:
                        names[tc.index] = fn.name
                    args[tc.index] = args.get(tc.index, "") + (fn.arguments or "" if fn else "")
    calls = [(names[i], json.loads(args[i])) for i in sorted(names)]
    assert (text, calls, tokens) == want


@STREAM
@CASES
def test_anthropic_sdk(srv: EmulatorServer, prompt: str, want: Result, stream: bool) -> None:
    client = anthropic.Anthropic(
        base_url=srv.base_urls["ANTHROPIC_BASE_URL"], api_key="k", max_retries=0
    )
    kw: Any = {
        "model": "claude-haiku-4-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": prompt}],
        "tools": [{"name": "get_weather", "input_schema": SCHEMA}],
    }
    with client:
        if stream:
            with client.messages.stream(**kw) as s:
                msg = s.get_final_message()
        else:
            msg = client.messages.create(**kw)
    text = "".join(b.text for b in msg.content if b.type == "text")
    calls = [(b.name, b.input) for b in msg.content if b.type == "tool_use"]
    assert (text, calls, (msg.usage.input_tokens, msg.usage.output_tokens)) == want
    if calls:
        assert msg.stop_reason == "tool_use"
        assert [b.id for b in msg.content if b.type == "tool_use"] == ["call_0", "call_1"]


@STREAM
@CASES
def test_google_genai_sdk(srv: EmulatorServer, prompt: str, want: Result, stream: bool) -> None:
    options = types.HttpOptions(base_url=srv.base_urls["GOOGLE_GEMINI_BASE_URL"])
    client = genai.Client(api_key="k", http_options=options)
    text, calls, tokens = "", [], (0, 0)
    function = types.FunctionDeclaration(**FUNCTION)  # type: ignore[arg-type]
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[function])])
    kw: Any = {"model": "gemini-2.5-flash", "contents": prompt, "config": config}
    if stream:
        responses = list(client.models.generate_content_stream(**kw))
    else:
        responses = [client.models.generate_content(**kw)]
    for r in responses:
        for part in r.candidates[0].content.parts or []:  # type: ignore[index,union-attr]
            text += part.text or ""
            if part.function_call is not None:
                calls.append((part.function_call.name, dict(part.function_call.args or {})))
        if r.usage_metadata is not None and r.usage_metadata.prompt_token_count:
            meta = r.usage_metadata
            tokens = (meta.prompt_token_count, meta.candidates_token_count)
    assert (text, calls, tokens) == want


@STREAM
@CASES
def test_ollama_sdk(srv: EmulatorServer, prompt: str, want: Result, stream: bool) -> None:
    client = ollama.Client(host=srv.base_urls["OLLAMA_HOST"])
    messages = [{"role": "user", "content": prompt}]
    tools: Any = [{"type": "function", "function": FUNCTION}]
    if stream:
        parts = list(client.chat(model="llama3.2", messages=messages, tools=tools, stream=True))
    else:
        parts = [client.chat(model="llama3.2", messages=messages, tools=tools)]
    text = "".join(p.message.content or "" for p in parts)
    calls = [
        (c.function.name, dict(c.function.arguments))
        for p in parts
        for c in p.message.tool_calls or []
    ]
    last = parts[-1]
    assert last.done
    assert (text, calls, (last.prompt_eval_count, last.eval_count)) == want


def test_ollama_sdk_lists_models_and_dashscope_path_answers(srv: EmulatorServer) -> None:
    client = ollama.Client(host=srv.base_urls["OLLAMA_HOST"])
    assert [m.model for m in client.list().models] == ["kairos-emulator"]
    qwen = openai.OpenAI(base_url=srv.base_urls["DASHSCOPE_BASE_URL"], api_key="k")
    with qwen:
        r = qwen.chat.completions.create(
            model="qwen-plus", messages=[{"role": "user", "content": "hi"}]
        )
    assert r.choices[0].message.content == TEXT and r.model == "qwen-plus"
    assert srv.requests[-1].path == "/compatible-mode/v1/chat/completions"
