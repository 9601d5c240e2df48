"""The Anthropic codec on real bytes: request bodies and headers seen by a loopback server,
synthetic event streams, in-band and HTTP error typing."""

from __future__ import annotations

import json
from typing import Any

import pytest

import kairos
from harness import run
from loopback import LoopbackServer, Reply

M = kairos.Message
KEY = "sk-ant-test-SECRET-123"


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


def start(input_tokens: int = 10, **usage: int) -> dict[str, Any]:
    u = {"input_tokens": input_tokens, "output_tokens": 1, **usage}
    msg = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x"}
    return {"type": "message_start", "message": {**msg, "content": [], "usage": u}}


def block(index: int, **content_block: Any) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": content_block}


def delta(index: int, **d: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": d}


def stop_block(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def end(reason: str, output_tokens: int = 5, **usage: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens, **usage},
        },
        {"type": "message_stop"},
    ]


TEXT_OK = sse(
    start(),
    block(0, type="text", text=""),
    delta(0, type="text_delta", text="ok"),
    stop_block(0),
    *end("end_turn"),
)
REQ = kairos.ChatRequest([M.user("hi")], model="m")


def stream(body: bytes, req: kairos.ChatRequest = REQ, **kw: Any) -> Any:
    kw.setdefault("max_retries", 0)
    return run(
        "anthropic", Reply.body(body, split=50), req, transport="loopback", mode="sync", **kw
    )


def seen_request(req: kairos.ChatRequest, **kw: Any) -> Any:
    with (
        LoopbackServer([Reply.body(TEXT_OK)]) as server,
        kairos.provider("anthropic", api_key=KEY, base_url=server.url, **kw) as p,
    ):
        assert p.chat(req).content == "ok"
    (seen,) = server.requests
    return seen


# -- requests ----------------------------------------------------------------------------------
WEATHER = kairos.Tool(
    "get_weather",
    "Current weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = kairos.Tool("get_time", "Local time", {"type": "object", "properties": {}})


def test_multi_turn_conversation_serialises_to_the_documented_body() -> None:
    call = kairos.ToolCall("toolu_1", "get_weather", '{"city": "Paris"}')
    req = kairos.ChatRequest(
        [
            M.system("You are terse."),
            M.user("Weather in Paris?"),
            M.assistant("Let me check.", [call]),
            M.tool('{"temp_c": 21}', "toolu_1", "get_weather"),
            M.assistant("21 C."),
            M.user("And the time?"),
        ],
        model="claude-sonnet-4-5",
        tools=[WEATHER, TIME],
        temperature=0.2,
        top_p=0.9,
        max_tokens=300,
        stop=["END"],
        tool_choice="auto",
    )
    seen = seen_request(req)
    assert seen.method == "POST" and seen.path == "/v1/messages"
    assert seen.json() == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 300,
        "system": "You are terse.",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Let me check."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": '{"temp_c": 21}'}
                ],
            },
            {"role": "assistant", "content": "21 C."},
            {"role": "user", "content": "And the time?"},
        ],
        "tools": [
            {
                "name": "get_weather",
                "description": "Current weather for a city",
                "input_schema": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
            {
                "name": "get_time",
                "description": "Local time",
                "input_schema": {"type": "object", "properties": {}},
            },
        ],
        "tool_choice": {"type": "auto"},
        "temperature": 0.2,
        "top_p": 0.9,
        "stop_sequences": ["END"],
        "stream": True,
    }


def test_headers_carry_the_key_and_version_and_the_url_does_not() -> None:
    seen = seen_request(REQ)
    assert seen.headers["x-api-key"] == KEY
    assert seen.headers["anthropic-version"] == "2023-06-01"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["accept"] == "text/event-stream"
    assert "authorization" not in seen.headers
    assert KEY not in seen.path


