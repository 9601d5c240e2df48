"""The CLI as a hostile or careless user runs it: subprocesses against real loopback servers.

Every failure is one line on stderr and never a traceback; ``--json`` always prints its object;
the exit status says what happened (0, 1 provider/stream, 2 usage/configuration, 130 Ctrl-C,
143 SIGTERM, 141 stdout closed early).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from loopback import LoopbackServer, Reply, endless
from test_cli import _env

DONE = b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'


def event(text: str) -> bytes:
    return (
        b'data: {"choices":[{"index":0,"delta":{"content":'
        + json.dumps(text).encode()
        + b"}}]}\n\n"
    )


def run(
    *args: str | bytes, stdin: bytes | None = None, timeout: float = 30, **env: str
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "kairos", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        env=_env(**env),
    )


def one_line(r: subprocess.CompletedProcess[bytes]) -> str:
    err = r.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return err.strip()


def openai(server: LoopbackServer) -> list[str]:
    return ["--provider", "openai", "--base-url", server.url + "/v1"]


# -- one line per failure, --json always ----------------------------------------------------------
def test_a_failure_is_one_line_without_the_provider_note() -> None:
    refused = Reply.json(401, {"error": {"message": "bad key", "type": "invalid_request_error"}})
    with LoopbackServer(lambda seen: refused) as server:
        for extra in ([], ["--json"]):
            r = run("stream", "hi", *openai(server), *extra, OPENAI_API_KEY="sk-k")
            assert r.returncode == 1
            line = one_line(r)
            assert line.startswith("kairos: error: openai: bad key") and "chosen" not in line
        # picked by kairos (no --provider): the one line says why
        r = run("stream", "hi", "--json", OPENAI_API_KEY="sk-k", OPENAI_BASE_URL=server.url)
        assert r.returncode == 1
        assert one_line(r).endswith("[provider picked: OPENAI_API_KEY is set]")


def _json(r: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    out = json.loads(r.stdout)
    assert isinstance(out, dict)
    return out


def _empty(out: dict[str, Any]) -> None:
    assert out["content"] == "" and out["reasoning"] is None and out["tool_calls"] == []
    assert out["usage"] is None and out["finish_reason"] is None and out["chunks"] == 0
    assert out["ttft_ms"] is None and out["total_ms"] is None


def test_json_is_printed_when_the_call_fails_before_the_stream() -> None:
    refused = Reply.json(429, {"error": {"message": "slow down", "type": "requests"}})
    with LoopbackServer(lambda seen: refused) as server:
        r = run("stream", "hi", *openai(server), "--json", OPENAI_API_KEY="k")
    assert r.returncode == 1
    out = _json(r)
    assert out["error"]["type"] == "RateLimitError" and "slow down" in out["error"]["message"]
    assert out["provider"] == "openai"
    _empty(out)
    one_line(r)

    r = run("stream", "hi", "--provider", "openai", "--base-url", "http://127.0.0.1:9", "--json")
    assert r.returncode == 1 and _json(r)["error"]["type"] == "ConnectError"
    _empty(_json(r))

    r = run("stream", "hi", "--provider", "anthropic", "--json")  # no key: configuration
    assert r.returncode == 2 and _json(r)["error"]["type"] == "ConfigurationError"
    _empty(_json(r))
    one_line(r)

    r = run("stream", "hi", "--json", "--timeout", "nan")  # a usage error
    assert r.returncode == 2 and _json(r)["error"]["type"] == "ConfigurationError"
    assert _json(r)["provider"] is None and "--timeout" in _json(r)["error"]["message"]
    one_line(r)


@pytest.mark.parametrize(
    ("pieces", "clock"),
    [
        ([2.0, DONE], "timed out after 0.3s waiting for the first chunk"),
        ([event("a"), 2.0, DONE], "timed out after 0.3s waiting for the next chunk (idle)"),
    ],
    ids=["first-chunk", "idle"],
)
def test_timeout_messages_name_the_clock(pieces: list[Any], clock: str) -> None:
    with LoopbackServer(lambda seen: Reply(pieces=pieces)) as server:
        r = run("stream", "hi", *openai(server), "--timeout", "0.3", "--json")
    assert r.returncode == 1
    out = _json(r)
    assert out["error"]["message"] == f"openai: {clock}"
    assert one_line(r) == f"kairos: error: openai: {clock}"


# -- no traceback, ever ---------------------------------------------------------------------------
def test_stdout_closed_early_exits_quietly() -> None:
    with LoopbackServer(lambda seen: Reply(pieces=endless(event("tick "), 0.01, 10))) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kairos", "stream", "hi", *openai(server)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=_env(),
        )
        assert proc.stdout is not None and proc.stderr is not None
        head = b""
        while b"tick" not in head and len(head) < 10_000:  # `| head`, once the reply streams
            head += proc.stdout.read(1)
        proc.stdout.close()
        proc.wait(timeout=15)
        err = proc.stderr.read().decode()
        assert server.disconnected.wait(5)  # the stream was closed, not left running
    assert head.endswith(b"tick")
    assert proc.returncode == 141, err
    assert err == ""


def test_ascii_only_stdout_degrades_instead_of_crashing() -> None:
    body = event("café ☕ ") + event("ok") + DONE
    with LoopbackServer(lambda seen: Reply(pieces=[body])) as server:
        r = run("stream", "hola", *openai(server), PYTHONIOENCODING="ascii")
        assert r.returncode == 0, r.stderr
        assert b"caf? ? ok" in r.stdout and not r.stderr
        r = run("stream", "hola", *openai(server), "--json", PYTHONIOENCODING="ascii")
    assert r.returncode == 0 and _json(r)["content"] == "café ☕ ok"  # escaped, exact
    assert r.stdout.isascii()


@pytest.mark.parametrize(
    "args",
    [
        [b"stream", b"caf\xe9"],  # Latin-1 bytes: not UTF-8
        [b"stream", b"hi", b"--system", b"\xff\xfe"],
        ["stream", "caf\udce9"],  # a lone surrogate (what Python makes of such bytes)
    ],
    ids=["latin1", "system", "surrogate"],
)
def test_undecodable_argv_is_a_usage_error(args: list[Any]) -> None:
    r = run(*args)
    assert r.returncode == 2
    assert "not valid text" in one_line(r)


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "1e400", "0", "soon"])
def test_bad_timeouts_are_usage_errors(value: str) -> None:
    r = run("stream", "hi", "--timeout", value)
    assert r.returncode == 2
    assert one_line(r).startswith("kairos stream: error: argument --timeout:")


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--provider", "openai", "--base-url", "http://[::1"], {}, "base_url"),
        (["--provider", "openai", "--base-url", "http://h:99999"], {}, "bad port"),
        (["--provider", "ollama"], {"OLLAMA_HOST": "http://[::1"}, "OLLAMA_HOST"),
        ([], {"OLLAMA_HOST": "127.0.0.1:bad"}, "OLLAMA_HOST"),  # picked by kairos
        (["--provider", "openai"], {"ALL_PROXY": "socks5://127.0.0.1:1"}, "socks"),
        (["--provider", "openai"], {"HTTPS_PROXY": "http://[::1:bad"}, "HTTPS_PROXY"),
    ],
    ids=["ipv6", "port", "ollama-host", "ollama-host-auto", "socks", "proxy-url"],
)
def test_bad_addresses_and_proxies_are_one_line_exit_2(
    args: list[str], env: dict[str, str], named: str
) -> None:
    r = (
        run("stream", "hi", *args, OPENAI_API_KEY="k", **env)
        if args
        else run("stream", "hi", **env)
    )
    assert r.returncode == 2, r.stderr
    assert named in one_line(r)


def test_a_key_with_a_crlf_never_shows_on_stderr() -> None:
    key = "sk-crlf-secret-0123456789"

    def echo(seen: Any) -> Reply:
        got = seen.headers.get("authorization", "")
        return Reply.json(401, {"error": {"message": f"bad key {got!r}", "type": got}})

    with LoopbackServer(echo) as server:
        r = run("stream", "hi", *openai(server), "--json", OPENAI_API_KEY=key + "\r\n")
        assert server.requests[0].headers["authorization"] == f"Bearer {key}"
    assert r.returncode == 1
    assert b"crlf-secret" not in r.stderr + r.stdout and "[redacted]" in one_line(r)


# -- the prompt from stdin -------------------------------------------------------------------------
def _prompt_sent(server: LoopbackServer) -> str:
    return str(server.requests[-1].json()["messages"][-1]["content"])


def test_the_prompt_comes_from_stdin() -> None:
    body = event("ok") + DONE
    with LoopbackServer(lambda seen: Reply(pieces=[body])) as server:
        r = run("stream", *openai(server), stdin=b"piped question\n")  # `echo ... | kairos`
        assert r.returncode == 0, r.stderr
        assert _prompt_sent(server) == "piped question"
        assert b"Prompt: piped question  (14 characters from stdin)" in r.stdout
        r = run("stream", "-", *openai(server), stdin="línea 1\nlínea 2\n".encode())
        assert r.returncode == 0 and _prompt_sent(server) == "línea 1\nlínea 2"
        r = run("stream", *openai(server))  # stdin empty (/dev/null): the demo prompt
        assert r.returncode == 0 and "Go" in _prompt_sent(server)
        r = run("stream", "argument wins", *openai(server), stdin=b"ignored")
        assert r.returncode == 0 and _prompt_sent(server) == "argument wins"
        count = len(server.requests)
    r = run("stream", "-", "--provider", "openai", stdin=b"")
    assert r.returncode == 2 and "stdin is empty" in one_line(r)
    r = run("stream", "-", "--provider", "openai", "--base-url", server.url, stdin=b"\xff\xfe")
    assert r.returncode == 2 and "stdin" in one_line(r)
    assert count == 4


# -- providers -------------------------------------------------------------------------------------
def test_providers_is_an_aligned_table() -> None:
    r = run("providers")
    assert r.returncode == 0 and not r.stderr
    lines = r.stdout.decode().splitlines()
    header = lines[0]
    assert header.split()[:2] == ["PROVIDER", "API"]
    starts = [header.index(col) for col in ("API KEY", "BASE URL", "NOTE")]
    for line in lines[1:]:
        for start in starts[:2]:
            assert line[start - 2 : start] == "  " and line[start] != " ", line
    assert any("OPENAI_API_KEY" in line for line in lines) and len(lines) > 10
