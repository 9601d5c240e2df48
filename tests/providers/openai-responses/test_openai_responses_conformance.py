"""Every openai-responses conformance case, four ways (loopback/mock x sync/async), as a stream
and as a non-stream answer (the terminal event's response object), against ``expected``.

The corpus' ``finish_reason`` is the response status (``completed``, ``failed``) or
``incomplete:<reason>``; kairos' ``raw_finish_reason`` is the status or, for an incomplete
response, the reason alone, and its normalised finish reason follows from it. The corpus'
``reasoning`` holds summaries only; kairos also reports raw ``reasoning_text`` (OpenRouter,
open-weight servers) as reasoning, which the corpus keeps as ``reasoning_text``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import kairos
from harness import WAY_IDS, WAYS, case_names, check_expected, load_case, run
from loopback import Reply

FMT = "openai-responses"
CASES = case_names(FMT)
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
_NORMAL = {"max_output_tokens": "length", "content_filter": "content_filter"}


def kairos_expected(expected: dict[str, Any]) -> dict[str, Any]:
    """``expected`` in kairos' terms (see the module docstring)."""
    out = dict(expected, reasoning=expected["reasoning"] or expected.get("reasoning_text"))
    raw = expected["finish_reason"]
    if raw is not None and raw.startswith("incomplete:"):
        out["finish_reason"] = raw.split(":", 1)[1]
    return out


def normalised(expected: dict[str, Any]) -> str:
    raw = kairos_expected(expected)["finish_reason"]
    if expected["error"] is not None or raw == "failed":
        return "error"
    if raw in _NORMAL:
        return _NORMAL[raw]
    return "tool_calls" if expected["tool_calls"] else "stop"


def _chat(body: bytes, ctype: str = "text/event-stream") -> kairos.ChatResponse | Exception:
    """What ``chat()`` gives for ``body`` served with ``ctype``: the response or the error."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": ctype}, content=body)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with kairos.provider(FMT, api_key="k", base_url="http://mock.test/v1", http_client=client) as p:
        try:
            return p.chat(REQ)
        except kairos.KairosError as exc:
            return exc


def terminal_response(body: bytes) -> dict[str, Any] | None:
    """The response object of the stream's terminal event (None if it has none)."""
    for line in body.splitlines():
        if line.startswith(b"data:") and line[5:].strip().startswith(b"{"):
            obj = json.loads(line[5:])
            if obj.get("type") in ("response.completed", "response.incomplete"):
                return dict(obj["response"])
    return None


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(("transport", "mode"), WAYS, ids=WAY_IDS)
def test_case_matches_official_sdk(name: str, transport: str, mode: str) -> None:
    case, body = load_case(FMT, name)
    reply = Reply.body(body, split=777)
    out = run(FMT, reply, REQ, transport=transport, mode=mode, suffix="/v1")
    check_expected(out, kairos_expected(case["expected"]))
    assert out.final.finish_reason == normalised(case["expected"])


@pytest.mark.parametrize("name", CASES)
def test_chat_equals_drained_stream(name: str) -> None:
    _, body = load_case(FMT, name)
    out = run(FMT, Reply.body(body), REQ, transport="mock", mode="sync", suffix="/v1")
    got = _chat(body)
    if out.final.error is None:
        assert got == out.response
    else:  # chat() raises the error the stream ended with, with the same partial answer
        assert isinstance(got, kairos.KairosError) and type(got) is type(out.final.error)
        assert got.partial == out.final.error.partial


@pytest.mark.parametrize("name", [n for n in CASES if terminal_response(load_case(FMT, n)[1])])
def test_non_stream_answer_goes_through_the_same_mapping(name: str) -> None:
    """The terminal response object served as ``application/json``: what the API answers
    ``stream: false``. Its items give the same content, reasoning, calls, usage and finish."""
    case, body = load_case(FMT, name)
    resp = _chat(json.dumps(terminal_response(body)).encode(), "application/json")
    assert isinstance(resp, kairos.ChatResponse), resp
    want = kairos_expected(case["expected"])
    assert resp.content == want["content"]
    assert (resp.reasoning or None) == (want["reasoning"] or None)
    got = [(c.id, c.name, c.parsed_arguments()) for c in resp.tool_calls]
    assert got == [(t["id"], t["name"], t["arguments"]) for t in want["tool_calls"]]
    assert resp.usage is not None and resp.usage.total_tokens == want["usage"]["total_tokens"]
    assert resp.raw_finish_reason == want["finish_reason"]
    assert resp.finish_reason == normalised(case["expected"])
