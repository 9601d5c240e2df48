"""The README's kairos.testing examples run as files, offline, and print what they promise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"

EXPECTED = {
    "testing_scripted.py": (
        "It is 18 degrees in Paris.\n"
        "tool result sent back: '18 degrees in Paris'\n"
        "requests: 2, replies left: 0\n"
    ),
    "testing_function.py": (
        "HELLO |STREAMING |WORLD |\n"
        "finish=stop\n"
        "OverloadedError: gemini: scripted overload (HTTP 503); kept 'Partial answer'\n"
    ),
    "testing_replay.py": "Hello! stop 40\nrequests seen: 1 to /v1/messages\n",
    # the real provider points at a closed loopback port: even a broken guard stays offline
    "testing_guard.py": (
        "doubles still work\n"
        "blocked: kairos.testing.block_network: blocked a real POST to "
        "http://127.0.0.1:9/v1/chat/completions; use ScriptedProvider, FunctionProvider or "
        "ReplayTransport (or allow_loopback=True for a local server)\n"
    ),
}


def _env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_API_KEY", "_BASE_URL")) and k != "OLLAMA_HOST"
    }
    env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"
    return env


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_offline(name: str) -> None:
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == EXPECTED[name]