def test_defaults_max_tokens_and_model_and_merges_extras() -> None:
    req = kairos.ChatRequest(
        [M.user("hi")], extras={"thinking": {"type": "enabled", "budget_tokens": 1024}}
    )
    body = seen_request(req).json()
    assert body["max_tokens"] == 4096
    assert body["model"] == "claude-haiku-4-5"
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert "system" not in body and "tools" not in body and "temperature" not in body


def test_parallel_tool_results_merge_into_one_user_turn() -> None:
    calls = [
        kairos.ToolCall("toolu_a", "get_weather", '{"city": "Paris"}'),
        kairos.ToolCall("toolu_b", "get_weather", '{"city": "Rome"}'),
        kairos.ToolCall("toolu_c", "get_time", ""),
    ]
    req = kairos.ChatRequest(
        [
            M.system("one"),
            M.system("two"),
            M.user("go"),
            M.assistant("", calls),
            M.tool("20", "toolu_a"),
            M.tool("25", "toolu_b"),
            M.tool("noon", "toolu_c"),
            M.user("thanks"),
        ]
    )
    body = seen_request(req).json()
    assert body["system"] == [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_a",
                "name": "get_weather",
                "input": {"city": "Paris"},
            },
            {"type": "tool_use", "id": "toolu_b", "name": "get_weather", "input": {"city": "Rome"}},
            {"type": "tool_use", "id": "toolu_c", "name": "get_time", "input": {}},
        ],
    }
    assert body["messages"][2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_a", "content": "20"},
            {"type": "tool_result", "tool_use_id": "toolu_b", "content": "25"},
            {"type": "tool_result", "tool_use_id": "toolu_c", "content": "noon"},
            {"type": "text", "text": "thanks"},
        ],
    }
    assert len(body["messages"]) == 3


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ("get_time", {"type": "tool", "name": "get_time"}),
        (
            {"type": "any", "disable_parallel_tool_use": True},
            {"type": "any", "disable_parallel_tool_use": True},
        ),
    ],
)
def test_tool_choice_mapping(choice: Any, wire: dict[str, Any]) -> None:
    req = kairos.ChatRequest([M.user("hi")], tools=[TIME], tool_choice=choice)
    assert seen_request(req).json()["tool_choice"] == wire


def test_assistant_tool_call_with_invalid_arguments_is_refused_before_sending() -> None:
    # not JSON at all (a call cut by max_tokens is a valid prefix: it is sent as far as it
    # parses, as the anthropic SDK does; see test_anthropic_round_trip.py)
    bad = kairos.ToolCall("toolu_1", "get_weather", '{"city": Par')
    req = kairos.ChatRequest([M.user("hi"), M.assistant("", [bad]), M.tool("x", "toolu_1")])
    with (
        LoopbackServer([]) as server,
        kairos.provider("anthropic", api_key=KEY, base_url=server.url) as p,
        pytest.raises(kairos.ConfigurationError),
    ):
        p.chat(req)
    assert server.requests == []


# -- streams -----------------------------------------------------------------------------------
def test_parallel_calls_to_one_function_keep_distinct_ids_and_positions() -> None:
    body = sse(
        start(),
        block(0, type="text", text=""),
        delta(0, type="text_delta", text="Checking both."),
        stop_block(0),
        block(1, type="tool_use", id="toolu_A", name="get_weather", input={}),
        delta(1, type="input_json_delta", partial_json=""),
        delta(1, type="input_json_delta", partial_json='{"city": '),
        delta(1, type="input_json_delta", partial_json='"Paris"}'),
        stop_block(1),
        block(2, type="tool_use", id="toolu_B", name="get_weather", input={}),
        delta(2, type="input_json_delta", partial_json='{"city": "Rome"}'),
        stop_block(2),
        block(3, type="tool_use", id="toolu_C", name="get_time", input={}),
        stop_block(3),
        *end("tool_use"),
    )
    out = stream(body)
    assert out.final.error is None
    assert out.response.content == "Checking both."
    assert out.response.tool_calls == (
        kairos.ToolCall("toolu_A", "get_weather", '{"city": "Paris"}'),
        kairos.ToolCall("toolu_B", "get_weather", '{"city": "Rome"}'),
        kairos.ToolCall("toolu_C", "get_time", "{}"),
    )
    assert out.response.finish_reason == "tool_calls"


