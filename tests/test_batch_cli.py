"""``kairos batch`` as a subprocess: kill -9 then --resume, Ctrl-C, ``-o -`` and exit codes."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from batch_server import Action, BatchServer

ENV = {"OPENAI_API_KEY": "test", "PATH": "", "PYTHONUNBUFFERED": "1"}


def _cmd(src: Path, out: str, url: str, *extra: str) -> list[str]:
    base = [sys.executable, "-m", "kairos", "batch", str(src), "-o", out]
    return [*base, "--provider", "openai", "--base-url", url, *extra]


def _write_input(path: Path, prompts: list[str]) -> None:
    path.write_text(
        "".join(json.dumps({"id": i, "prompt": p}) + "\n" for i, p in enumerate(prompts))
    )


def _done_ids(out: Path) -> list[int]:
    """Ids of the complete lines (a torn last line, if any, does not count)."""
    data = out.read_bytes() if out.exists() else b""
    return [json.loads(x)["id"] for x in data.split(b"\n")[:-1]]


def _wait(cond: Callable[[], bool], limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not cond():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.005)


def _slow(prompt: str, attempt: int) -> Action:
    return ("slow", 0.02, f"answer {prompt}")


def test_kill_9_at_random_points_then_resume_redoes_nothing(tmp_path: Path) -> None:
    n = 400
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    prompts = [f"p{i}" for i in range(n)]
    _write_input(src, prompts)
    rng = random.Random()
    seed = rng.randrange(10**6)
    rng.seed(seed)
    with BatchServer(_slow) as srv:
        for round_ in range(2):
            args = _cmd(src, str(out), srv.url, "--concurrency", "8", "--resume")
            proc = subprocess.Popen(
                args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            at = sum(srv.count.values()) + rng.randrange(10, 150)
            _wait(lambda at=at, p=proc: sum(srv.count.values()) >= at or p.poll() is not None)
            time.sleep(rng.uniform(0, 0.05))
            proc.kill()  # SIGKILL: no cleanup of any kind
            proc.wait(10)
            assert proc.stderr is not None
            proc.stderr.close()
            if round_ == 0:  # as if killed inside a write: a torn line at the end
                with open(out, "ab") as f:
                    f.write(b'{"id":399,"content":"half a li')
            done = _done_ids(out)
            assert len(done) == len(set(done)), f"seed {seed}"
            before = dict(srv.count)
        proc2 = subprocess.run(
            _cmd(src, str(out), srv.url, "--concurrency", "8", "--resume"),
            env=ENV,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc2.returncode == 0, proc2.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == list(range(n)), f"seed {seed}"
    assert all(line["content"] == f"answer p{line['id']}" for line in lines)
    for i in done:  # done before the last resume: never asked for again
        assert srv.count[f"p{i}"] == before[f"p{i}"], f"seed {seed}: id {i} re-requested"
    assert f"{len(done):,} already done (skipped)" in proc2.stderr


def test_ctrl_c_lets_streams_in_flight_finish_exits_130_and_resumes(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_input(src, [f"p{i}" for i in range(100)])

    def slow(prompt: str, attempt: int) -> Action:
        return ("slow", 0.3, f"answer {prompt}")

    with BatchServer(slow) as srv:
        args = _cmd(src, str(out), srv.url, "--concurrency", "4", "--grace", "5")
        proc = subprocess.Popen(args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _wait(lambda: sum(srv.count.values()) >= 6)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=10)
        started = sum(srv.count.values())
        assert proc.returncode == 130, stderr
        assert stdout == b""
        assert b"stopping" in stderr and b"interrupted" in stderr
        done = _done_ids(out)
        assert len(done) == started  # every request in flight finished within the grace
        resumed = subprocess.run(
            [*_cmd(src, str(out), srv.url, "--concurrency", "8"), "--resume"],
            env=ENV,
            capture_output=True,
            timeout=60,
        )
    assert resumed.returncode == 0
    assert sorted(_done_ids(out)) == list(range(100))
    assert sum(srv.count.values()) == 100  # nothing was asked twice


def test_ctrl_c_past_the_grace_cancels_and_writes_nothing_for_them(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_input(src, [f"p{i}" for i in range(10)])
    with BatchServer(lambda p, n: ("stall", 5.0)) as srv:
        args = _cmd(src, str(out), srv.url, "--concurrency", "3", "--grace", "0.2")
        proc = subprocess.Popen(args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _wait(lambda: sum(srv.count.values()) >= 3)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=10)
        assert time.monotonic() - t0 < 3.0
        _wait(lambda: srv.open == 0, 5)  # the cancelled streams were closed
    assert proc.returncode == 130, stderr
    assert _done_ids(out) == []


def test_stdout_output_and_exit_codes(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "prompt": "hi"}\n{"id": "b"}\n\n{"id": "c", "prompt": "yo"}\n')
    with BatchServer(lambda p, n: ("ok", f"re: {p}")) as srv:
        proc = subprocess.run(
            _cmd(src, "-", srv.url), env=ENV, capture_output=True, text=True, timeout=30
        )
        good = tmp_path / "good.jsonl"
        good.write_text('{"id": 1, "prompt": "x"}\n')
        ok = subprocess.run(
            _cmd(good, "-", srv.url), env=ENV, capture_output=True, text=True, timeout=30
        )
    assert proc.returncode == 1  # line 2 is not a request
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    by_id = {line["id"]: line for line in lines}
    assert by_id["a"]["content"] == "re: hi" and by_id["c"]["content"] == "re: yo"
    assert by_id["b"]["error"] == {
        "type": "ConfigurationError",
        "message": "line 2: needs exactly one of prompt or messages",
    }
    assert "1 failed" in proc.stderr
    assert ok.returncode == 0 and json.loads(ok.stdout)["content"] == "re: x"


def test_configuration_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    src, out, fresh = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "o.jsonl"
    src.write_text('{"id": 1, "prompt": "x"}\n')
    out.write_text('{"id": 0}\n')
    openai = ["--provider", "openai", "--base-url", "http://127.0.0.1:9/v1"]
    cases = [
        ([str(tmp_path / "missing.jsonl"), "-o", str(fresh), *openai], ENV),
        ([str(src), "-o", str(out), *openai], ENV),  # exists, and no --resume
        ([str(src), "-o", "-", "--resume", *openai], ENV),
        ([str(src), "-o", str(fresh), "--rpm", "0", *openai], ENV),
        ([str(src), "-o", str(fresh), "--engine", "spark", *openai], ENV),
        ([str(src), "-o", str(fresh)], {"PATH": ""}),  # no provider and no key
    ]
    for argv, env in cases:
        proc = subprocess.run(
            [sys.executable, "-m", "kairos", "batch", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 2, (argv, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stdout == ""
        last = proc.stderr.strip().splitlines()[-1]  # argparse prints its usage first
        assert last.startswith("kairos") and "error: " in last, proc.stderr
    assert not fresh.exists()
    assert out.read_text() == '{"id": 0}\n'


def test_a_closed_stdout_stops_the_run_with_one_line(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    _write_input(src, [f"p{i}" for i in range(300)])
    with BatchServer(_slow) as srv:
        args = _cmd(src, "-", srv.url, "--concurrency", "4")
        proc = subprocess.Popen(args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        assert json.loads(proc.stdout.readline())["error"] is None
        proc.stdout.close()  # like `kairos batch ... -o - | head -1`
        stderr = proc.stderr.read().decode()
        proc.wait(20)
    assert proc.returncode == 1
    assert stderr.strip() == "kairos: error: the output stream was closed; stopping"
    assert sum(srv.count.values()) < 300  # it stopped admitting
