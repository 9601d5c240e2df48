"""The README's examples run as files against a loopback OpenAI-format server (the reasoning
tool loop against ``kairos serve --strict``)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from loopback import LoopbackServer, Reply, endless

EXAMPLES = Path(__file__).parent.parent / "examples"


def _sse(*texts: str, done: bool = True) -> bytes:
    out = b""
    for t in texts:
        out += b'data: {"choices":[{"index":0,"delta":{"content":"%s"}}]}\n\n' % t.encode()
    if done:
        out += b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
        usage = b'"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}'
        out += b'data: {"choices":[],%s}\n\n' % usage
        out += b"data: [DONE]\n\n"
    return out


def run(
    name: str, reply: Reply, *, await_hangup: bool = False
) -> tuple[subprocess.CompletedProcess[str], LoopbackServer]:
    with LoopbackServer([reply]) as server:
        env = {**os.environ, "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.url + "/v1"}
        r = subprocess.run(
            [sys.executable, str(EXAMPLES / name)],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )
        if await_hangup:  # the server notices the hang-up on its next write: give it that long
            server.disconnected.wait(5.0)
    return r, server


def test_basic() -> None:
    r, _ = run("basic.py", Reply.body(_sse("En canales ", "fluye")))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "En canales fluye\nTokens: 7\n"


def test_errors_reports_a_broken_stream_and_keeps_the_text() -> None:
    r, _ = run("errors.py", Reply.body(_sse("Hola ", "mun", done=False)))
    assert r.returncode == 0, r.stderr
    assert "Hola mun" in r.stdout and "Stream error:" in r.stdout
    assert "Kept so far: 'Hola mun'" in r.stdout


def test_errors_reports_rate_limit_before_output() -> None:
    reply = Reply.json(
        429,
        {"error": {"message": "slow down", "type": "rate_limit_exceeded"}},
        headers={"retry-after": "0"},
    )
    with LoopbackServer([reply, reply, reply]) as server:
        env = {**os.environ, "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.url + "/v1"}
        r = subprocess.run(
            [sys.executable, str(EXAMPLES / "errors.py")],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )
        assert len(server.requests) == 3  # two retries, then the error
    assert r.stdout.strip() == "Rate limited; retry after 0.0s"


def test_cancel_breaks_and_closes_the_connection() -> None:
    piece = b'data: {"choices":[{"index":0,"delta":{"content":"uno stop "}}]}\n\n'
    r, server = run("cancel.py", Reply(pieces=endless(piece, 0.01, limit=10)), await_hangup=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "uno stop"
    assert server.disconnects == 1


def _serve_strict(script: Path) -> tuple[subprocess.Popen[str], str]:
    """``kairos serve --strict SCRIPT`` as a user starts it; returns the process and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kairos", "serve", str(script), "--strict"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(20)  # bounded: the banner's first line names the URL
    if not found or " at http" not in found[0]:
        proc.kill()
        raise AssertionError(f"kairos serve did not start: {found}")
    return proc, found[0].rsplit(" at ", 1)[1].strip()


def test_reasoning_tool_loop_runs_against_the_strict_emulator() -> None:
    proc, url = _serve_strict(EXAMPLES / "reasoning_loop.yaml")
    try:
        runs = [
            (["anthropic"], {"ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": "x"}),
            (["deepseek/deepseek-chat", url + "/v1"], {"DEEPSEEK_API_KEY": "x"}),
            (["gemini/gemini-3-pro-preview"], {"GEMINI_BASE_URL": url, "GEMINI_API_KEY": "x"}),
        ]
        for args, env in runs:
            r = subprocess.run(
                [sys.executable, str(EXAMPLES / "reasoning_tool_loop.py"), *args],
                capture_output=True,
                text=True,
                timeout=30,
                env={**os.environ, **env},
            )
            assert r.returncode == 0, (args, r.stderr)
            assert r.stdout == "It is sunny in Paris, 21 degrees.\n"
    finally:
        proc.terminate()
        _, log = proc.communicate(timeout=20)
    answered = [line for line in log.splitlines() if " -> " in line]
    assert len(answered) == 6 and all(line.endswith("-> 200") for line in answered), log
