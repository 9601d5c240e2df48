"""The Gemini codec on real bytes: request bodies and headers as sent over HTTP, synthetic
``streamGenerateContent`` chunks, in-band and HTTP error typing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import kairos
from harness import run
from kairos.providers.gemini.request import GENERATED_ID_PREFIX, SKIP_SIGNATURE
from loopback import LoopbackServer, Reply

M = kairos.Message
KEY = "AIza-test-SECRET-123"
MODEL = "gemini-2.5-flash"
REQ = kairos.ChatRequest([M.user("hi")], model=MODEL)


def sse(*chunks: dict[str, Any]) -> bytes:
    """Chunks framed as Google frames them (CRLF)."""
    return b"".join(f"data: {json.dumps(c)}\r\n\r\n".encode() for c in chunks)


def chunk(*parts: dict[str, Any], finish: str | None = None, **top: Any) -> dict[str, Any]:
    cand: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish:
        cand["finishReason"] = finish
    return {"candidates": [cand], "modelVersion": MODEL, **top}


def usage(prompt: int, out: int, total: int, **more: int) -> dict[str, Any]:
    return {
        "promptTokenCount": prompt,
        "candidatesTokenCount": out,
        "totalTokenCount": total,
        **more,
    }


def call(name: str, args: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"functionCall": {"name": name, "args": args, **extra}}


TEXT_OK = sse(chunk({"text": "ok"}, finish="STOP", usageMetadata=usage(1, 1, 2)))


def stream(body: bytes, req: kairos.ChatRequest = REQ, **kw: Any) -> Any:
    kw.setdefault("max_retries", 0)
    return run("gemini", Reply.body(body, split=50), req, transport="mock", mode="sync", **kw)


class Recorder:
    """An ``httpx.MockTransport`` that answers scripted bodies and keeps what it was sent."""

    def __init__(self, *bodies: bytes, status: int = 200, ctype: str = "text/event-stream"):
        self.bodies = list(bodies)
        self.status, self.ctype = status, ctype
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = self.bodies.pop(0) if len(self.bodies) > 1 else self.bodies[0]
        return httpx.Response(self.status, headers={"content-type": self.ctype}, content=body)

    def provider(self, **kw: Any) -> Any:
        kw.setdefault("max_retries", 0)
        client = httpx.Client(transport=httpx.MockTransport(self))
        return kairos.provider("gemini", api_key=KEY, http_client=client, **kw)

    def body(self, i: int = -1) -> Any:
        return json.loads(self.requests[i].content)


def sent(req: kairos.ChatRequest, **kw: Any) -> Any:
    rec = Recorder(TEXT_OK)
    with rec.provider(base_url="http://mock.test", **kw) as p:
        assert p.chat(req).content == "ok"
    return rec.body()


# -- requests ----------------------------------------------------------------------------------
WEATHER = kairos.Tool(
    "get_weather",
    "Current weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = kairos.Tool(
    "get_time",
    "Local time in a timezone",
    {"type": "object", "properties": {"tz": {"type": "string", "description": "IANA name"}}},
)
CONVERSATION = [
    M.system("You are terse."),
    M.user("Weather in Paris?"),
    M.assistant("Checking.", [kairos.ToolCall("call-7", "get_weather", '{"city": "Paris"}')]),
    M.tool('{"temp_c": 21}', "call-7", name="get_weather"),
    M.user("And the time there?"),
]


def test_multi_turn_conversation_serialises_to_the_documented_body() -> None:
    # Gemini API reference, "Generating content" and "Function calling": systemInstruction,
    # contents with user/model roles, functionCall / functionResponse parts, tools as
    # functionDeclarations, toolConfig.functionCallingConfig, generationConfig.
    req = kairos.ChatRequest(
        CONVERSATION,
        model=MODEL,
        tools=[WEATHER, TIME],
        temperature=0.2,
        max_tokens=256,
        top_p=0.9,
        stop=["END"],
        tool_choice="auto",
    )
    with (
        LoopbackServer([Reply.body(TEXT_OK)]) as server,
        kairos.provider("gemini", api_key=KEY, base_url=server.url) as p,
    ):
        assert p.chat(req).content == "ok"
    (seen,) = server.requests
    assert seen.path == f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
    assert seen.headers["x-goog-api-key"] == KEY and KEY not in seen.path
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == {
        "systemInstruction": {"parts": [{"text": "You are terse."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
            {
                "role": "model",
                "parts": [
                    {"text": "Checking."},
                    {
                        "functionCall": {
                            "name": "get_weather",
                            "args": {"city": "Paris"},
                            "id": "call-7",
                        }
                    },
                ],
            },
            {
                "role": "user",
                "parts": [
                    {
                        "functionResponse": {
                            "name": "get_weather",
                            "response": {"temp_c": 21},
                            "id": "call-7",
                        }
                    }
                ],
            },
            {"role": "user", "parts": [{"text": "And the time there?"}]},
        ],
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "get_weather",
                        "description": "Current weather for a city",
                        "parameters": dict(WEATHER.parameters),
                    },
                    {
                        "name": "get_time",
                        "description": "Local time in a timezone",
                        "parameters": dict(TIME.parameters),
                    },
                ]
            }
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
        "generationConfig": {
            "temperature": 0.2,
            "topP": 0.9,
            "maxOutputTokens": 256,
            "stopSequences": ["END"],
        },
    }


def test_tool_results_find_their_name_merge_and_keep_generated_ids_local() -> None:
    gen_a, gen_b = GENERATED_ID_PREFIX + "a" * 24, GENERATED_ID_PREFIX + "b" * 24
    calls = [
        kairos.ToolCall(gen_a, "get_weather", '{"city": "Oslo"}'),
        kairos.ToolCall(gen_b, "get_weather", '{"city": "Rome"}'),
    ]
    req = kairos.ChatRequest(
        [M.user("both"), M.assistant("", calls), M.tool("cold", gen_a), M.tool("warm", gen_b)],
        model=MODEL,
    )
    body = sent(req)
    assert body["contents"][1] == {
        "role": "model",
        "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}},
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
        ],
    }
    # both results in one user turn, names looked up from the calls, text wrapped as "output"
    assert body["contents"][2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"output": "cold"}}},
            {"functionResponse": {"name": "get_weather", "response": {"output": "warm"}}},
        ],
    }
    assert len(body["contents"]) == 3 and "systemInstruction" not in body


def test_tool_result_without_a_name_anywhere_is_refused_before_sending() -> None:
    rec = Recorder(TEXT_OK)
    req = kairos.ChatRequest([M.user("x"), M.tool("42", "unknown-id")], model=MODEL)
    with rec.provider(base_url="http://mock.test") as p, pytest.raises(kairos.ConfigurationError):
        p.chat(req)
    assert rec.requests == []


def test_assistant_tool_call_with_non_object_arguments_is_refused() -> None:
    bad = M.assistant("", [kairos.ToolCall("c1", "f", "[1, 2]")])
    with pytest.raises(kairos.ConfigurationError):
        sent(kairos.ChatRequest([M.user("x"), bad], model=MODEL))


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        ("get_time", {"mode": "ANY", "allowedFunctionNames": ["get_time"]}),
        ({"mode": "VALIDATED"}, {"mode": "VALIDATED"}),
    ],
)
def test_tool_choice_mapping(choice: Any, wire: dict[str, Any]) -> None:
    body = sent(kairos.ChatRequest([M.user("x")], model=MODEL, tools=[TIME], tool_choice=choice))
    assert body["toolConfig"] == {"functionCallingConfig": wire}


def test_extras_merge_deeply_and_tools_append() -> None:
    req = kairos.ChatRequest(
        [M.user("x")],
        model=MODEL,
        tools=[TIME],
        temperature=0.5,
        extras={
            "generationConfig": {"thinkingConfig": {"includeThoughts": True}},
            "tools": [{"googleSearch": {}}],
            "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "OFF"}],
        },
    )
    body = sent(req)
    assert body["generationConfig"] == {
        "temperature": 0.5,
        "thinkingConfig": {"includeThoughts": True},
    }
    assert body["tools"][1] == {"googleSearch": {}}
    assert body["tools"][0]["functionDeclarations"][0]["name"] == "get_time"
    assert body["safetySettings"][0]["threshold"] == "OFF"


def test_schemas_outside_the_openapi_subset_use_parameters_json_schema() -> None:
    strict = kairos.Tool(
        "lookup",
        "",
        {
            "type": "object",
            "properties": {"q": {"type": "string"}},
            "additionalProperties": False,
        },
    )
    bare = kairos.Tool("ping")  # no parameters: Gemini rejects an object without properties
    empty = kairos.Tool("noop", "", {"type": "object", "properties": {}, "required": []})
    body = sent(kairos.ChatRequest([M.user("x")], model=MODEL, tools=[strict, bare, empty]))
    assert body["tools"][0]["functionDeclarations"] == [
        {"name": "lookup", "parametersJsonSchema": dict(strict.parameters)},
        {"name": "ping"},
        {"name": "noop"},
    ]


def test_model_paths_and_versioned_base_url() -> None:
    rec = Recorder(TEXT_OK)
    with rec.provider(base_url="https://proxy.test/google/v1beta/") as p:
        p.chat(kairos.ChatRequest([M.user("x")], model="models/gemini-2.0-flash"))
        p.chat(kairos.ChatRequest([M.user("x")], model="tunedModels/my-model"))
        p.chat(kairos.ChatRequest([M.user("x")]))  # the preset's default model
    assert [str(r.url) for r in rec.requests] == [
        "https://proxy.test/google/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
        "https://proxy.test/google/v1beta/tunedModels/my-model:streamGenerateContent?alt=sse",
        f"https://proxy.test/google/v1beta/models/{MODEL}:streamGenerateContent?alt=sse",
    ]
    assert all(r.headers["x-goog-api-key"] == KEY for r in rec.requests)
    assert all("key" not in r.url.params for r in rec.requests)


def test_thought_signatures_go_back_with_their_calls() -> None:
    # Gemini 3 rejects a history whose function calls lost their thoughtSignature; the codec
    # remembers the signatures it received and sends them back on the same calls.
    answer = sse(
        chunk(
            {**call("get_country", {}), "thoughtSignature": "SIG-1"},
            finish="STOP",
            responseId="r1",
        )
    )
    rec = Recorder(answer, TEXT_OK)
    with rec.provider(base_url="http://mock.test") as p:
        first = p.chat(kairos.ChatRequest([M.user("where?")], model="gemini-3-pro-preview"))
        (c,) = first.tool_calls
        history = [M.user("where?"), M.assistant("", [c]), M.tool("France", c.id)]
        p.chat(kairos.ChatRequest(history, model="gemini-3-pro-preview"))
        # a call the codec never saw (history from elsewhere): Google's documented sentinel
        other = [
            M.user("q"),
            M.assistant("", [kairos.ToolCall("x1", "f", "{}")]),
            M.tool("r", "x1", "f"),
        ]
        p.chat(kairos.ChatRequest(other, model="gemini-3-pro-preview"))
        p.chat(kairos.ChatRequest(other, model=MODEL))
    assert rec.body(1)["contents"][1]["parts"] == [
        {"functionCall": {"name": "get_country", "args": {}}, "thoughtSignature": "SIG-1"}
    ]
    assert rec.body(2)["contents"][1]["parts"][0]["thoughtSignature"] == SKIP_SIGNATURE
    assert "thoughtSignature" not in rec.body(3)["contents"][1]["parts"][0]  # not a Gemini 3


# -- streamed answers --------------------------------------------------------------------------
def test_parallel_calls_to_one_function_keep_distinct_ids_and_positions() -> None:
    body = sse(
        chunk(call("lookup", {"q": "a"}), call("lookup", {"q": "b"}), responseId="resp-1"),
        chunk(call("lookup", {"q": "a"}), finish="STOP", responseId="resp-1"),
    )
    out = stream(body)
    calls = out.response.tool_calls
    assert [(c.name, c.parsed_arguments()) for c in calls] == [
        ("lookup", {"q": "a"}),
        ("lookup", {"q": "b"}),
        ("lookup", {"q": "a"}),  # the same arguments again is still another call
    ]
    ids = [c.id for c in calls]
    assert len(set(ids)) == 3 and all(i.startswith(GENERATED_ID_PREFIX) for i in ids)
    assert out.response.finish_reason == "tool_calls" and out.response.raw_finish_reason == "STOP"
    # deterministic: the same bytes give the same ids
    assert [c.id for c in stream(body).response.tool_calls] == ids
    # another response (another responseId) gives other ids
    other = stream(body.replace(b"resp-1", b"resp-2")).response.tool_calls
    assert not set(ids) & {c.id for c in other}


def test_wire_ids_are_kept() -> None:
    body = sse(chunk(call("f", {}, id="fc-1"), call("f", {"x": 1}, id="fc-2"), finish="STOP"))
    calls = stream(body).response.tool_calls
    assert [(c.id, c.arguments) for c in calls] == [("fc-1", "{}"), ("fc-2", '{"x":1}')]


def test_usage_is_the_last_reported_never_summed() -> None:
    body = sse(
        chunk({"text": "a"}, usageMetadata=usage(10, 1, 11)),
        chunk({"text": "b"}, usageMetadata=usage(10, 5, 40, thoughtsTokenCount=25)),
        chunk(
            {"text": "c"},
            finish="STOP",
            usageMetadata=usage(10, 7, 45, thoughtsTokenCount=28, cachedContentTokenCount=4),
        ),
    )
    u = stream(body).response.usage
    # completion = candidates + thoughts (candidatesTokenCount excludes thoughts)
    assert u == kairos.Usage(10, 7 + 28, 45, cached_tokens=4, reasoning_tokens=28)


def test_thoughts_are_reasoning_and_non_text_parts_are_not_content() -> None:
    body = sse(
        chunk({"text": "plan", "thought": True}),
        {"candidates": [{"index": 0}]},  # a candidate without content
        {"candidates": [{"content": {"role": "model"}, "index": 0}]},  # content without parts
        chunk(
            {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
            {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n"}},
            {"inlineData": {"mimeType": "image/png", "data": "AAAA"}},
            {"thoughtSignature": "SIG"},
            {"text": "answer"},
        ),
        chunk({"text": ""}, finish="STOP"),
    )
    out = stream(body)
    assert (out.response.content, out.response.reasoning) == ("answer", "plan")
    assert out.response.tool_calls == () and out.final.error is None
    assert out.response.finish_reason == "stop"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("OTHER", "stop"),
        ("SOMETHING_NEW", "stop"),
    ],
)
def test_finish_reasons_are_normalised(raw: str, normal: str) -> None:
    out = stream(sse(chunk({"text": "x"}, finish=raw)))
    assert (out.response.raw_finish_reason, out.response.finish_reason) == (raw, normal)
    # MALFORMED_FUNCTION_CALL ends the turn unsuccessfully, but the stream itself completed
    assert out.final.error is None and out.raised is None


def test_blocked_prompt_is_a_content_filter_finish() -> None:
    body = sse({"promptFeedback": {"blockReason": "OTHER"}, "usageMetadata": usage(5, 0, 5)})
    out = stream(body)
    assert out.final.error is None and out.response.content == ""
    assert out.response.finish_reason == "content_filter"
    assert out.response.raw_finish_reason == "blockReason:OTHER"


def test_body_ending_without_a_finish_reason_is_incomplete() -> None:
    out = stream(sse(chunk({"text": "cut"})))
    assert isinstance(out.final.error, kairos.IncompleteStreamError)
    assert out.final.error.partial is not None and out.final.error.partial.content == "cut"


@pytest.mark.parametrize("ctype", ["application/json", "application/json; charset=UTF-8"])
def test_non_stream_json_answers(ctype: str) -> None:
    single = chunk(
        {"text": "whole"}, call("f", {"a": 1}), finish="STOP", usageMetadata=usage(3, 4, 7)
    )
    array = [
        chunk({"text": "a"}),
        chunk({"text": "b"}, finish="STOP", usageMetadata=usage(1, 2, 3)),
    ]
    for payload, content, calls in ((single, "whole", 1), (array, "ab", 0)):
        rec = Recorder(json.dumps(payload).encode(), ctype=ctype)
        with rec.provider(base_url="http://mock.test") as p:
            resp = p.chat(REQ)
        assert resp.content == content and len(resp.tool_calls) == calls
        assert resp.finish_reason == ("tool_calls" if calls else "stop")


# -- errors ------------------------------------------------------------------------------------
ERRORS = [
    (400, "INVALID_ARGUMENT", kairos.BadRequestError),
    (400, "FAILED_PRECONDITION", kairos.BadRequestError),
    (401, "UNAUTHENTICATED", kairos.AuthenticationError),
    (403, "PERMISSION_DENIED", kairos.PermissionDeniedError),
    (404, "NOT_FOUND", kairos.NotFoundError),
    (429, "RESOURCE_EXHAUSTED", kairos.RateLimitError),
    (500, "INTERNAL", kairos.ServerError),
    (503, "UNAVAILABLE", kairos.OverloadedError),
    (504, "DEADLINE_EXCEEDED", kairos.ServerError),
]


def google_error(code: int, status: str, message: str = "nope", **more: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status, **more}}


@pytest.mark.parametrize(("code", "status", "cls"), ERRORS)
def test_error_chunk_is_typed_by_its_status(code: int, status: str, cls: type) -> None:
    body = sse(chunk({"text": "partial"}), google_error(code, status, "went wrong"))
    out = stream(body)
    err = out.final.error
    assert type(err) is cls
    assert (err.status, err.error_type) == (code, status)
    assert "went wrong" in str(err)
    assert out.raised is err and out.final.finish_reason == "error"
    assert err.partial is not None and err.partial.content == "partial"


def test_error_chunk_with_unknown_status_is_typed_by_its_code() -> None:
    out = stream(sse(google_error(429, "BRAND_NEW")))
    assert type(out.final.error) is kairos.RateLimitError


@pytest.mark.parametrize(("code", "status", "cls"), ERRORS)
def test_http_error_is_typed(code: int, status: str, cls: type) -> None:
    reply = Reply.json(code, google_error(code, status, f"bad {KEY}"))
    with (
        LoopbackServer([reply]) as server,
        kairos.provider("gemini", api_key=KEY, base_url=server.url, max_retries=0) as p,
        pytest.raises(kairos.APIStatusError) as info,
    ):
        p.chat_stream(REQ)
    err = info.value
    assert type(err) is cls and (err.status, err.error_type) == (code, status)
    assert KEY not in str(err) and KEY not in repr(err)


def test_bad_api_key_is_an_authentication_error() -> None:
    # the Gemini API answers a bad key with 400 INVALID_ARGUMENT; the ErrorInfo reason says why
    info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
    rec = Recorder(
        json.dumps(google_error(400, "INVALID_ARGUMENT", details=[info])).encode(),
        status=400,
        ctype="application/json",
    )
    with rec.provider(base_url="http://mock.test") as p, pytest.raises(kairos.AuthenticationError):
        p.chat(REQ)


def test_rate_limit_retry_delay_comes_from_retry_info() -> None:
    info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}
    payload = [google_error(429, "RESOURCE_EXHAUSTED", details=[info])]  # array form, no alt=sse
    rec = Recorder(json.dumps(payload).encode(), status=429, ctype="application/json")
    with rec.provider(base_url="http://mock.test") as p, pytest.raises(kairos.RateLimitError) as e:
        p.chat(REQ)
    assert e.value.retry_after == 37.0


@pytest.mark.parametrize(
    ("status", "cls"), [(502, kairos.ServerError), (503, kairos.OverloadedError)]
)
def test_http_error_with_html_body(status: int, cls: type) -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>upstream died</body></html>"
    reply = Reply(status, {"content-type": "text/html"}, [page], content_length=True)
    with (
        LoopbackServer([reply]) as server,
        kairos.provider("gemini", api_key=KEY, base_url=server.url, max_retries=0) as p,
        pytest.raises(kairos.APIStatusError) as info,
    ):
        p.chat(REQ)
    err = info.value
    assert type(err) is cls and err.status == status
    assert "non-JSON text/html" in err.message and "upstream died" in err.message


def test_tool_arguments_that_are_not_an_object_are_kept_and_parsed_arguments_says_so() -> None:
    """The contract's one rule for every wire (see ``kairos.llm``). Gemini's ``args`` is JSON
    already, so the case it can send is a value that is not an object."""
    body = sse(
        chunk(
            {"functionCall": {"name": "lookup", "args": "not an object"}},
            {"functionCall": {"name": "other", "args": [1, 2]}},
            finish="STOP",
            usageMetadata=usage(3, 4, 7),
        )
    )
    out = stream(body)
    assert out.final.error is None and out.response.finish_reason == "tool_calls"
    first, second = out.response.tool_calls
    assert (first.arguments, second.arguments) == ('"not an object"', "[1,2]")
    for c in (first, second):
        with pytest.raises(kairos.ProtocolError, match=f"'{c.name}'.*not a JSON object"):
            c.parsed_arguments()
