"""``kairos stream`` with attachments, a reasoning effort, refusals and citations: the CLI as a
user runs it (a subprocess) against a real loopback server."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from harness import load_case
from kairos.serve import EmulatorServer
from loopback import LoopbackServer, Reply
from round_trip import PDF, PNG
from test_cli import kairos


def test_attachments_and_reasoning_reach_the_provider(tmp_path: Path) -> None:
    (tmp_path / "cat.png").write_bytes(PNG)
    (tmp_path / "report.pdf").write_bytes(PDF)
    with EmulatorServer(["A cat and a report."], strict=True) as srv:
        r = kairos(
            "stream", "What are these?", "--provider", "anthropic", "--base-url", srv.url,
            "-a", str(tmp_path / "cat.png"), "--attach", str(tmp_path / "report.pdf"),
            "--reasoning", "low", "--json", ANTHROPIC_API_KEY="k",
        )  # fmt: skip
        sent = srv.requests[0].json()
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["content"] == "A cat and a report."
    blocks = sent["messages"][0]["content"]
    assert [b["type"] for b in blocks] == ["text", "image", "document"]
    assert base64.b64decode(blocks[1]["source"]["data"]) == PNG
    assert blocks[2]["source"]["media_type"] == "application/pdf"
    assert blocks[2]["title"] == "report.pdf"
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}


def test_an_attachment_the_provider_cannot_take_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "cat.png").write_bytes(PNG)
    with LoopbackServer([]) as server:
        r = kairos(
            "stream", "x", "--provider", "ollama", "--base-url", server.url, "-a", str(tmp_path),
        )  # fmt: skip
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "cannot read" in r.stderr
        (tmp_path / "a.pdf").write_bytes(PDF)
        r = kairos(
            "stream", "x", "--provider", "ollama", "--base-url", server.url,
            "-a", str(tmp_path / "a.pdf"),
        )  # fmt: skip
        assert server.requests == []
    assert r.returncode == 2 and r.stderr.startswith("kairos: error: ollama: cannot send document")
    assert r.stderr.count("\n") == 1


def _recorded(fmt: str, case: str) -> Reply:
    _, body = load_case(fmt, case)
    return Reply.body(body, headers={"content-type": "text/event-stream"})


def test_json_has_the_refusal_and_human_output_shows_it() -> None:
    refusal = "I'm sorry, I can't assist with that request."
    replies = [_recorded("openai-chat", "oai-refusal-delta")] * 2
    with LoopbackServer(replies) as server:
        url = server.url + "/v1"
        r = kairos(
            "stream", "--provider", "openai", "--base-url", url, "--json", OPENAI_API_KEY="k"
        )
        human = kairos("stream", "--provider", "openai", "--base-url", url, OPENAI_API_KEY="k")
    out = json.loads(r.stdout)
    assert out["refusal"] == refusal and out["content"] == ""
    assert out["finish_reason"] == "content_filter" and out["citations"] == []
    assert refusal in human.stdout and f"Refusal:             {refusal}" in human.stdout


def test_json_has_the_citations() -> None:
    reply = _recorded("openai-chat", "openrouter-web-search-annotations-comments")
    with LoopbackServer([reply]) as server:
        r = kairos(
            "stream", "--provider", "openrouter", "--base-url", server.url + "/v1", "--json",
            OPENROUTER_API_KEY="k",
        )  # fmt: skip
    out = json.loads(r.stdout)
    assert out["refusal"] is None and out["citations"]
    first = out["citations"][0]
    assert set(first) == {"url", "title", "cited_text", "start", "end"}
    assert first["url"] == "https://github.com/pydantic/pydantic-ai"
