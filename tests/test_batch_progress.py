"""``kairos batch`` progress as a person sees it: redrawn in place on a real terminal (a pty),
and as plain lines with ``--progress`` when stderr is a pipe; then the summary."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from batch_server import Action, BatchServer

ENV = {"OPENAI_API_KEY": "test", "PATH": "", "PYTHONUNBUFFERED": "1"}
LINE = re.compile(
    r"kairos batch: (\d+) done \| (\d+) failed \| (\d+) in flight \| [\d.]+ req/s \| "
    r"[\d,]+ tok/s(?: \| ETA \S+)?"
)


def _input(path: Path, n: int) -> None:
    path.write_text("".join(json.dumps({"id": i, "prompt": f"p{i}"}) + "\n" for i in range(n)))


def _cmd(src: Path, out: Path, url: str, *extra: str) -> list[str]:
    base = [sys.executable, "-m", "kairos", "batch", str(src), "-o", str(out)]
    return [*base, "--provider", "openai", "--base-url", url, "--concurrency", "2", *extra]


def _slow(prompt: str, attempt: int) -> Action:
    return ("slow", 0.15, f"answer {prompt}")


def _read_pty(fd: int, proc: subprocess.Popen[bytes], limit: float = 60.0) -> str:
    """Everything the child writes to the terminal until it exits (bounded)."""
    got = bytearray()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed its side
                break
            if not data:
                break
            got += data
        elif proc.poll() is not None:
            break
    return got.decode("utf-8", "replace")


def test_a_terminal_sees_the_line_redrawn_then_the_summary(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _input(src, 16)  # 8 rounds of 0.15 s at concurrency 2: several redraws at 0.5 s
    master, slave = pty.openpty()
    with BatchServer(_slow) as srv:
        proc = subprocess.Popen(
            _cmd(src, out, srv.url), env=ENV, stdout=subprocess.DEVNULL, stderr=slave
        )
        os.close(slave)
        try:
            screen = _read_pty(master, proc)
        finally:
            os.close(master)
            proc.wait(timeout=30)
    assert proc.returncode == 0
    draws = screen.split("\r\x1b[2K")
    lines = [m for d in draws if (m := LINE.match(d))]
    assert len(lines) >= 2, screen  # redrawn in place, not appended
    done = [int(m.group(1)) for m in lines]
    assert done == sorted(done) and done[-1] <= 16
    assert all(int(m.group(3)) <= 2 for m in lines)  # never more in flight than allowed
    assert "ETA" in screen
    assert draws[-1].startswith("kairos batch finished: 16 ok, 0 failed"), draws[-1]
    assert len(out.read_text().splitlines()) == 16


def test_progress_on_a_pipe_prints_plain_lines(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _input(src, 4)
    with BatchServer(_slow) as srv:
        quiet = subprocess.run(
            _cmd(src, out, srv.url), env=ENV, capture_output=True, text=True, timeout=60
        )
        out.unlink()
        shown = subprocess.run(
            _cmd(src, out, srv.url, "--progress"),
            env=ENV,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert quiet.returncode == shown.returncode == 0
    assert not LINE.search(quiet.stderr) and "\r" not in quiet.stderr
    first = shown.stderr.splitlines()[0]
    assert LINE.fullmatch(first), shown.stderr  # a plain line, no terminal control codes
    assert "\x1b" not in shown.stderr
    assert "kairos batch finished: 4 ok, 0 failed" in shown.stderr
    assert "kairos batch finished: 4 ok, 0 failed" in quiet.stderr
