"""Differential check: the official ``openai`` SDK's Responses stream (a test-only dependency) and
kairos read the same recorded bytes from the same loopback server and must agree: the text
deltas one by one, and the final answer's text, reasoning, tool calls (raw arguments and item
ids), usage, status and model. The SDK is read both ways: the raw event loop of
``responses.create(stream=True)`` and the ``responses.stream()`` helper's final response."""

from __future__ import annotations

import json
from typing import Any

import pytest

import kairos
from harness import Outcome, _drain_sync, case_names, load_case
from loopback import LoopbackServer, Reply

openai = pytest.importorskip("openai")

# the SDK's stream helper re-serialises server-tool items (web search...) through pydantic
# models that do not fit them exactly and warns; its values are still the ones compared
pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

FMT = "openai-responses"
ERROR = "vercel-error-insufficient-quota"
CASES = [n for n in case_names(FMT) if n != ERROR]
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
TERMINAL = ("response.completed", "response.incomplete", "response.failed")


def _client(url: str) -> Any:
    return openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0, timeout=10.0)


def _kairos(url: str) -> Outcome:
    with kairos.provider(FMT, api_key="k", base_url=url + "/v1", max_retries=0) as p:
        return _drain_sync(p.chat_stream(REQ))


def _both(name: str) -> tuple[list[Any], Any, Outcome]:
    _, body = load_case(FMT, name)
    with LoopbackServer([Reply.body(body, split=512)] * 3) as server:
        events = list(_client(server.url).responses.create(model="m", input="hi", stream=True))
        with _client(server.url).responses.stream(model="m", input="hi") as s:
            final = s.get_final_response()
        out = _kairos(server.url)
    assert [(r.method, r.path) for r in server.requests] == [("POST", "/v1/responses")] * 3
    return events, final, out


def _sdk_reasoning(output: list[Any]) -> str:
    texts = []
    for item in output:
        if item.type == "reasoning":
            texts += [s.text for s in item.summary]
            texts += [c.text for c in item.content or [] if c.type == "reasoning_text"]
    return "".join(texts)


@pytest.mark.parametrize("name", CASES)
def test_sdk_and_kairos_agree(name: str) -> None:
    events, final, out = _both(name)
    terminal = next(e.response for e in reversed(events) if e.type in TERMINAL)
    assert terminal.output_text == final.output_text
    deltas = [e.delta for e in events if e.type == "response.output_text.delta" and e.delta]
    assert [c.content for c in out.chunks if c.content] == deltas
    resp = out.response
    assert out.final.error is None
    assert resp.content == final.output_text
    assert (resp.reasoning or "") == _sdk_reasoning(final.output)
    calls = [o for o in final.output if o.type == "function_call"]
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        (o.call_id, o.name, o.arguments) for o in calls
    ]
    assert [(c.provider_data or {})[FMT]["id"] for c in resp.tool_calls] == [o.id for o in calls]
    u = final.usage
    assert resp.usage is not None
    got = (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens)
    assert got == (u.input_tokens, u.output_tokens, u.total_tokens)
    assert resp.usage.cached_tokens == u.input_tokens_details.cached_tokens
    assert resp.usage.reasoning_tokens == u.output_tokens_details.reasoning_tokens
    assert resp.raw_finish_reason == final.status == terminal.status
    assert resp.model == final.model
    assert resp.finish_reason == ("tool_calls" if calls else "stop")


def test_in_band_error_typed_alike() -> None:
    _, body = load_case(FMT, ERROR)
    with LoopbackServer([Reply.body(body)] * 2) as server:
        with pytest.raises(openai.APIError) as sdk_err:
            list(_client(server.url).responses.create(model="m", input="hi", stream=True))
        out = _kairos(server.url)
    err = out.final.error
    assert isinstance(err, kairos.PermissionDeniedError)  # insufficient_quota: not retryable
    assert err.body == sdk_err.value.body
    assert err.error_type == json.loads(json.dumps(sdk_err.value.body))["code"]
    assert str(err) == f"{FMT}: {sdk_err.value.message}"
