"""``kairos serve`` as a user runs it: a subprocess that prints the base URLs, answers, and stops
cleanly on Ctrl-C; bad script files are one line on stderr and exit 2. Also runs the example
script ``examples/serve_script.yaml`` through the emulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import kairos
from kairos.serve import EmulatorServer
from procs import interrupt, read_until

EXAMPLE = Path(__file__).parent.parent / "examples" / "serve_script.yaml"
REQ = kairos.ChatRequest([kairos.Message.user("hello")])


def _start(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "kairos", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _read_banner(proc: subprocess.Popen[bytes], timeout: float = 20) -> dict[str, str]:
    """The ``VAR=value`` lines of the banner, read until "press Ctrl-C" (bounded)."""
    text = read_until(proc, b"press Ctrl-C", timeout)
    assert "press Ctrl-C" in text, text
    lines = [ln.strip() for ln in text.splitlines() if "=" in ln]
    return dict(ln.split("=", 1) for ln in lines)


def test_serve_prints_base_urls_answers_and_stops_on_ctrl_c() -> None:
    proc = _start(str(EXAMPLE))
    try:
        urls = _read_banner(proc)
        assert urls["OPENAI_BASE_URL"].startswith("http://127.0.0.1:")
        assert urls["OPENAI_BASE_URL"].endswith("/v1")
        assert urls["DASHSCOPE_BASE_URL"].endswith("/compatible-mode/v1")
        assert {"ANTHROPIC_BASE_URL", "GEMINI_BASE_URL", "OLLAMA_HOST"} <= set(urls)
        weather = kairos.Tool("get_weather", "Weather for a city")
        req = kairos.ChatRequest(
            [kairos.Message.user("weather in Paris and Tokyo?")], tools=[weather]
        )
        with kairos.provider("gemini", base_url=urls["GEMINI_BASE_URL"], api_key="test-key") as p:
            resp = p.chat(req)
        assert [c.parsed_arguments()["city"] for c in resp.tool_calls] == ["Paris", "Tokyo"]
    finally:
        code, err = interrupt(proc)
    assert code == 0, err
    assert "Traceback" not in err
    assert "POST /v1beta/models/gemini-2.5-flash:streamGenerateContent -> 200" in err


def test_serve_without_a_script_answers_with_the_demo() -> None:
    proc = _start("--port", "0")
    try:
        urls = _read_banner(proc)
        with kairos.provider("ollama", base_url=urls["OLLAMA_HOST"]) as p:
            resp = p.chat(REQ)
        assert "[offline demo: scripted reply, not a model]" in resp.content
    finally:
        code, err = interrupt(proc)
    assert code == 0 and "Traceback" not in err


def test_serve_sigterm_also_stops_cleanly() -> None:
    proc = _start(str(EXAMPLE))
    try:
        _read_banner(proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err.decode()


BAD_SCRIPTS = [
    ("bad.yaml", "replies: [text: 'unclosed", "invalid YAML at line 1"),
    ("bad.json", '{"replies": [}', "invalid JSON"),
    ("keys.yaml", "replies:\n  - txt: hello\n", "unknown reply key(s) ['txt']"),
    ("delay.yaml", "replies:\n  - text: hi\n    delay_first: soon\n", "delay_first must be"),
    ("mixed.yaml", "replies:\n  - status: 429\n    text: hi\n", "cannot have reply content"),
    ("empty.yaml", "replies: []\n", "'replies' must be a non-empty list"),
    ("top.yaml", "replys: []\n", "unknown top-level key 'replys'"),
    ("rec.yaml", "replies:\n  - recorded: nowhere.sse\n", "cannot read recorded body"),
    ("fail.yaml", "replies:\n  - text: a\n    fail: melted\n", "unknown failure kind"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD_SCRIPTS, ids=[b[0] for b in BAD_SCRIPTS])
def test_bad_script_is_one_line_and_exit_2(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(kairos.ConfigurationError) as info:
        EmulatorServer(tmp_path / name)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(tmp_path / name) in str(info.value)  # names the file


@pytest.mark.parametrize(
    "args",
    [["missing.yaml"], ["bad.yaml"], ["--recorded", "nowhere"], ["--port", "70000"]],
    ids=["missing", "invalid", "recorded-dir", "port"],
)
def test_cli_errors_are_one_line_exit_2(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "bad.yaml").write_text("replies:\n  - txt: hello\n")
    r = subprocess.run(
        [sys.executable, "-m", "kairos", "serve", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and r.stdout == ""
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(("kairos: error:", "kairos serve: error:"))
    if args[0] != "--port":  # argparse adds its usage line before its own error line
        assert r.stderr.strip().count("\n") == 0


def test_example_script_through_the_emulator() -> None:
    with EmulatorServer(EXAMPLE) as srv:
        url = srv.base_urls["ANTHROPIC_BASE_URL"]
        with kairos.provider("anthropic", base_url=url, api_key="test-key") as p:
            resp = p.chat(REQ)  # a 429 with Retry-After first: the default policy retries
            assert resp.content.startswith("Hello! This reply comes from kairos serve")
            assert resp.reasoning == "The user says hello; answer briefly."
            assert len(srv.requests) == 2
            weather = kairos.Tool("get_weather", "Weather for a city")
            asked = kairos.ChatRequest([kairos.Message.user("weather?")], tools=[weather])
            calls = p.chat(asked).tool_calls
            assert [(c.name, c.parsed_arguments()) for c in calls] == [
                ("get_weather", {"city": "Paris"}),
                ("get_weather", {"city": "Tokyo"}),
            ]
        with (
            kairos.provider("anthropic", base_url=url, api_key="test-key", max_retries=0) as p,
            pytest.raises(kairos.OverloadedError) as info,
        ):
            p.chat(kairos.ChatRequest([kairos.Message.user("overloaded?")]))
        assert info.value.partial is not None
        assert info.value.partial.content == "Starting to answer"