def test_usage_counts_input_cache_and_output_tokens() -> None:
    body = sse(
        start(input_tokens=7, cache_read_input_tokens=100, cache_creation_input_tokens=20),
        block(0, type="thinking", thinking=""),
        delta(0, type="thinking_delta", thinking="hmm"),
        delta(0, type="signature_delta", signature="c2ln"),
        stop_block(0),
        block(1, type="text", text=""),
        delta(1, type="text_delta", text="hi"),
        stop_block(1),
        *end(
            "end_turn",
            output_tokens=42,
            input_tokens=8,
            output_tokens_details={"thinking_tokens": 30},
        ),  # type: ignore[arg-type]
    )
    out = stream(body)
    assert out.response.reasoning == "hmm" and out.response.content == "hi"
    assert out.response.usage == kairos.Usage(
        prompt_tokens=8 + 100 + 20,
        completion_tokens=42,
        total_tokens=170,
        cached_tokens=100,
        reasoning_tokens=30,
    )
    assert out.response.model == "claude-x"


def test_unknown_events_blocks_and_deltas_are_ignored() -> None:
    body = sse(
        start(),
        {"type": "ping"},
        {"type": "brand_new_event", "payload": [1, 2]},
        block(0, type="server_tool_use", id="srvtoolu_1", name="web_search", input={}),
        delta(0, type="input_json_delta", partial_json='{"query": "x"}'),
        stop_block(0),
        block(1, type="web_search_tool_result", tool_use_id="srvtoolu_1", content=[]),
        stop_block(1),
        block(2, type="text", text=""),
        delta(2, type="citations_delta", citation={"type": "web_search_result_location"}),
        delta(2, type="text_delta", text="found"),
        delta(2, type="future_delta", stuff=1),
        stop_block(2),
        block(3, type="redacted_thinking", data="opaque"),
        stop_block(3),
        *end("end_turn"),
    )
    out = stream(body)
    assert out.final.error is None
    assert out.response.content == "found"
    assert out.response.tool_calls == ()
    assert out.response.reasoning is None
    assert out.response.finish_reason == "stop"


def test_body_ending_after_message_delta_is_complete_but_not_before() -> None:
    head = [start(), block(0, type="text", text=""), delta(0, type="text_delta", text="a")]
    out = stream(sse(*head, stop_block(0), end("end_turn")[0]))
    assert out.final.error is None and out.response.raw_finish_reason == "end_turn"
    out = stream(sse(*head))
    assert isinstance(out.final.error, kairos.IncompleteStreamError)
    assert out.final.error.partial is not None and out.final.error.partial.content == "a"


def test_invalid_tool_input_json_is_kept_and_parsed_arguments_says_so() -> None:
    """The contract's one rule for every wire: the stream ends as the provider said, the call
    keeps the text received, and parsed_arguments() raises ProtocolError naming the call."""
    events = [
        start(),
        block(0, type="tool_use", id="toolu_1", name="f", input={}),
        delta(0, type="input_json_delta", partial_json='{"a": '),
        stop_block(0),
    ]
    for stop, finish in (("tool_use", "tool_calls"), ("max_tokens", "length")):
        out = stream(sse(*events, *end(stop)))
        assert out.final.error is None and out.raised is None
        assert out.response.finish_reason == finish
        assert out.response.tool_calls == (kairos.ToolCall("toolu_1", "f", '{"a": '),)
        with pytest.raises(kairos.ProtocolError, match="'f'"):
            out.response.tool_calls[0].parsed_arguments()


