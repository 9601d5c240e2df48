"""The Ollama codec on real bytes: the request body it sends, tool calls, errors, headers."""

from __future__ import annotations

import json
from typing import Any

import pytest

import kairos
from loopback import LoopbackServer, Reply

NDJSON = {"content-type": "application/x-ndjson"}
DONE = {"model": "m", "message": {"role": "assistant", "content": ""}, "done": True}
DONE_STOP = {**DONE, "done_reason": "stop", "prompt_eval_count": 7, "eval_count": 3}
WEATHER = kairos.Tool(
    "get_weather",
    "Current weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = kairos.Tool("get_time", "Local time in a timezone", {"type": "object", "properties": {}})


def lines(*objs: Any) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objs)


def msg(content: str = "", **kw: Any) -> dict[str, Any]:
    return {
        "model": "m",
        "created_at": kw.pop("created_at", "2025-01-01T00:00:00Z"),
        "message": {"role": "assistant", "content": content, **kw},
        "done": False,
    }


def call(name: str, args: Any, **kw: Any) -> dict[str, Any]:
    return {"function": {"name": name, "arguments": args}, **kw}


def stream(body: bytes, req: kairos.ChatRequest | None = None, **kw: Any) -> Any:
    """Run ``body`` through a loopback server; return (final chunk, chunks, server)."""
    kw.setdefault("max_retries", 0)
    req = req or kairos.ChatRequest([kairos.Message.user("hi")], model="m")
    with (
        LoopbackServer([Reply.body(body, split=50, headers=dict(NDJSON))]) as server,
        kairos.provider("ollama", base_url=server.url, api_key=None, **kw) as p,
        p.chat_stream(req) as s,
    ):
        chunks = []
        try:
            for chunk in s:
                chunks.append(chunk)
        except kairos.KairosError:
            pass
    return chunks[-1], chunks, server


# -- requests ---------------------------------------------------------------------------------
def test_multi_turn_request_serialises_to_the_documented_body() -> None:
    req = kairos.ChatRequest(
        [
            kairos.Message.system("You are terse."),
            kairos.Message.user("Weather in Paris?"),
            kairos.Message.assistant(
                "", [kairos.ToolCall("call_1", "get_weather", '{"city": "Paris"}')]
            ),
            kairos.Message.tool("22 degrees and sunny", "call_1", "get_weather"),
            kairos.Message.user("And the time there?"),
        ],
        model="llama3.2",
        tools=[WEATHER, TIME],
        temperature=0.2,
        top_p=0.9,
        max_tokens=64,
        stop=["\n\n"],
        extras={"think": True, "keep_alive": "5m", "options": {"num_ctx": 8192}},
    )
    final, _, server = stream(lines(DONE_STOP), req)
    assert final.error is None
    seen = server.requests[0]
    assert (seen.method, seen.path) == ("POST", "/api/chat")
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == {
        "model": "llama3.2",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
                        "id": "call_1",
                    }
                ],
            },
            {"role": "tool", "content": "22 degrees and sunny", "tool_name": "get_weather"},
            {"role": "user", "content": "And the time there?"},
        ],
        "stream": True,
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Current weather for a city",
                    "parameters": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    },
                },
            },
            {
                "type": "function",
                "function": {
                    "name": "get_time",
                    "description": "Local time in a timezone",
                    "parameters": {"type": "object", "properties": {}},
                },
            },
        ],
        "options": {
            "temperature": 0.2,
            "top_p": 0.9,
            "num_predict": 64,
            "stop": ["\n\n"],
            "num_ctx": 8192,
        },
        "think": True,
        "keep_alive": "5m",
    }


def test_tool_result_without_name_takes_it_from_the_call_and_tool_choice_none_drops_tools() -> None:
    req = kairos.ChatRequest(
        [
            kairos.Message.user("q"),
            kairos.Message.assistant("", [kairos.ToolCall("c9", "get_time", "{}")]),
            kairos.Message.tool("12:00", "c9"),
        ],
        model="m",
        tools=[TIME],
        tool_choice="none",
    )
    _, _, server = stream(lines(DONE_STOP), req)
    body = server.requests[0].json()
    assert body["messages"][2] == {"role": "tool", "content": "12:00", "tool_name": "get_time"}
    assert "tools" not in body and "options" not in body


def test_assistant_arguments_that_are_not_an_object_are_refused() -> None:
    req = kairos.ChatRequest(
        [kairos.Message.assistant("", [kairos.ToolCall("c", "f", "[1, 2]")])], model="m"
    )
    with (
        kairos.provider("ollama", base_url="http://127.0.0.1:9") as p,
        pytest.raises(kairos.ConfigurationError),
    ):
        p.chat_stream(req)


def test_bearer_key_is_sent_in_a_header_never_in_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-ollama-secret-123"
    monkeypatch.setenv("OLLAMA_API_KEY", key)
    with LoopbackServer([Reply.body(lines(DONE_STOP), headers=dict(NDJSON))]) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url.removeprefix("http://"))  # no scheme
        with kairos.provider("ollama") as p:
            resp = p.chat(kairos.ChatRequest([kairos.Message.user("hi")]))
            assert key not in repr(p) and key not in repr(p.codec)
    seen = server.requests[0]
    assert seen.headers["authorization"] == f"Bearer {key}"
    assert seen.path == "/api/chat" and key not in seen.path
    assert seen.json()["model"] == "llama3.2"  # the preset's default model
    assert resp.finish_reason == "stop"


