"""Every openai-chat and dashscope conformance case, four ways (loopback/mock x sync/async)."""

from __future__ import annotations

import pytest

import kairos
from harness import WAY_IDS, WAYS, case_names, check_expected, load_case, run
from loopback import Reply

CASES = [("openai-chat", n) for n in case_names("openai-chat")] + [
    ("dashscope", n) for n in case_names("dashscope")
]
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")


@pytest.mark.parametrize(("fmt", "name"), CASES, ids=[f"{f}/{n}" for f, n in CASES])
@pytest.mark.parametrize(("transport", "mode"), WAYS, ids=WAY_IDS)
def test_case_matches_official_sdk(fmt: str, name: str, transport: str, mode: str) -> None:
    case, body = load_case(fmt, name)
    spec = "qwen" if fmt == "dashscope" else "openai"
    out = run(spec, Reply.body(body, split=777), REQ, transport=transport, mode=mode, suffix="/v1")
    check_expected(out, case["expected"])


@pytest.mark.parametrize(("fmt", "name"), CASES, ids=[f"{f}/{n}" for f, n in CASES])
def test_chat_equals_drained_stream(fmt: str, name: str) -> None:
    case, body = load_case(fmt, name)
    spec = "qwen" if fmt == "dashscope" else "openai"
    out = run(spec, Reply.body(body), REQ, transport="mock", mode="sync", suffix="/v1")
    import httpx

    client = httpx.Client(
        transport=httpx.MockTransport(
            lambda r: httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=body
            )
        )
    )
    with kairos.provider(
        spec, api_key="k", base_url="http://mock.test/v1", http_client=client
    ) as p:
        if case["expected"]["error"] is None:
            assert p.chat(REQ) == out.response
        else:
            with pytest.raises(kairos.APIStatusError) as info:
                p.chat(REQ)
            assert info.value.partial == out.final.error.partial  # type: ignore[union-attr]
