"""``kairos.batch.run`` / ``arun`` from Python, against loopback servers: input validation, the
request each line becomes on the wire, iterables, resume, --retry-failed, torn lines."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import kairos
import kairos.batch
from batch_server import BatchServer
from kairos.serve import EmulatorServer


def _ok(prompt: str, attempt: int) -> tuple[Any, ...]:
    return ("ok", f"re: {prompt}")


def _run(srv: BatchServer, requests: Any, **kw: Any) -> tuple[list[dict[str, Any]], Any]:
    out: list[dict[str, Any]] = []
    summary = kairos.batch.run(
        requests, out.append, provider="openai", base_url=srv.url, api_key="k", **kw
    )
    return out, summary


BAD = [
    ({"id": 1}, "item 1: needs exactly one of prompt or messages"),
    ({"prompt": "x"}, "item 2: id must be a non-empty string or an integer, not missing or null"),
    ({"id": True, "prompt": "x"}, "item 3: id must be a non-empty string or an integer"),
    ({"id": 4, "prompt": "x", "max_tokens": 0}, "item 4: max_tokens must be an integer > 0"),
    ({"id": 5, "prompt": "x", "temperature": "hot"}, "item 5: temperature must be a number"),
    ({"id": 6, "prompt": "x", "output_schema": 3}, "item 6: output_schema must be a JSON Schema"),
    ({"id": 7, "prompt": "x", "max_token": 5}, "item 7: unknown key 'max_token'"),
    ({"id": 8, "messages": []}, "item 8: messages must be a non-empty list"),
    ({"id": 9, "messages": [{"role": "bot", "content": "x"}]}, "item 9: messages[0].role must"),
    (
        {"id": 10, "messages": [{"role": "tool", "content": "x"}]},
        "item 10: messages[0].tool_call_id must be a string",
    ),
    ({"id": 11, "prompt": 3}, "item 11: prompt must be a string, not a number"),
    ({"id": 12, "prompt": "x", "tools": [{"description": "d"}]}, "item 12: tools[0].name must"),
    (["not", "an", "object"], "item 13: must be a JSON object, not a list"),
    ({"id": 1, "prompt": "again"}, "item 14: duplicate id 1 (already on an earlier line)"),
]


def test_bad_items_become_typed_error_lines_and_the_run_goes_on() -> None:
    good = {"id": "g", "prompt": "fine", "metadata": {"expected": "anything"}}
    with BatchServer(_ok) as srv:
        out, summary = _run(srv, [item for item, _ in BAD] + [good])
    assert len(out) == len(BAD) + 1
    assert summary.ok == 1 and summary.failed == len(BAD)
    assert summary.errors == {"ConfigurationError": len(BAD)}
    errors = [line["error"] for line in out if line["error"] is not None]
    for (_, expected), error in zip(BAD, errors, strict=True):
        assert error["type"] == "ConfigurationError"
        assert error["message"].startswith(expected), error["message"]
    ids = [line["id"] for line in out]
    assert ids[:2] == [1, None] and ids[-2:] == [None, "g"]  # a duplicate keeps id 1 unique
    assert out[-1]["content"] == "re: fine" and sum(srv.count.values()) == 1


def test_messages_tools_and_options_reach_the_wire() -> None:
    line = {
        "id": "t",
        "system": "be brief",
        "model": "m-line",
        "max_tokens": 40,
        "temperature": 0.5,
        "tools": [{"type": "function", "function": {"name": "weather", "parameters": {}}}],
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "c1", "name": "weather", "arguments": {"city": "Paris"}}],
            },
            {"role": "tool", "tool_call_id": "c1", "name": "weather", "content": "18C"},
        ],
    }
    script = {"replies": [{"text": "It is 18C.", "usage": {"prompt_tokens": 9}}]}
    out: list[dict[str, Any]] = []
    with EmulatorServer(script) as srv:
        url = srv.base_urls["OPENAI_BASE_URL"]
        kairos.batch.run([line], out.append, provider="openai", base_url=url, api_key="k")
        body = json.loads(srv.requests[0].body)
    assert out[0]["content"] == "It is 18C." and out[0]["error"] is None
    assert out[0]["usage"]["prompt_tokens"] == 9 and out[0]["stats"]["attempts"] == 1
    assert (
        body["model"] == "m-line"
        and 40 in (body.get("max_tokens"), body.get("max_completion_tokens"))
        and body["temperature"] == 0.5
    )
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "tool"]
    call = body["messages"][2]["tool_calls"][0]
    assert call["id"] == "c1" and json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    assert body["messages"][3]["tool_call_id"] == "c1"
    assert body["tools"][0]["function"]["name"] == "weather"


def test_tool_calls_in_the_answer_and_chat_request_items() -> None:
    script = {
        "replies": [
            {"match": "weather", "tool_calls": [{"name": "w", "arguments": {"city": "Oslo"}}]},
            {"text": "plain"},
        ]
    }
    req = kairos.ChatRequest([kairos.Message.user("weather?")], tools=[kairos.Tool("w")])
    other = kairos.ChatRequest([kairos.Message.user("hi")])
    out: list[dict[str, Any]] = []

    async def items() -> Any:
        yield ("w", req)
        yield {"id": "p", "prompt": "hi"}

    with EmulatorServer(script) as srv:
        url = srv.base_urls["OPENAI_BASE_URL"]
        kairos.batch.run([req, other], out.append, provider="openai", base_url=url, api_key="k")
        more: list[dict[str, Any]] = []
        asyncio.run(
            kairos.batch.arun(items(), more.append, provider="openai", base_url=url, api_key="k")
        )
    by_id = {line["id"]: line for line in out}
    assert by_id[0]["finish_reason"] == "tool_calls"
    assert by_id[0]["tool_calls"][0]["name"] == "w"
    assert by_id[0]["tool_calls"][0]["arguments"] == {"city": "Oslo"}
    assert by_id[1]["content"] == "plain"
    assert {line["id"]: line["finish_reason"] for line in more} == {"w": "tool_calls", "p": "stop"}


def test_output_schema_lines_carry_the_validated_object() -> None:
    schema = {
        "type": "object",
        "properties": {"capital": {"type": "string"}},
        "required": ["capital"],
        "additionalProperties": False,
    }
    script = {
        "replies": [
            {"match": "france", "object": {"capital": "Paris"}},
            {"match": "spain", "object": {"capital": 3}},
            {"text": "plain"},
        ]
    }
    lines = [
        {"id": "fr", "prompt": "France?", "output_schema": schema},
        {"id": "es", "prompt": "Spain?", "output_schema": schema},
        {"id": "no", "prompt": "no schema"},
    ]
    out: list[dict[str, Any]] = []
    with EmulatorServer(script) as srv:
        url = srv.base_urls["OPENAI_BASE_URL"]
        kairos.batch.run(lines, out.append, provider="openai", base_url=url, api_key="k")
        sent = [r.json() for r in srv.requests]
    by_id = {line["id"]: line for line in out}
    assert by_id["fr"]["object"] == {"capital": "Paris"} and by_id["fr"]["error"] is None
    assert by_id["es"]["object"] is None and by_id["es"]["error"]["type"] == "OutputError"
    assert by_id["es"]["content"] == '{"capital": 3}'  # the text is kept
    assert "object" not in by_id["no"]
    assert sum("response_format" in body for body in sent) == 2


def _fails_first_time(prompt: str, attempt: int) -> tuple[Any, ...]:
    if prompt.startswith("bad") and attempt == 1:
        return ("fail_mid", "server")
    return ("ok", f"re: {prompt}")


def test_resume_skips_done_ids_and_retry_failed_reruns_only_failures(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    prompts = [f"bad {i}" if i % 5 == 0 else f"good {i}" for i in range(20)]
    src.write_text(
        "".join(json.dumps({"id": i, "prompt": p}) + "\n" for i, p in enumerate(prompts))
    )
    kw = {"provider": "openai", "api_key": "k"}
    with BatchServer(_fails_first_time) as srv:
        first = kairos.batch.run(src, out, base_url=srv.url, **kw)
        assert (first.ok, first.failed) == (16, 4)
        with pytest.raises(kairos.ConfigurationError, match="already exists"):
            kairos.batch.run(src, out, base_url=srv.url, **kw)
        again = kairos.batch.run(src, out, base_url=srv.url, resume=True, **kw)
        assert (again.ok, again.failed, again.skipped) == (0, 0, 20)
        assert sum(srv.count.values()) == 20
        retried = kairos.batch.run(src, out, base_url=srv.url, retry_failed=True, **kw)
        assert (retried.ok, retried.skipped) == (4, 16)
    assert sum(srv.count.values()) == 24
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == list(range(20))  # still one line per id
    assert all(line["error"] is None for line in lines)


def test_resume_cuts_a_torn_last_line_and_redoes_that_id(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"id": i, "prompt": f"p{i}"}) + "\n" for i in range(5)))
    with BatchServer(_ok) as srv:
        kw = {"provider": "openai", "api_key": "k", "base_url": srv.url}
        kairos.batch.run(src, out, **kw)
        data = out.read_bytes().splitlines(keepends=True)
        out.write_bytes(b"".join(data[:3]) + data[3][:17])  # killed while writing line 4
        summary = kairos.batch.run(src, out, resume=True, **kw)
    assert (summary.ok, summary.skipped) == (2, 3)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == list(range(5))


def test_bad_options_are_configuration_errors(tmp_path: Path) -> None:
    reqs = [{"id": 1, "prompt": "x"}]
    for kw in (
        {"provider": "openai", "concurrency": 0},
        {"provider": "openai", "rpm": -5},
        {"provider": "openai", "engine": "spark"},
        {"provider": "openai", "colour": "blue"},
        {},
    ):
        with pytest.raises(kairos.ConfigurationError):
            kairos.batch.run(reqs, tmp_path / "o.jsonl", **kw)
    with pytest.raises(kairos.ConfigurationError, match="not a readable file"):
        kairos.batch.run(tmp_path / "nope.jsonl", tmp_path / "o.jsonl", provider="openai")
    with pytest.raises(kairos.ConfigurationError, match="iterable"):
        kairos.batch.run(42, tmp_path / "o.jsonl", provider="openai")  # type: ignore[arg-type]

    async def inside_a_loop() -> None:
        kairos.batch.run(reqs, tmp_path / "o.jsonl", provider="openai")

    with pytest.raises(kairos.ConfigurationError, match="await arun"):
        asyncio.run(inside_a_loop())
    assert "sk-secret" not in repr(kairos.batch.Options(provider="openai", api_key="sk-secret"))
    assert not (tmp_path / "o.jsonl").exists()


def test_chat_mapper_adds_result_columns_to_a_column_batch() -> None:
    batch = {
        "id": [1, 2, 3],
        "prompt": ["hello", None, "again"],
        "messages": [None, [{"role": "user", "content": "hi"}], None],
        "system": [None, None, 7],
    }
    with BatchServer(_ok) as srv:
        mapper = kairos.batch.ChatMapper("openai", base_url=srv.url, api_key="k", concurrency=2)
        try:
            got = mapper(batch)
        finally:
            mapper.close()
    assert got["id"] == [1, 2, 3] and got["prompt"] == ["hello", None, "again"]
    assert got["content"][:2] == ["re: hello", "re: hi"]
    assert got["error"][:2] == [None, None]
    assert got["error"][2]["type"] == "ConfigurationError"
    assert "system must be a string" in got["error"][2]["message"]