def test_no_key_no_authorization_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    _, _, server = stream(lines(DONE_STOP))
    assert "authorization" not in server.requests[0].headers


# -- streamed tool calls ----------------------------------------------------------------------
def test_parallel_calls_to_one_function_keep_distinct_ids() -> None:
    body = lines(
        msg(
            tool_calls=[
                call("get_weather", {"city": "Paris"}),
                call("get_weather", {"city": "Rome"}),
            ]
        ),
        msg(tool_calls=[call("get_weather", {"city": "Paris"})], created_at="2025-01-01T00:00:01Z"),
        DONE_STOP,
    )
    final, _, _ = stream(body)
    calls = final.tool_calls
    assert [(c.name, c.parsed_arguments()["city"]) for c in calls] == [
        ("get_weather", "Paris"),
        ("get_weather", "Rome"),
        ("get_weather", "Paris"),
    ]
    assert all(c.id for c in calls) and len({c.id for c in calls}) == 3
    assert final.finish_reason == "tool_calls" and final.raw_finish_reason == "stop"


def test_server_ids_are_kept_and_a_repeated_server_id_is_replaced() -> None:
    body = lines(
        msg(tool_calls=[call("f", {}, id="call_a"), call("f", {"x": 1}, id="call_a")]),
        DONE_STOP,
    )
    final, _, _ = stream(body)
    ids = [c.id for c in final.tool_calls]
    assert ids[0] == "call_a" and ids[1] and ids[1] != "call_a"
    assert [c.arguments for c in final.tool_calls] == ["{}", '{"x":1}']


def test_arguments_object_is_serialised_and_a_string_is_kept() -> None:
    args = {"city": "Zürich", "days": [1, 2], "opts": {"unit": "C", "deep": None}}
    body = lines(msg(tool_calls=[call("a", args), call("b", '{"raw": true}')]), DONE_STOP)
    final, _, _ = stream(body)
    a, b = final.tool_calls
    assert a.parsed_arguments() == args
    assert "Zürich" in a.arguments  # JSON text, not a Python repr, and not ASCII-escaped
    assert b.arguments == '{"raw": true}'


def test_tool_calls_spread_over_several_lines() -> None:
    body = lines(
        msg("Let me check.", thinking="need tools"),
        msg(tool_calls=[call("get_weather", {"city": "Oslo"})]),
        msg(" One more."),
        msg(tool_calls=[call("get_time", {"tz": "Europe/Oslo"})]),
        DONE_STOP,
    )
    final, chunks, _ = stream(body)
    assert [c.name for c in final.tool_calls] == ["get_weather", "get_time"]
    assert [c.parsed_arguments() for c in final.tool_calls] == [
        {"city": "Oslo"},
        {"tz": "Europe/Oslo"},
    ]
    # each visible chunk carries the calls accumulated so far
    assert [len(c.tool_calls) for c in chunks[:-1]] == [0, 1, 1, 2]
    assert "".join(c.content for c in chunks) == "Let me check. One more."
    assert "".join(c.reasoning for c in chunks) == "need tools"
    assert final.usage == kairos.Usage(7, 3, 10)


# -- endings and errors -----------------------------------------------------------------------
def test_body_without_done_line_is_incomplete() -> None:
    final, _, _ = stream(lines(msg("partial")))
    assert isinstance(final.error, kairos.IncompleteStreamError)
    assert final.error.partial is not None and final.error.partial.content == "partial"


def test_malformed_line_is_a_protocol_error() -> None:
    final, _, _ = stream(lines(msg("ok")) + b"{not json\n")
    assert isinstance(final.error, kairos.ProtocolError)


def test_error_line_string_is_a_server_error_without_status() -> None:
    final, chunks, _ = stream(
        lines(msg("Hel")) + b'{"error":"model runner has unexpectedly stopped"}\n'
    )
    err = final.error
    assert isinstance(err, kairos.ServerError) and err.status is None
    assert err.message == "model runner has unexpectedly stopped"
    assert final.finish_reason == "error" and err.partial is not None
    assert err.partial.content == "Hel"
    assert len(chunks) == 2


@pytest.mark.parametrize(
    ("error", "cls", "status"),
    [
        ({"message": "slow down", "status": 429}, kairos.RateLimitError, 429),
        ({"message": "no such model", "status_code": 404}, kairos.NotFoundError, 404),
        ({"message": "boom"}, kairos.ServerError, None),
    ],
)
def test_error_line_object_is_typed_by_its_status(error: Any, cls: type, status: Any) -> None:
    final, _, _ = stream(lines({"error": error}))
    assert type(final.error) is cls and final.error.status == status
    assert final.error.message == error["message"]