def test_non_stream_json_answer() -> None:
    answer = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
        "content": [
            {"type": "thinking", "thinking": "plan", "signature": "s"},
            {"type": "text", "text": "Calling."},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"k": "v"}},
            {"type": "tool_use", "id": "toolu_2", "name": "f", "input": {}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 3, "output_tokens": 4},
    }
    with (
        LoopbackServer([Reply.json(200, answer)]) as server,
        kairos.provider("anthropic", api_key=KEY, base_url=server.url) as p,
    ):
        resp = p.chat(REQ)
    assert resp.content == "Calling." and resp.reasoning == "plan"
    assert resp.tool_calls == (
        kairos.ToolCall("toolu_1", "f", '{"k":"v"}'),
        kairos.ToolCall("toolu_2", "f", "{}"),
    )
    assert resp.usage == kairos.Usage(3, 4, 7, cached_tokens=0)
    assert resp.finish_reason == "tool_calls" and resp.model == "claude-x"


# -- errors ------------------------------------------------------------------------------------
ERRORS = [
    ("invalid_request_error", 400, kairos.BadRequestError),
    ("authentication_error", 401, kairos.AuthenticationError),
    ("permission_error", 403, kairos.PermissionDeniedError),
    ("not_found_error", 404, kairos.NotFoundError),
    ("request_too_large", 413, kairos.BadRequestError),
    ("rate_limit_error", 429, kairos.RateLimitError),
    ("api_error", 500, kairos.ServerError),
    ("overloaded_error", 529, kairos.OverloadedError),
]


def _error_body(kind: str, message: str = "nope") -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


@pytest.mark.parametrize(("kind", "status", "cls"), ERRORS)
def test_in_band_error_is_typed_by_its_error_type(kind: str, status: int, cls: type) -> None:
    body = sse(
        start(),
        block(0, type="text", text=""),
        delta(0, type="text_delta", text="partial"),
        _error_body(kind, "went wrong"),
    )
    out = stream(body)
    err = out.final.error
    assert type(err) is cls and err.error_type == kind
    assert err.status is None  # arrived under HTTP 200; no status is invented
    assert "went wrong" in str(err)
    assert out.raised is err and out.final.finish_reason == "error"
    assert err.partial is not None and err.partial.content == "partial"


def test_in_band_error_without_event_name_or_known_type() -> None:
    body = b'data: {"type": "error", "error": {"type": "brand_new_error", "message": "x"}}\n\n'
    out = stream(body)
    assert type(out.final.error) is kairos.APIStatusError
    assert out.final.error.error_type == "brand_new_error"


@pytest.mark.parametrize(("kind", "status", "cls"), ERRORS)
def test_http_error_is_typed(kind: str, status: int, cls: type) -> None:
    reply = Reply.json(
        status,
        {**_error_body(kind, f"bad {KEY}"), "request_id": "req_body"},
        headers={"request-id": "req_011", "retry-after": "3"},
    )
    with (
        LoopbackServer([reply]) as server,
        kairos.provider("anthropic", api_key=KEY, base_url=server.url, max_retries=0) as p,
        pytest.raises(kairos.APIStatusError) as info,
    ):
        p.chat_stream(REQ)
    err = info.value
    assert type(err) is cls
    assert (err.status, err.error_type, err.request_id) == (status, kind, "req_011")
    assert KEY not in str(err) and KEY not in repr(err)
    if cls in (kairos.RateLimitError, kairos.OverloadedError):
        assert err.retry_after == 3.0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("status", "cls"), [(502, kairos.ServerError), (529, kairos.OverloadedError)]
)
def test_http_error_with_html_body(status: int, cls: type) -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>upstream died</body></html>"
    reply = Reply(status, {"content-type": "text/html"}, [page], content_length=True)
    with (
        LoopbackServer([reply]) as server,
        kairos.provider("anthropic", api_key=KEY, base_url=server.url, max_retries=0) as p,
        pytest.raises(kairos.APIStatusError) as info,
    ):
        p.chat(REQ)
    err = info.value
    assert type(err) is cls and err.status == status
    assert "non-JSON text/html" in err.message and "upstream died" in err.message
