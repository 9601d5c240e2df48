"""Gemini usage: ``candidatesTokenCount`` excludes thought tokens, so kairos' completion count
(which includes reasoning on every wire) is candidates + ``thoughtsTokenCount``; the recorded
cases confirm the rule, and the emulator's ``usageMetadata`` follows it."""

from __future__ import annotations

import json

import httpx

import kairos
from harness import case_names, load_case, run
from kairos.serve import EmulatorServer
from loopback import Reply

KEY = "gemini-usage-test-key"
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="gemini-2.5-flash")


def test_usage_follows_gemini_s_rule_on_every_recorded_case() -> None:
    """candidatesTokenCount excludes thoughts: completion = candidates + thoughts, reasoning =
    thoughts, and the recorded totals are prompt + candidates + thoughts (+ tool-use prompt)."""
    for name in case_names("gemini"):
        case, body = load_case("gemini", name)
        raw = case["expected"]["raw_usage"]
        thoughts = raw.get("thoughts_token_count") or 0
        parts = raw["prompt_token_count"] + raw["candidates_token_count"] + thoughts
        assert raw["total_token_count"] == parts + (raw.get("tool_use_prompt_token_count") or 0)
        u = run("gemini", Reply.body(body), REQ, transport="mock", mode="sync").response.usage
        assert u is not None
        assert u.completion_tokens == raw["candidates_token_count"] + thoughts, name
        assert u.reasoning_tokens == raw.get("thoughts_token_count"), name
        assert u.total_tokens == raw["total_token_count"], name


def test_the_emulator_s_usage_metadata_follows_the_same_rule() -> None:
    usage_in = {"prompt_tokens": 10, "completion_tokens": 30, "reasoning_tokens": 20}
    script = {"replies": [{"reasoning": "hm", "text": "ok", "usage": usage_in}]}
    with EmulatorServer(script) as srv:
        url = f"{srv.url}/v1beta/models/m:streamGenerateContent?alt=sse"
        raw = httpx.post(url, json={"contents": [{"role": "user", "parts": [{"text": "x"}]}]})
        meta = [json.loads(line[5:]) for line in raw.text.splitlines() if line.startswith("data:")]
        last = meta[-1]["usageMetadata"]
        assert last["candidatesTokenCount"] == 10 and last["thoughtsTokenCount"] == 20
        assert last["totalTokenCount"] == 10 + 10 + 20
        with kairos.provider("gemini", base_url=srv.url, api_key=KEY) as p:
            u = p.chat(REQ).usage
    assert u == kairos.Usage(10, 30, 40, reasoning_tokens=20)
