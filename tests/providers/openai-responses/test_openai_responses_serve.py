"""The Responses wire in ``kairos serve``, ``kairos.testing`` and the CLI: the official ``openai``
SDK and kairos (also through the Azure presets) against an in-process emulator, a tool loop's
second turn, the doubles with ``wire="openai-responses"``, and ``kairos stream --provider
openai-responses`` / ``kairos providers`` as subprocesses. Nothing reaches the internet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import kairos
from kairos.serve import EmulatorServer
from kairos.testing import Call, Reply, ScriptedProvider

openai = pytest.importorskip("openai")

FMT = "openai-responses"
SCRIPT = {
    "replies": [
        {
            "match": "weather",
            "reasoning": "Two cities, two calls.",
            "text": "Checking both.",
            "tool_calls": [
                {"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_p"},
                {"name": "get_weather", "arguments": {"city": "Tokyo"}, "id": "call_t"},
            ],
            "usage": {"prompt_tokens": 21, "completion_tokens": 13},
        },
        {
            "text": "Hello from the emulator! ¿Qué tal?",
            "usage": {"prompt_tokens": 7, "completion_tokens": 9},
        },
    ]
}
CALLS = [
    ("call_p", "get_weather", '{"city":"Paris"}'),
    ("call_t", "get_weather", '{"city":"Tokyo"}'),
]
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = kairos.Tool("get_weather", "The weather in a city.", CITY)
SDK_TOOLS = [{"type": "function", "name": "get_weather", "parameters": CITY, "strict": False}]


@pytest.fixture(scope="module")
def srv() -> Iterator[EmulatorServer]:
    with EmulatorServer(SCRIPT) as server:
        yield server


def _sdk(srv: EmulatorServer) -> Any:
    return openai.OpenAI(base_url=srv.base_urls["OPENAI_BASE_URL"], api_key="k", max_retries=0)


@pytest.mark.parametrize("way", ["create", "stream-events", "stream-helper"])
def test_openai_sdk_gets_the_scripted_turn(srv: EmulatorServer, way: str) -> None:
    client = _sdk(srv)
    kw: Any = {"model": "gpt-5", "input": "weather in Paris and Tokyo?", "tools": SDK_TOOLS}
    if way == "create":
        final = client.responses.create(**kw)
    elif way == "stream-events":
        events = list(client.responses.create(stream=True, **kw))
        assert [e.sequence_number for e in events] == list(range(len(events)))
        final = events[-1].response
        assert events[-1].type == "response.completed"
    else:
        with client.responses.stream(**kw) as s:
            final = s.get_final_response()
    assert final.output_text == "Checking both."
    calls = [(o.call_id, o.name, o.arguments) for o in final.output if o.type == "function_call"]
    assert calls == CALLS
    summary = [s.text for o in final.output if o.type == "reasoning" for s in o.summary]
    assert summary == ["Two cities, two calls."]
    assert (final.usage.input_tokens, final.usage.output_tokens) == (21, 13)
    assert final.status == "completed" and final.model == "gpt-5"


def test_kairos_tool_loop_second_turn(srv: EmulatorServer) -> None:
    msgs = [kairos.Message.system("Be brief."), kairos.Message.user("weather?")]
    req = kairos.ChatRequest(msgs, tools=[WEATHER])
    with kairos.provider(FMT, base_url=srv.base_urls["OPENAI_BASE_URL"], api_key="k") as p:
        first = p.chat(req)
        assert [(c.id, c.name, c.arguments) for c in first.tool_calls] == CALLS
        assert (first.content, first.reasoning, first.finish_reason) == (
            "Checking both.",
            "Two cities, two calls.",
            "tool_calls",
        )
        history = [
            *req.messages,
            kairos.Message.assistant(first.content, first.tool_calls),
            *(kairos.Message.tool('{"temp": 20}', c.id) for c in first.tool_calls),
        ]
        before = len(srv.requests)
        second = p.chat(kairos.ChatRequest(history, tools=[WEATHER]))
    # the emulator's prompt is the last user message, not a function_call_output item
    seen = srv.requests[before]
    assert (seen.path, seen.prompt, seen.model) == ("/v1/responses", "weather?", "gpt-5-mini")
    assert second.tool_calls == first.tool_calls
    sent = seen.json()
    assert sent["instructions"] == "Be brief." and sent["store"] is False
    kinds = [i["type"] for i in sent["input"]]
    assert (
        kinds
        == ["message", "message", "function_call", "function_call"] + ["function_call_output"] * 2
    )


@pytest.mark.parametrize(
    ("name", "path"), [("azure-responses", "/responses"), ("azure", "/chat/completions")]
)
def test_azure_presets_reach_the_emulator_from_the_endpoint_variable(
    srv: EmulatorServer, name: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", srv.base_urls["AZURE_OPENAI_ENDPOINT"])
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "az-secret")
    with kairos.provider(name, model="my-deployment") as p:
        resp = p.chat(kairos.ChatRequest([kairos.Message.user("hello")]))
    assert resp.content == "Hello from the emulator! ¿Qué tal?" and resp.model == "my-deployment"
    seen = srv.requests[-1]
    assert seen.path == "/openai/v1" + path
    assert seen.headers["api-key"] == "az-secret" and "authorization" not in seen.headers


def test_testing_double_on_this_wire() -> None:
    reply = Reply.text("a b c", reasoning="hm", calls=[Call("f", {"x": 1}, id="call_1")])
    with ScriptedProvider([reply], wire=FMT) as p:
        with p.chat_stream(kairos.ChatRequest([kairos.Message.user("hi")])) as s:
            chunks = list(s)
        body = p.exchanges[0].body
    assert "".join(c.content for c in chunks) == "a b c"
    assert "".join(c.reasoning for c in chunks) == "hm"
    final = chunks[-1]
    assert (
        final.done
        and final.finish_reason == "tool_calls"
        and final.raw_finish_reason == "completed"
    )
    assert [(c.id, c.arguments) for c in final.tool_calls] == [("call_1", '{"x":1}')]
    assert p.exchanges[0].url.endswith("/responses") and body["input"][0]["role"] == "user"


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "kairos", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**clean, "OLLAMA_HOST": "127.0.0.1:9", **env},
    )


def test_cli_streams_through_this_wire(srv: EmulatorServer) -> None:
    env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": srv.base_urls["OPENAI_BASE_URL"]}
    human = _cli("stream", "hello", "--provider", FMT, **env)
    assert human.returncode == 0, human.stderr
    assert human.stdout.splitlines()[0] == f"Provider: {FMT}"
    assert "Hello from the emulator! ¿Qué tal?" in human.stdout
    # the CLI offers no tools, so the emulator answers the scripted turn's text and reasoning
    r = _cli("stream", "weather?", "--provider", FMT, "--json", **env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["content"], out["reasoning"], out["finish_reason"]) == (
        "Checking both.",
        "Two cities, two calls.",
        "stop",
    )
    assert out["tool_calls"] == []
    assert out["error"] is None and out["usage"]["prompt_tokens"] == 21


def test_cli_lists_the_new_presets() -> None:
    r = _cli("providers")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines()}
    assert "https://api.openai.com/v1" in rows[FMT] and "OPENAI_API_KEY" in rows[FMT]
    for name in ("azure", "azure-responses"):
        assert (
            "AZURE_OPENAI_API_KEY" in rows[name]
            and "$AZURE_OPENAI_ENDPOINT/openai/v1" in rows[name]
        )