def test_error_line_before_any_chunk_is_retried_like_a_server_error() -> None:
    replies = [
        Reply.body(
            b'{"error":"an error was encountered while running the model"}\n', headers=NDJSON
        ),
        Reply.body(lines(msg("ok"), DONE_STOP), headers=dict(NDJSON)),
    ]
    with (
        LoopbackServer(replies) as server,
        kairos.provider("ollama", base_url=server.url, max_retries=1) as p,
    ):
        resp = p.chat(kairos.ChatRequest([kairos.Message.user("hi")], model="m"))
    assert resp.content == "ok" and len(server.requests) == 2


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, kairos.BadRequestError),
        (401, kairos.AuthenticationError),
        (403, kairos.PermissionDeniedError),
        (404, kairos.NotFoundError),
        (429, kairos.RateLimitError),
        (500, kairos.ServerError),
        (503, kairos.OverloadedError),
    ],
)
def test_http_error_is_typed_by_status(status: int, cls: type) -> None:
    text = f"model 'nope' not found or whatever ({status})"
    reply = Reply.json(status, {"error": text}, headers={"retry-after": "3"})
    with (
        LoopbackServer([reply]) as server,
        kairos.provider("ollama", base_url=server.url, max_retries=0) as p,
        pytest.raises(kairos.APIStatusError) as info,
    ):
        p.chat_stream(kairos.ChatRequest([kairos.Message.user("hi")], model="nope"))
    err = info.value
    assert type(err) is cls and err.status == status and err.message == text
    assert err.body == {"error": text}
    if cls is kairos.RateLimitError:
        assert err.retry_after == 3.0  # type: ignore[attr-defined]


def test_non_json_html_502_is_a_server_error_with_a_clean_message() -> None:
    page = (
        b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
    )
    reply = Reply(502, {"content-type": "text/html"}, [page], content_length=True)
    with (
        LoopbackServer([reply]) as server,
        kairos.provider("ollama", base_url=server.url, api_key="k-secret", max_retries=0) as p,
        pytest.raises(kairos.ServerError) as info,
    ):
        p.chat_stream(kairos.ChatRequest([kairos.Message.user("hi")], model="m"))
    err = info.value
    assert err.status == 502 and "<" not in err.message
    assert "non-JSON text/html" in err.message and "Bad Gateway" in err.message
    assert "k-secret" not in str(err) and "k-secret" not in repr(err)


def test_non_stream_json_answer_is_read_whole() -> None:
    answer = {
        "model": "llama3.2",
        "created_at": "2025-01-01T00:00:00Z",
        "message": {
            "role": "assistant",
            "content": "Calling.",
            "thinking": "hmm",
            "tool_calls": [call("get_weather", {"city": "Lima"})],
        },
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 12,
        "eval_count": 5,
    }
    with (
        LoopbackServer([Reply.json(200, answer)]) as server,
        kairos.provider("ollama", base_url=server.url) as p,
    ):
        resp = p.chat(kairos.ChatRequest([kairos.Message.user("hi")], model="m"))
    assert (resp.content, resp.reasoning, resp.model) == ("Calling.", "hmm", "llama3.2")
    assert [(c.name, c.parsed_arguments()) for c in resp.tool_calls] == [
        ("get_weather", {"city": "Lima"})
    ]
    assert resp.tool_calls[0].id
    assert resp.usage == kairos.Usage(12, 5, 17)
    assert (resp.finish_reason, resp.raw_finish_reason) == ("tool_calls", "stop")


def test_non_stream_json_error_answer_raises_typed_error() -> None:
    with (
        LoopbackServer([Reply.json(200, {"error": "boom"})]) as server,
        kairos.provider("ollama", base_url=server.url, max_retries=0) as p,
        pytest.raises(kairos.ServerError),
    ):
        p.chat(kairos.ChatRequest([kairos.Message.user("hi")], model="m"))


@pytest.mark.parametrize(
    ("raw", "normal"), [("length", "length"), ("load", "stop"), ("unload", "stop")]
)
def test_finish_reasons(raw: str, normal: str) -> None:
    final, _, _ = stream(lines(msg("x"), {**DONE, "done_reason": raw}))
    assert (final.finish_reason, final.raw_finish_reason) == (normal, raw)
    assert final.usage is None  # no counts on the done line: usage unknown


def test_invalid_tool_arguments_are_kept_and_parsed_arguments_says_so() -> None:
    """The contract's one rule for every wire (see ``kairos.llm``): the stream succeeds, the
    call keeps the text received, parsed_arguments() raises ProtocolError naming the call."""
    body = lines(
        msg(tool_calls=[call("lookup", '{"q": "unterminated'), call("other", [1, 2])]),
        {**msg(), "done": True, "done_reason": "stop"},
    )
    final, _, _ = stream(body)
    assert final.error is None and final.finish_reason == "tool_calls"
    bad, array = final.tool_calls
    assert bad.arguments == '{"q": "unterminated' and array.arguments == "[1,2]"
    with pytest.raises(kairos.ProtocolError, match=r"'lookup'.*invalid JSON"):
        bad.parsed_arguments()
    with pytest.raises(kairos.ProtocolError, match=r"'other'.*not a JSON object"):
        array.parsed_arguments()
