"""Foreground commands as subprocesses (``kairos serve``, ``kairos web``): the environment of a
machine with no key, read their output up to a marker, bounded, and stop them with Ctrl-C."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time

from kairos.providers import PRESETS


def offline_env() -> dict[str, str]:
    """This environment without any provider's key or base URL and with no Ollama to find: the
    CLI picks the offline default."""
    keys = {var for p in PRESETS.values() for var in p.key_env}
    env = {k: v for k, v in os.environ.items() if k not in keys and not k.endswith("_BASE_URL")}
    env["OLLAMA_HOST"] = "127.0.0.1:9"  # nothing listens there: the auto-pick skips Ollama
    env["PYTHONUNBUFFERED"] = "1"
    return env


def read_until(proc: subprocess.Popen[bytes], marker: bytes, timeout: float = 20) -> str:
    """Stdout until ``marker`` has arrived, the stream ends or ``timeout`` seconds pass (the
    caller asserts the marker is there)."""
    assert proc.stdout is not None
    out = b""
    deadline = time.monotonic() + timeout
    while marker not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            data = os.read(proc.stdout.fileno(), 4096)
            if not data:
                break
            out += data
    return out.decode()


def interrupt(proc: subprocess.Popen[bytes], timeout: float = 15) -> tuple[int, str]:
    """Ctrl-C; the exit status and stderr (killed if it has not ended within ``timeout``)."""
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err.decode()
