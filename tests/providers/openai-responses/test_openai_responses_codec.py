"""Responses request building, the Azure presets, and error mapping (pure codec, no network)."""

from __future__ import annotations

import json

import httpx
import pytest

import kairos
from kairos.providers import make_codec

CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = kairos.Tool("get_weather", "Weather for a city", CITY)


def _body(req: kairos.ChatRequest, name: str = "openai-responses") -> dict[str, object]:
    return dict(json.loads(make_codec(name, api_key="k").build_request(req).body))


def test_multi_turn_with_tools_serialises_to_the_documented_body() -> None:
    call = kairos.ToolCall("call_1", "get_weather", '{"city":"Lima"}')
    req = kairos.ChatRequest(
        [
            kairos.Message.system("Be brief."),
            kairos.Message.user("Weather in Lima?"),
            kairos.Message.assistant("Checking.", [call]),
            kairos.Message.tool('{"temp": 19}', "call_1", name="get_weather"),
            kairos.Message.assistant("19 degrees."),
            kairos.Message.system("Answer in Spanish."),
            kairos.Message.user("Thanks"),
        ],
        model="gpt-x",
        tools=[WEATHER],
        temperature=0.2,
        max_tokens=50,
        top_p=0.9,
        tool_choice="get_weather",
        extras={"parallel_tool_calls": False},
    )
    http = make_codec("openai-responses", api_key="k").build_request(req)
    assert http.url == "https://api.openai.com/v1/responses"
    assert http.headers["authorization"] == "Bearer k" and "api-key" not in http.headers
    assert json.loads(http.body) == {
        "model": "gpt-x",
        "instructions": "Be brief.\n\nAnswer in Spanish.",
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Weather in Lima?"}],
            },
            {"type": "message", "role": "assistant", "content": "Checking."},
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "get_weather",
                "arguments": '{"city":"Lima"}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": '{"temp": 19}'},
            {"type": "message", "role": "assistant", "content": "19 degrees."},
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Thanks"}],
            },
        ],
        "tools": [
            {
                "type": "function",
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": CITY,
                "strict": False,
            }
        ],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "temperature": 0.2,
        "top_p": 0.9,
        "max_output_tokens": 50,
        "store": False,
        "stream": True,
        "parallel_tool_calls": False,
    }


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("lookup", {"type": "function", "name": "lookup"}),
        ({"type": "allowed_tools", "mode": "auto"}, {"type": "allowed_tools", "mode": "auto"}),
    ],
)
def test_tool_choice(choice: object, sent: object) -> None:
    req = kairos.ChatRequest([kairos.Message.user("x")], tool_choice=choice)  # type: ignore[arg-type]
    assert _body(req)["tool_choice"] == sent


def test_minimal_body_and_extras_win() -> None:
    body = _body(kairos.ChatRequest([kairos.Message.user("x")]))
    assert body == {
        "model": "gpt-5-mini",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]}
        ],
        "store": False,
        "stream": True,
    }
    stored = kairos.ChatRequest([kairos.Message.user("x")], extras={"store": True})
    assert _body(stored)["store"] is True


def test_stop_sequences_are_refused_before_any_request() -> None:
    sent: list[httpx.Request] = []
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(500))
    )
    req = kairos.ChatRequest([kairos.Message.user("x")], stop=["END"])
    with (
        kairos.provider("openai-responses", api_key="k", http_client=client) as p,
        pytest.raises(kairos.ConfigurationError, match="no stop sequences"),
    ):
        p.chat(req)
    assert sent == []


@pytest.mark.parametrize(
    "endpoint", ["https://res.openai.azure.com", "https://res.openai.azure.com/openai/v1/"]
)
@pytest.mark.parametrize(
    ("name", "path"), [("azure-responses", "/responses"), ("azure", "/chat/completions")]
)
def test_azure_presets_take_the_endpoint_and_send_the_key_as_api_key(
    endpoint: str, name: str, path: str
) -> None:
    env = {"AZURE_OPENAI_API_KEY": "az-key", "AZURE_OPENAI_ENDPOINT": endpoint}
    codec = make_codec(name, model="my-deployment", env=env)
    http = codec.build_request(kairos.ChatRequest([kairos.Message.user("x")]))
    assert http.url == "https://res.openai.azure.com/openai/v1" + path
    assert http.headers["api-key"] == "az-key" and "authorization" not in http.headers
    assert json.loads(http.body)["model"] == "my-deployment"
    assert http.secrets == ("az-key",)
    assert "az-key" not in repr(codec)


def test_azure_needs_its_endpoint_and_key() -> None:
    with pytest.raises(
        kairos.ConfigurationError, match="set AZURE_OPENAI_ENDPOINT or pass base_url="
    ):
        make_codec("azure-responses", env={"AZURE_OPENAI_API_KEY": "k"})
    with pytest.raises(kairos.ConfigurationError, match="AZURE_OPENAI_API_KEY"):
        make_codec("azure", env={})
    explicit = make_codec(
        "azure-responses", api_key="k", base_url="https://x.test/openai/v1", env={}
    )
    assert explicit.build_request(kairos.ChatRequest([kairos.Message.user("x")])).url == (
        "https://x.test/openai/v1/responses"
    )


def _err(status: int, body: object, headers: dict[str, str] | None = None) -> kairos.KairosError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return make_codec("openai-responses", api_key="k").parse_error(status, headers or {}, raw)


def test_http_errors_are_typed_from_status_and_structured_fields() -> None:
    assert isinstance(_err(401, {"error": {"message": "bad key"}}), kairos.AuthenticationError)
    ctx = _err(400, {"error": {"message": "too long", "code": "context_length_exceeded"}})
    assert isinstance(ctx, kairos.ContextLengthError)
    rl = _err(429, {"error": {"message": "slow"}}, {"retry-after-ms": "1500", "x-request-id": "r1"})
    assert isinstance(rl, kairos.RateLimitError) and rl.retry_after == 1.5 and rl.request_id == "r1"
    quota = _err(429, {"error": {"message": "pay", "code": "insufficient_quota"}})
    assert isinstance(quota, kairos.PermissionDeniedError)
    page = _err(502, b"<html><title>502 Bad Gateway</title></html>", {"content-type": "text/html"})
    assert isinstance(page, kairos.ServerError) and "\n" not in str(page)
