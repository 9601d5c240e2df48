"""Every gemini conformance case, four ways (loopback/mock x sync/async), against the official
SDK's ``expected``; plus ``chat()`` parity and where the API key travels."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

import kairos
from harness import WAY_IDS, WAYS, case_names, check_expected, load_case, run
from kairos.providers.gemini.request import GENERATED_ID_PREFIX
from loopback import LoopbackServer, Reply

FMT = "gemini"
CASES = case_names(FMT)
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="gemini-2.5-flash")
KEY = "gemini-secret-key-123"


def _check(out: Any, expected: dict[str, Any]) -> None:
    """``check_expected`` with one adjustment for tool-call ids (and, as everywhere, the
    completion count including thoughts: see ``harness.completion_tokens``).

    None of the recorded bodies has a ``functionCall.id`` (the Gemini API leaves it out), so the
    official SDK reports ``id: None``. kairos never returns a call without an id: it generates
    one per call (see ``kairos.providers.gemini``). Ids are therefore compared only where the
    SDK has one; everywhere else kairos' ids must be non-empty, generated, and distinct (the
    parallel case calls one function twice), and everything else is compared as is.
    """
    want = copy.deepcopy(expected)
    got_ids = [c.id for c in out.response.tool_calls]
    assert len(got_ids) == len(want["tool_calls"])
    assert len(set(got_ids)) == len(got_ids) and all(got_ids)
    for got_id, tool in zip(got_ids, want["tool_calls"], strict=True):
        if tool["id"] is None:
            assert got_id.startswith(GENERATED_ID_PREFIX)
            tool["id"] = got_id
    check_expected(out, want)
    assert out.final.tool_calls == out.response.tool_calls


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(("transport", "mode"), WAYS, ids=WAY_IDS)
def test_case_matches_official_sdk(name: str, transport: str, mode: str) -> None:
    case, body = load_case(FMT, name)
    out = run("gemini", Reply.body(body, split=777), REQ, transport=transport, mode=mode)
    _check(out, case["expected"])
    if case["expected"]["error"] is None:
        want = "tool_calls" if case["expected"]["tool_calls"] else None
        if case["expected"]["finish_reason"] == "STOP":
            assert out.response.finish_reason == (want or "stop")
        assert out.response.model == case["recorded_uri"].split("/models/")[1].split(":")[0]


@pytest.mark.parametrize("name", CASES)
def test_reasoning_tokens_and_finish(name: str) -> None:
    case, body = load_case(FMT, name)
    out = run("gemini", Reply.body(body), REQ, transport="mock", mode="sync")
    raw = case["expected"]["raw_usage"]
    assert out.response.usage is not None
    assert out.response.usage.reasoning_tokens == raw.get("thoughts_token_count")
    if case["expected"]["finish_reason"] == "MAX_TOKENS":
        assert out.response.finish_reason == "length"


@pytest.mark.parametrize("name", CASES)
def test_chat_equals_drained_stream(name: str) -> None:
    _, body = load_case(FMT, name)
    out = run("gemini", Reply.body(body), REQ, transport="mock", mode="sync")

    def handler(r: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with kairos.provider(
        "gemini", api_key="k", base_url="http://mock.test", http_client=client
    ) as p:
        assert p.chat(REQ) == out.response


def test_key_travels_in_header_not_url() -> None:
    _, body = load_case(FMT, "pai-text-basic")
    with (
        LoopbackServer([Reply.body(body)]) as server,
        kairos.provider("gemini", api_key=KEY, base_url=server.url) as p,
    ):
        resp = p.chat(REQ)
    assert resp.content == "The capital of France is Paris.\n"
    (seen,) = server.requests
    assert seen.method == "POST"
    assert seen.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert seen.headers["x-goog-api-key"] == KEY
    assert KEY not in seen.path and "key=" not in seen.path
    assert "authorization" not in seen.headers
    assert seen.json()["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    _, body = load_case(FMT, "pai-text-basic")
    with (
        LoopbackServer([Reply.body(body)]) as server,
        kairos.provider("gemini", base_url=server.url) as p,
    ):
        p.chat(REQ)
    assert server.requests[0].headers["x-goog-api-key"] == KEY
