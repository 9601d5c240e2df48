"""Structured output end to end: the native request field on every wire, the object streaming as
it grows (chunk.object), the validated final object, and OutputError for text that is not JSON
or breaks the schema, sync and async, streamed and chat().

The replies are rendered by each wire's own renderer (kairos.testing doubles) and read back by
that wire's codec and the stream machine; request bodies are what kairos really sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import httpx
import pydantic
import pytest

import kairos
from kairos.testing import AsyncScriptedProvider, Call, Refusal, Reply, ScriptedProvider
from partial_json_checks import check_extends

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "temps": {"type": "array", "items": {"type": "number"}},
        "sunny": {"type": "boolean"},
    },
    "required": ["city", "temps", "sunny"],
    "additionalProperties": False,
}
VALUE = {"city": 'Zürich "old town" \\ 😀', "temps": [12.5, -3, 1e-2], "sunny": False}
WIRES = ["openai-chat", "openai-responses", "anthropic-messages", "gemini", "ollama-chat"]
MODES = ["sync", "async"]
# model names: an Anthropic model without native structured output (the forced tool) and one
# with it (output_config)
MODELS = {"anthropic-messages": "claude-3-5-haiku-latest", "anthropic-native": "claude-sonnet-4-5"}


class Weather(pydantic.BaseModel):
    city: str
    temps: list[float]
    sunny: bool


def req(schema: Any = SCHEMA, **kw: Any) -> kairos.ChatRequest:
    return kairos.ChatRequest([kairos.Message.user("weather?")], output_schema=schema, **kw)


def drain(wire: str, reply: Reply, mode: str, request: kairos.ChatRequest) -> Any:
    """(chunks, response, raised, sent body) for one streamed request on ``wire``."""
    model = MODELS.get(wire, "m")
    real = "anthropic-messages" if wire == "anthropic-native" else wire
    if mode == "sync":
        with ScriptedProvider([reply], wire=real, model=model) as p, p.chat_stream(request) as s:
            chunks, raised = [], None
            try:
                for c in s:
                    chunks.append(c)
            except kairos.KairosError as exc:
                raised = exc
            return chunks, s.response, raised, p.exchanges[0].body

    async def main() -> Any:
        async with AsyncScriptedProvider([reply], wire=real, model=model) as p:
            s = await p.chat_stream(request)
            chunks, raised = [], None
            async with s:
                try:
                    async for c in s:
                        chunks.append(c)
                except kairos.KairosError as exc:
                    raised = exc
            return chunks, s.response, raised, p.exchanges[0].body

    return asyncio.run(main())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("wire", [*WIRES, "anthropic-native"])
def test_the_object_streams_as_it_grows_and_ends_validated(wire: str, mode: str) -> None:
    chunks, response, raised, _ = drain(wire, Reply.object(VALUE), mode, req())
    assert raised is None and chunks[-1].error is None
    objects = [c.object for c in chunks[:-1]]
    assert objects[0] is None or objects[0] == {} or isinstance(objects[0], dict)
    assert len({json.dumps(o, sort_keys=True) for o in objects}) > 3  # it grew, in steps
    for old, new in itertools.pairwise(objects):
        check_extends(old, new)
    assert chunks[-1].object == VALUE and response.object == VALUE
    assert json.loads(response.content) == VALUE  # the JSON text (the tool path compacts it)
    assert chunks[-1].finish_reason == "stop" and not chunks[-1].tool_calls


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("wire", WIRES)
def test_chat_returns_an_instance_of_the_class(wire: str, mode: str) -> None:
    _, response, raised, _ = drain(wire, Reply.object(VALUE), mode, req(Weather))
    assert raised is None
    assert isinstance(response.object, Weather) and response.object.model_dump() == VALUE
    with ScriptedProvider([Reply.object(VALUE)], wire=wire, model=MODELS.get(wire, "m")) as p:
        assert p.chat(req(Weather)).object == Weather(**VALUE)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (Reply.text("Sorry, I only speak prose."), "not valid JSON"),
        (Reply.text('{"city": "Rome", "temps": [1]'), "not valid JSON"),  # cut short
        (Reply.object({"city": "Rome", "temps": ["hot"], "sunny": True}), "$.temps[0]"),
        (Reply.object({"city": "Rome", "temps": [], "sunny": True, "x": 1}), "'x' is not allowed"),
    ],
    ids=["prose", "truncated", "wrong-type", "extra-key"],
)
def test_bad_output_is_an_output_error_keeping_the_text(
    wire: str, mode: str, reply: Reply, says: str
) -> None:
    chunks, response, raised, _ = drain(wire, reply, mode, req())
    err = chunks[-1].error
    assert isinstance(err, kairos.OutputError) and raised is err, err
    assert says in str(err) and "\n" not in str(err)
    assert err.partial is not None and err.partial.content == reply.content
    assert chunks[-1].finish_reason == "error" and response.object is None
    with (
        ScriptedProvider([reply], wire=wire, model=MODELS.get(wire, "m")) as p,
        pytest.raises(kairos.OutputError),
    ):
        p.chat(req())


def test_a_class_that_rejects_the_object_is_an_output_error() -> None:
    class Strict(pydantic.BaseModel):
        city: str
        temps: list[float]
        sunny: bool

        @pydantic.field_validator("city")
        @classmethod
        def no_rome(cls, v: str) -> str:
            if v == "Rome":
                raise ValueError("not Rome")
            return v

    reply = Reply.object({"city": "Rome", "temps": [1], "sunny": True})
    with ScriptedProvider([reply]) as p, pytest.raises(kairos.OutputError, match="Strict"):
        p.chat(req(Strict))


def test_a_tool_turn_has_no_object_and_no_error() -> None:
    reply = Reply([Call("lookup", {"q": "x"})])
    tools = [kairos.Tool("lookup", "look up", {"type": "object", "properties": {}})]
    with ScriptedProvider([reply]) as p:
        response = p.chat(req(tools=tools))
    assert response.object is None and response.tool_calls[0].name == "lookup"


# -- the native request field on each wire ----------------------------------------------------
class Recorder:
    def __init__(self) -> None:
        self.bodies: list[Any] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return httpx.Response(400, json={"error": {"message": "recorded", "type": "x"}})


def sent(preset: str, request: kairos.ChatRequest, **kw: Any) -> Any:
    rec = Recorder()
    client = httpx.Client(transport=httpx.MockTransport(rec))
    with (
        kairos.provider(preset, api_key="k" * 12, http_client=client, max_retries=0, **kw) as p,
        pytest.raises(kairos.APIStatusError),
    ):
        p.chat(request)
    return rec.bodies[0]


def test_openai_sends_a_strict_json_schema_when_the_schema_allows_it() -> None:
    body = sent("openai", req())
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": SCHEMA, "strict": True},
    }
    loose = {**SCHEMA, "required": ["city"], "title": "Weather report"}
    body = sent("openai", req(loose))
    assert body["response_format"]["json_schema"]["strict"] is False
    assert body["response_format"]["json_schema"]["name"] == "Weather_report"
    # a class: its model_json_schema() and its name
    body = sent("openai", req(Weather))
    assert body["response_format"]["json_schema"]["name"] == "Weather"
    assert body["response_format"]["json_schema"]["schema"] == Weather.model_json_schema()


def test_responses_sends_text_format() -> None:
    body = sent("openai-responses", req())
    assert body["text"] == {
        "format": {"type": "json_schema", "name": "output", "schema": SCHEMA, "strict": True}
    }


def test_json_mode_only_servers_get_json_object_and_the_schema_as_an_instruction() -> None:
    request = kairos.ChatRequest(
        [kairos.Message.system("be brief"), kairos.Message.user("weather?")], output_schema=SCHEMA
    )
    for body in (
        sent("qwen", request, options={"json_mode_only": True}),
        sent("deepseek", request),
    ):
        assert body["response_format"] == {"type": "json_object"}
        roles = [m["role"] for m in body["messages"]]
        assert roles == ["system", "system", "user"]
        assert body["messages"][0]["content"] == "be brief"
        instruction = body["messages"][1]["content"]
        assert "JSON" in instruction
        assert json.loads(instruction.split("Schema: ", 1)[1]) == SCHEMA
    plain = sent("qwen", req())
    assert plain["response_format"]["type"] == "json_schema"
    assert [m["role"] for m in plain["messages"]] == ["user"]


def test_gemini_extras_schema_wins_and_is_sent_alone() -> None:
    older = {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}
    body = sent("gemini", req(extras={"generationConfig": {"responseSchema": older}}))
    config = body["generationConfig"]
    assert config["responseSchema"] == older and "responseJsonSchema" not in config
    assert config["responseMimeType"] == "application/json"
    assert sent("gemini", req())["generationConfig"]["responseJsonSchema"] == SCHEMA


def test_anthropic_native_models_get_output_config() -> None:
    body = sent("anthropic", req(model="claude-sonnet-4-5"))
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    assert "tools" not in body and "tool_choice" not in body


def test_anthropic_other_models_get_a_forced_output_tool() -> None:
    body = sent("anthropic", req(model="claude-3-5-haiku-latest"))
    assert "output_config" not in body
    assert body["tools"] == [
        {
            "name": "kairos_output",
            "description": "Give your answer as this tool's input.",
            "input_schema": SCHEMA,
        }
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "kairos_output"}
    tools = [kairos.Tool("lookup")]
    body = sent("anthropic", req(model="claude-3-5-haiku-latest", tools=tools))
    assert [t["name"] for t in body["tools"]] == ["lookup", "kairos_output"]
    assert body["tool_choice"] == {"type": "any"}
    named = sent(
        "anthropic", req(model="claude-3-5-haiku-latest", tools=tools, tool_choice="lookup")
    )
    assert named["tool_choice"] == {"type": "tool", "name": "lookup"}  # kept: a tool turn
    assert [t["name"] for t in named["tools"]] == ["lookup", "kairos_output"]


@pytest.mark.parametrize(
    ("request_", "says"),
    [
        (
            req(model="claude-3-5-haiku-latest", extras={"thinking": {"type": "enabled"}}),
            "extended thinking",
        ),
        (req({"type": "array", "items": {}}, model="claude-3-5-haiku-latest"), "top-level object"),
        (req(model="claude-3-5-haiku-latest", tool_choice="none"), "tool_choice 'none'"),
    ],
    ids=["thinking", "not-an-object", "no-tools"],
)
def test_anthropic_forced_tool_limits_are_configuration_errors(
    request_: kairos.ChatRequest, says: str
) -> None:
    rec = Recorder()
    client = httpx.Client(transport=httpx.MockTransport(rec))
    with (
        kairos.provider("anthropic", api_key="k" * 12, http_client=client) as p,
        pytest.raises(kairos.ConfigurationError, match=says),
    ):
        p.chat(request_)
    assert rec.bodies == []  # nothing was sent


def test_gemini_sends_response_json_schema_never_response_schema() -> None:
    body = sent("gemini", req(model="gemini-2.5-flash", temperature=0.2))
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == SCHEMA and "responseSchema" not in config
    assert config["temperature"] == 0.2


def test_ollama_sends_the_schema_as_format() -> None:
    assert sent("ollama", req(model="llama3.2"))["format"] == SCHEMA


@pytest.mark.parametrize("bad", [42, "not a schema", {"type": "object", "x": {1, 2}}])
def test_bad_schemas_are_configuration_errors(bad: Any) -> None:
    with ScriptedProvider(["{}"]) as p, pytest.raises(kairos.ConfigurationError, match="output"):
        p.chat(req(bad))


def test_partial_arguments_of_a_streaming_call() -> None:
    body = json.dumps({"city": "Paris", "days": [1, 2, 3]})
    seen = []
    with ScriptedProvider([Reply([Call("weather", body)])]) as p, p.chat_stream(req(None)) as s:
        for chunk in s:
            if chunk.tool_calls:
                seen.append(chunk.tool_calls[0].partial_arguments())
    for old, new in itertools.pairwise(seen):
        check_extends(old, new)
    assert seen[-1] == {"city": "Paris", "days": [1, 2, 3]} and len(seen) > 2
    assert kairos.ToolCall("1", "f", '{"a": tru').partial_arguments() == {}
    assert kairos.ToolCall("1", "f", "[1, }").partial_arguments() is None


# -- kairos serve and the CLI -----------------------------------------------------------------
SCRIPT = {"replies": [{"match": "weather", "object": VALUE}, {"text": "plain prose"}]}


@pytest.mark.parametrize("preset", ["openai", "anthropic", "gemini", "ollama"])
def test_kairos_serve_streams_a_scripted_object_on_every_wire(preset: str) -> None:
    from kairos.serve import EmulatorServer

    with EmulatorServer(SCRIPT) as srv:
        env = srv.base_urls
        url = next(
            env[k]
            for k in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GEMINI_BASE_URL", "OLLAMA_HOST")
            if k.lower().startswith(preset[:4])
        )
        model = MODELS["anthropic-messages"] if preset == "anthropic" else "m"
        with kairos.provider(preset, base_url=url, api_key="k" * 12, model=model) as p:
            assert p.chat(req(Weather)).object == Weather(**VALUE)
        sent = srv.requests[-1].json()
    assert (
        ("output_config" in sent)
        or ("tools" in sent)
        or sent.get("format")
        or sent.get("response_format")
        or sent.get("generationConfig", {}).get("responseJsonSchema")
    )


def test_cli_schema_prints_the_object_and_adds_it_to_json(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    from kairos.serve import EmulatorServer

    schema_file = tmp_path / "weather.json"
    schema_file.write_text(json.dumps(SCHEMA))
    with EmulatorServer(SCRIPT) as srv:
        base = ["-m", "kairos", "stream", "weather?", "--provider", "openai", "--base-url"]
        base += [srv.base_urls["OPENAI_BASE_URL"], "--schema"]
        env = {**os.environ, "OPENAI_API_KEY": "k" * 12}
        human = subprocess.run(
            [sys.executable, *base, str(schema_file)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        as_json = subprocess.run(
            [sys.executable, *base, json.dumps(SCHEMA), "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        bad = subprocess.run(
            [sys.executable, *base, "{not json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert human.returncode == 0, human.stderr
    assert "Object:" in human.stdout and '"sunny": false' in human.stdout
    assert json.loads(as_json.stdout)["object"] == VALUE
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--schema" in bad.stderr


def test_the_readme_example_runs_offline() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    example = Path(__file__).parent.parent / "examples" / "structured_output.py"
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    r = subprocess.run([sys.executable, str(example)], env=env, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out.count("\r") > 3  # the object was shown as it grew
    assert out.rstrip().endswith("'high_c': 23}]}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("wire", "reply", "says"),
    [
        ("openai-chat", Reply([Refusal("I can't share that.")]), "refused: I can't share that."),
        ("anthropic-native", Reply([Refusal("no")]), "content filter"),
        ("gemini", Reply.text('{"city": "Rome"', finish_reason="content_filter"), "content filter"),
    ],
    ids=["openai-refusal", "anthropic-refusal", "gemini-safety"],
)
def test_a_refusal_is_an_output_error_never_an_empty_object(
    wire: str, mode: str, reply: Reply, says: str
) -> None:
    chunks, response, raised, _ = drain(wire, reply, mode, req())
    err = chunks[-1].error
    assert isinstance(err, kairos.OutputError) and raised is err, err
    assert says in str(err) and response.object is None
    assert err.partial is not None
