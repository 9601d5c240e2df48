"""Differential check: the official ``ollama`` Python client and kairos read the same recorded
bytes from the same loopback server and must agree on content, reasoning, tool calls (name and
arguments), usage and the raw finish reason. The official client has no tool-call ids, so ids
are compared only among kairos' own calls (non-empty and distinct)."""

from __future__ import annotations

import json
from typing import Any

import ollama
import pytest

import kairos
from harness import case_names, load_case
from loopback import LoopbackServer, Reply

FMT = "ollama-chat"
NDJSON = {"content-type": "application/x-ndjson"}
CHAT_CASES = [n for n in case_names(FMT) if load_case(FMT, n)[0].get("endpoint") is None]


def _reply(body: bytes) -> Reply:
    return Reply.body(body, split=64, headers=dict(NDJSON))


def _official(url: str) -> dict[str, Any]:
    parts = list(
        ollama.Client(host=url).chat(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    last = parts[-1]
    calls = [c.function for p in parts for c in (p.message.tool_calls or [])]
    return {
        "content": "".join(p.message.content or "" for p in parts),
        "reasoning": "".join(p.message.thinking or "" for p in parts) or None,
        "tools": [(f.name, dict(f.arguments)) for f in calls],
        "usage": (last.prompt_eval_count, last.eval_count),
        "finish": last.done_reason,
        "model": last.model,
    }


def _kairos(url: str) -> tuple[dict[str, Any], kairos.ChatResponse]:
    with kairos.provider("ollama", base_url=url, api_key=None) as p:
        resp = p.chat(kairos.ChatRequest([kairos.Message.user("hi")], model="m"))
    assert resp.usage is not None
    return {
        "content": resp.content,
        "reasoning": resp.reasoning,
        "tools": [(c.name, c.parsed_arguments()) for c in resp.tool_calls],
        "usage": (resp.usage.prompt_tokens, resp.usage.completion_tokens),
        "finish": resp.raw_finish_reason,
        "model": resp.model,
    }, resp


def _both(body: bytes) -> tuple[dict[str, Any], dict[str, Any], kairos.ChatResponse]:
    with LoopbackServer([_reply(body), _reply(body)]) as server:
        theirs = _official(server.url)
        ours, resp = _kairos(server.url)
    assert [r.path for r in server.requests] == ["/api/chat", "/api/chat"]
    return theirs, ours, resp


@pytest.mark.parametrize("name", CHAT_CASES)
def test_official_client_and_kairos_agree_on_recorded_bytes(name: str) -> None:
    _, body = load_case(FMT, name)
    theirs, ours, resp = _both(body)
    assert ours == theirs
    assert resp.usage is not None and resp.usage.total_tokens == sum(ours["usage"])
    ids = [c.id for c in resp.tool_calls]
    assert all(ids) and len(set(ids)) == len(ids)


def test_parallel_calls_to_one_function() -> None:
    line = {
        "model": "qwen3",
        "created_at": "2025-07-07T20:22:19.184789Z",
        "message": {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}},
                {"function": {"name": "get_weather", "arguments": {"city": "Osaka", "n": [1]}}},
            ],
        },
        "done": False,
    }
    done = {
        "model": "qwen3",
        "created_at": "2025-07-07T20:22:19.19314Z",
        "message": {"role": "assistant", "content": ""},
        "done_reason": "stop",
        "done": True,
        "prompt_eval_count": 169,
        "eval_count": 31,
    }
    body = b"".join(json.dumps(o).encode() + b"\n" for o in (line, done))
    theirs, ours, resp = _both(body)
    assert ours == theirs
    assert len({c.id for c in resp.tool_calls}) == 2


def test_midstream_error_line_both_fail_after_the_same_text() -> None:
    # the documented error example is /api/generate-shaped, so the official client reads it
    # with generate(); kairos reads the same bytes on its /api/chat stream
    _, body = load_case(FMT, "docs-generate-midstream-error")
    with LoopbackServer([_reply(body), _reply(body)]) as server:
        text = []
        with pytest.raises(ollama.ResponseError) as theirs:
            for part in ollama.Client(host=server.url).generate(
                model="m", prompt="hi", stream=True
            ):
                text.append(part.response)
        with (
            kairos.provider("ollama", base_url=server.url, api_key=None) as p,
            pytest.raises(kairos.APIStatusError) as ours,
        ):
            p.chat(kairos.ChatRequest([kairos.Message.user("hi")], model="m"))
    assert ours.value.partial is not None
    assert ours.value.partial.content == "".join(text)
    assert ours.value.message == theirs.value.error


def test_request_bodies_agree_with_the_official_client() -> None:
    """The same conversation sent by both clients gives the same messages and options."""
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "weather in Tokyo?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}}],
        },
        {"role": "tool", "content": "sunny", "tool_name": "get_weather"},
    ]
    _, body = load_case(FMT, "sk-phi3-tail-stop-usage")
    with LoopbackServer([_reply(body), _reply(body)]) as server:
        list(
            ollama.Client(host=server.url).chat(
                model="m",
                messages=messages,
                tools=tools,
                stream=True,
                options={"temperature": 0.5, "num_predict": 20, "stop": ["END"]},
            )
        )
        req = kairos.ChatRequest(
            [
                kairos.Message.system("be brief"),
                kairos.Message.user("weather in Tokyo?"),
                kairos.Message.assistant(
                    "", [kairos.ToolCall("call_1", "get_weather", '{"city":"Tokyo"}')]
                ),
                kairos.Message.tool("sunny", "call_1", "get_weather"),
            ],
            model="m",
            tools=[
                kairos.Tool("get_weather", "weather", tools[0]["function"]["parameters"]),
            ],
            temperature=0.5,
            max_tokens=20,
            stop=["END"],
        )
        with kairos.provider("ollama", base_url=server.url, api_key=None) as p:
            p.chat(req)
    theirs, ours = (r.json() for r in server.requests)
    for call in ours["messages"][2]["tool_calls"]:
        assert call.pop("id") == "call_1"  # kairos also sends the id; older servers ignore it
    # the official client leaves out an empty content; the server reads a missing content as ""
    for m in theirs["messages"]:
        m.setdefault("content", "")
    for key in ("model", "stream", "messages", "options", "tools"):
        assert ours[key] == theirs[key], key
