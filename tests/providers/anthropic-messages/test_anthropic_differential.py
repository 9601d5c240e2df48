"""Differential check: the official ``anthropic`` SDK (a test-only dependency) and kairos read the
same recorded bytes from the same loopback server and must agree on content, reasoning, tool
calls, usage and stop reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

import kairos
from harness import case_names, load_case
from loopback import LoopbackServer, Reply

anthropic = pytest.importorskip("anthropic")

FMT = "anthropic-messages"
TRUNCATED = "antsdk-max-tokens-incomplete-tool-json"
CASES = [n for n in case_names(FMT) if n not in (TRUNCATED, "docs-error-overloaded")]
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m", max_tokens=64)


def _sdk_final(url: str, beta: bool) -> Any:
    client = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0, timeout=10.0)
    messages = client.beta.messages if beta else client.messages
    with messages.stream(
        model="m", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    ) as s:
        return s.get_final_message()


def _both(name: str) -> tuple[Any, kairos.ChatResponse, list[Any]]:
    case, body = load_case(FMT, name)
    beta = case["expected"].get("sdk_api", "").startswith("beta.")
    replies = [Reply.body(body, split=512), Reply.body(body, split=512)]
    with LoopbackServer(replies) as server:
        final = _sdk_final(server.url, beta)
        with kairos.provider("anthropic", api_key="k", base_url=server.url, max_retries=0) as p:
            resp = p.chat(REQ)
    return final, resp, server.requests


@pytest.mark.parametrize("name", CASES)
def test_sdk_and_kairos_agree(name: str) -> None:
    final, resp, seen = _both(name)
    assert [(r.method, r.path.split("?")[0]) for r in seen] == [("POST", "/v1/messages")] * 2
    blocks = final.content
    assert resp.content == "".join(b.text for b in blocks if b.type == "text")
    thinking = "".join(b.thinking for b in blocks if b.type == "thinking")
    assert (resp.reasoning or "") == thinking
    sdk_calls = [(b.id, b.name, b.input) for b in blocks if b.type == "tool_use"]
    assert [(c.id, c.name, c.parsed_arguments()) for c in resp.tool_calls] == sdk_calls
    u = final.usage
    cache_read = u.cache_read_input_tokens or 0
    prompt = u.input_tokens + cache_read + (u.cache_creation_input_tokens or 0)
    assert resp.usage is not None
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens) == (prompt, u.output_tokens)
    assert resp.usage.total_tokens == prompt + u.output_tokens
    assert resp.usage.cached_tokens == cache_read
    assert resp.raw_finish_reason == final.stop_reason
    assert resp.model == final.model


def test_truncated_tool_json_agrees_except_for_the_unparsed_tail() -> None:
    # see test_conformance_anthropic.test_max_tokens_truncated_tool_json_keeps_raw_arguments:
    # the SDK parses what it can of the cut JSON; kairos keeps the raw text it received.
    final, resp, _ = _both(TRUNCATED)
    (sdk_call,) = [b for b in final.content if b.type == "tool_use"]
    (call,) = resp.tool_calls
    assert (call.id, call.name) == (sdk_call.id, sdk_call.name)
    assert resp.content == "".join(b.text for b in final.content if b.type == "text")
    repaired = json.loads(call.arguments + '"]}')
    assert repaired["filename"] == sdk_call.input["filename"]
    assert repaired["lines_of_text"][:-1] == sdk_call.input["lines_of_text"]
    assert resp.usage is not None and resp.usage.completion_tokens == final.usage.output_tokens
    assert resp.finish_reason == "length" and final.stop_reason == "max_tokens"


def test_in_band_error_typed_alike() -> None:
    _, body = load_case(FMT, "docs-error-overloaded")
    with LoopbackServer([Reply.body(body), Reply.body(body)]) as server:
        with pytest.raises(anthropic.APIStatusError) as sdk_err:
            _sdk_final(server.url, beta=False)
        with (
            kairos.provider("anthropic", api_key="k", base_url=server.url, max_retries=0) as p,
            pytest.raises(kairos.OverloadedError) as err,
        ):
            p.chat(REQ)
    assert err.value.error_type == sdk_err.value.body["error"]["type"] == "overloaded_error"
    assert err.value.body == sdk_err.value.body
