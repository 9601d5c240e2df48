"""The CLI as a user runs it: a subprocess against a real loopback server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import load_case
from loopback import LoopbackServer, Reply, endless

KEYS = [
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "DASHSCOPE_API_KEY",
    "GROQ_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "OPENAI_BASE_URL",
    "OLLAMA_HOST",
]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env["OLLAMA_HOST"] = "127.0.0.1:9"  # nothing listens there: auto-pick must skip Ollama
    env.update(extra)
    return env


def kairos(*args: str, timeout: float = 30, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kairos", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(**env),
        stdin=subprocess.DEVNULL,  # no PROMPT and a non-terminal stdin: the prompt is read there
    )


# provider, recorded case, base-URL suffix (each official SDK's convention)
FORMATS = [
    ("openai", "openai-chat", "oai-text-stop-usage", "/v1"),
    ("anthropic", "anthropic-messages", "llm-text-basic", ""),
    ("gemini", "gemini", "pai-text-basic", ""),
    ("ollama", "ollama-chat", "sk-phi3-tail-stop-usage", ""),
]


def _reply(body: bytes) -> Reply:
    ctype = "application/x-ndjson" if body.startswith(b"{") else "text/event-stream"
    return Reply.body(body, headers={"content-type": ctype})


@pytest.mark.parametrize(("name", "fmt", "case", "suffix"), FORMATS, ids=[f[0] for f in FORMATS])
def test_human_output_has_the_seed_shape(name: str, fmt: str, case: str, suffix: str) -> None:
    expected, body = load_case(fmt, case)
    with LoopbackServer([_reply(body)]) as server:
        r = kairos(
            "stream",
            "hola",
            "--provider",
            name,
            "--base-url",
            server.url + suffix,
            ANTHROPIC_API_KEY="k",
            GEMINI_API_KEY="k",
        )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:4] == [f"Provider: {name}", "Prompt: hola", "---", "Streaming response:"]
    assert expected["expected"]["content"] in r.stdout
    tail = r.stdout[r.stdout.rindex("\n---\n") :]
    for label in (
        "✓ Streaming completed",
        "Total chunks:",
        "Time to first chunk:",
        "Total time:",
        "Content length:",
        "Token usage:",
        "Prompt:",
        "Completion:",
    ):
        assert label in tail
    usage = expected["expected"]["usage"]
    assert f"Total:      {usage['total_tokens']}" in tail


@pytest.mark.parametrize(("name", "fmt", "case", "suffix"), FORMATS, ids=[f[0] for f in FORMATS])
def test_json_output(name: str, fmt: str, case: str, suffix: str) -> None:
    expected, body = load_case(fmt, case)
    with LoopbackServer([_reply(body)]) as server:
        r = kairos(
            "stream",
            "--provider",
            name,
            "--base-url",
            server.url + suffix,
            "--json",
            ANTHROPIC_API_KEY="k",
            GEMINI_API_KEY="k",
        )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    keys = {
        "content",
        "reasoning",
        "tool_calls",
        "usage",
        "finish_reason",
        "chunks",
        "ttft_ms",
        "total_ms",
        "error",
    }
    assert keys <= set(out)
    assert out["content"] == expected["expected"]["content"]
    assert out["usage"] == expected["expected"]["usage"]
    assert out["error"] is None and out["finish_reason"] == "stop"
    assert out["chunks"] >= 2 and out["total_ms"] >= out["ttft_ms"] > 0


def test_json_tool_calls() -> None:
    _, body = load_case("openai-chat", "oai-tool-parallel")
    with LoopbackServer([_reply(body)]) as server:
        r = kairos("stream", "--provider", "openai", "--base-url", server.url + "/v1", "--json")
    out = json.loads(r.stdout)
    assert [c["name"] for c in out["tool_calls"]] == ["GetWeatherArgs", "get_stock_price"]
    assert out["tool_calls"][1]["arguments"] == {"ticker": "AAPL", "exchange": "NASDAQ"}
    assert out["finish_reason"] == "tool_calls"


def test_401_is_one_line_on_stderr() -> None:
    err = {
        "error": {
            "message": "Incorrect API key provided: sk-secret",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    }
    with LoopbackServer([Reply.json(401, err)]) as server:
        r = kairos(
            "stream",
            "--provider",
            "openai",
            "--base-url",
            server.url + "/v1",
            OPENAI_API_KEY="sk-secret",
        )
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert "HTTP 401" in r.stderr and "sk-secret" not in r.stderr + r.stdout


def test_refused_connection_is_one_line() -> None:
    r = kairos("stream", "--provider", "openai", "--base-url", "http://127.0.0.1:9/v1")
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "could not reach the server" in r.stderr


def test_missing_key_is_a_usage_error() -> None:
    r = kairos("stream", "--provider", "anthropic")
    assert r.returncode == 2
    assert (
        r.stderr.strip()
        == "kairos: error: anthropic: no API key (set ANTHROPIC_API_KEY or pass api_key=)"
    )


def test_offline_default_streams_without_keys() -> None:
    r = kairos("stream")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Provider: offline")
    assert "[offline demo: scripted reply, not a model]" in r.stdout
    assert "✓ Streaming completed" in r.stdout and "Token usage:" in r.stdout


def test_auto_pick_uses_the_first_key_set() -> None:
    _, body = load_case("openai-chat", "oai-text-stop-usage")
    with LoopbackServer([_reply(body)]) as server:
        r = kairos("stream", "--json", OPENAI_API_KEY="k", OPENAI_BASE_URL=server.url + "/v1")
        assert server.requests[0].headers["authorization"] == "Bearer k"
    assert r.returncode == 0 and "provider openai (OPENAI_API_KEY is set)" in r.stderr


@pytest.mark.parametrize(
    ("sig", "status", "label"),
    [
        (signal.SIGINT, 130, "✗ Streaming interrupted"),
        (signal.SIGTERM, 143, "✗ Streaming terminated (SIGTERM)"),  # ends like Ctrl-C
    ],
    ids=["sigint", "sigterm"],
)
def test_signals_cancel_print_partial_stats_and_exit(sig: int, status: int, label: str) -> None:
    piece = b'data: {"choices":[{"index":0,"delta":{"content":"tick "}}]}\n\n'
    with LoopbackServer([Reply(pieces=endless(piece, 0.02, limit=10))]) as server:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kairos",
                "stream",
                "--provider",
                "openai",
                "--base-url",
                server.url + "/v1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=_env(),
        )
        assert proc.stdout is not None
        deadline = time.monotonic() + 15
        seen = ""
        while "tick" not in seen and time.monotonic() < deadline:
            seen += proc.stdout.read(1)
        proc.send_signal(sig)
        rest, err = proc.communicate(timeout=10)
        assert server.disconnected.wait(5)
    assert proc.returncode == status, err
    assert label in rest and "Total chunks:" in rest
    assert "Traceback" not in err


def test_module_and_script_share_help() -> None:
    r = kairos("stream", "--help")
    assert r.returncode == 0 and "--base-url" in r.stdout and "offline demo" in r.stdout
    assert Path(sys.executable).exists()
