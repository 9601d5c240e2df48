"""Chat Completions request building and error mapping (pure codec, no network)."""

from __future__ import annotations

import json

import pytest

import kairos
from harness import run
from kairos.providers import make_codec
from loopback import Reply

WEATHER = kairos.Tool(
    "get_weather",
    "Weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = kairos.Tool("get_time", "Local time", {"type": "object", "properties": {}})


def test_multi_turn_with_tools_serialises_to_the_documented_body() -> None:
    call = kairos.ToolCall("call_1", "get_weather", '{"city":"Lima"}')
    req = kairos.ChatRequest(
        [
            kairos.Message.system("Be brief."),
            kairos.Message.user("Weather in Lima?"),
            kairos.Message.assistant("", [call]),
            kairos.Message.tool('{"temp": 19}', "call_1", name="get_weather"),
        ],
        model="gpt-x",
        tools=[WEATHER, TIME],
        temperature=0.2,
        max_tokens=50,
        top_p=0.9,
        stop=["END"],
        tool_choice="get_weather",
        extras={"seed": 7},
    )
    http = make_codec("openai", api_key="k").build_request(req)
    assert http.url == "https://api.openai.com/v1/chat/completions"
    assert json.loads(http.body) == {
        "model": "gpt-x",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Lima?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Lima"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 19}'},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "parameters": dict(WEATHER.parameters),
                },
            },
            {
                "type": "function",
                "function": {
                    "name": "get_time",
                    "description": "Local time",
                    "parameters": {"type": "object", "properties": {}},
                },
            },
        ],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "temperature": 0.2,
        "max_completion_tokens": 50,
        "top_p": 0.9,
        "stop": ["END"],
        "seed": 7,
    }
    assert http.headers["authorization"] == "Bearer k"


def test_compatible_servers_get_max_tokens_and_no_auth_without_key() -> None:
    codec = make_codec("vllm")
    http = codec.build_request(kairos.ChatRequest([kairos.Message.user("x")], max_tokens=5))
    body = json.loads(http.body)
    assert body["max_tokens"] == 5 and "authorization" not in http.headers


def _err(status: int, body: object, headers: dict[str, str] | None = None) -> kairos.KairosError:
    codec = make_codec("openai", api_key="k")
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return codec.parse_error(status, headers or {}, raw)


def test_errors_are_typed_from_status_and_structured_fields() -> None:
    assert isinstance(_err(401, {"error": {"message": "bad key"}}), kairos.AuthenticationError)
    ctx = _err(400, {"error": {"message": "too long", "code": "context_length_exceeded"}})
    assert (
        isinstance(ctx, kairos.ContextLengthError) and ctx.error_type == "context_length_exceeded"
    )
    rl = _err(429, {"error": {"message": "slow"}}, {"retry-after-ms": "1500", "x-request-id": "r1"})
    assert isinstance(rl, kairos.RateLimitError) and rl.retry_after == 1.5 and rl.request_id == "r1"
    quota = _err(429, {"error": {"message": "pay", "code": "insufficient_quota"}})
    assert isinstance(quota, kairos.PermissionDeniedError) and not quota.retryable
    assert isinstance(_err(529, {"error": {"message": "busy"}}), kairos.OverloadedError)
    assert isinstance(_err(500, {"error": {"message": "oops"}}), kairos.ServerError)


def test_html_error_page_gives_a_clear_one_line_error() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>\n<h1>502</h1></body></html>"
    err = _err(502, page, {"content-type": "text/html"})
    assert isinstance(err, kairos.ServerError) and err.status == 502
    assert "\n" not in str(err) and "non-JSON text/html body" in str(err)
    assert "502 Bad Gateway" in str(err)


def test_generic_server_error_type_yields_to_the_status() -> None:
    """A 503 / 529 whose type only says "server_error" is an overload, with its Retry-After
    (the status decides over a generic type); a 500 stays a ServerError."""
    body = {"error": {"message": "busy", "type": "server_error", "code": None}}
    for status in (503, 529):
        err = _err(status, body, {"retry-after": "7"})
        assert isinstance(err, kairos.OverloadedError) and err.retry_after == 7.0, status
        assert err.error_type == "server_error"
    assert type(_err(500, body)) is kairos.ServerError
    assert type(_err(502, body)) is kairos.ServerError


def test_inband_error_with_a_numeric_string_code_is_typed_by_it() -> None:
    """LiteLLM's proxy sends ``{"error": {"code": "503", "type": null}}`` inside the stream."""
    codec = make_codec("openai", api_key="k")
    for code, cls in (("503", kairos.OverloadedError), ("429", kairos.RateLimitError)):
        for event in ("", "error"):
            line = json.dumps({"error": {"message": "m", "code": code, "type": None}})
            delta = codec.new_parser().parse(event, line)
            assert delta is not None and type(delta.error) is cls, (code, event)
            assert delta.error.status == int(code)
    line = json.dumps({"error": {"message": "m", "code": "500", "type": None}})
    delta = codec.new_parser().parse("", line)
    assert delta is not None and type(delta.error) is kairos.ServerError
    line = json.dumps({"error": {"message": "m", "code": "503", "type": "server_error"}})
    delta = codec.new_parser().parse("", line)
    assert delta is not None and type(delta.error) is kairos.OverloadedError
    line = json.dumps({"error": {"message": "m", "type": "server_error"}})  # no status at all
    delta = codec.new_parser().parse("", line)
    assert delta is not None and type(delta.error) is kairos.ServerError


def test_invalid_tool_arguments_are_kept_and_parsed_arguments_says_so() -> None:
    """The contract's one rule for every wire (see ``kairos.llm``): the stream and chat()
    succeed, the call keeps the text received, parsed_arguments() raises ProtocolError."""

    def event(delta: dict[str, object], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return b"data: " + json.dumps({"choices": [choice]}).encode() + b"\n\n"

    head = {"index": 0, "id": "call_1", "type": "function"}
    body = (
        event({"tool_calls": [{**head, "function": {"name": "lookup", "arguments": '{"q": "'}}]})
        + event({"tool_calls": [{"index": 0, "function": {"arguments": "unterminated"}}]})
        + event({}, "tool_calls")
        + b"data: [DONE]\n\n"
    )
    req = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
    for mode in ("sync", "async"):
        out = run("openai", Reply.body(body), req, transport="loopback", mode=mode)
        assert out.final.error is None and out.response.finish_reason == "tool_calls"
        (call,) = out.response.tool_calls
        assert call.arguments == '{"q": "unterminated'
        with pytest.raises(kairos.ProtocolError, match=r"'lookup'.*invalid JSON"):
            call.parsed_arguments()
