"""``kairos batch`` under load, as a subprocess against an instrumented loopback server: 2,000
requests mixing successes, 429s with Retry-After, resets, in-band errors, stalls and truncated
bodies. Exactly one line per id, every failure typed, and the server never sees more than
ceil(rpm/60) starts in any 1 s window, more than --concurrency open streams, or a start while
the pool is backing off."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from batch_server import Action, BatchServer, max_in_window

N = 2000
RPM = 36_000  # 600 starts a second
CONCURRENCY = 32
RETRY_AFTER = 0.5
# a request the client sent just before it read a 429 can reach the server a little later on a
# loaded machine: starts are checked from LATE seconds after the 429 was sent
LATE = 0.1


def kind_of(i: int) -> str:
    """Deterministic mix: mostly successes, each fault on a fixed residue."""
    if i % 500 == 7:
        return "r429"  # 4 ids: a 429 with Retry-After, then success
    if i % 1000 == 11:
        return "first"  # 2 ids: in-band overload before any chunk, then success
    for k, kind in enumerate(("reset", "resetall", "mid", "stall", "trunc")):
        if i % 100 == 20 + k:
            return kind
    return "ok"


EXPECTED = {  # kind -> (error type or None, attempts)
    "ok": (None, 1),
    "r429": (None, 2),
    "first": (None, 2),
    "reset": (None, 2),
    "resetall": ("ConnectError", 3),
    "mid": ("ServerError", 1),
    "stall": ("FirstChunkTimeout", 1),
    "trunc": ("IncompleteStreamError", 1),
}


def behave(prompt: str, attempt: int) -> Action:
    kind = prompt.split()[0]
    if kind == "r429" and attempt == 1:
        return ("status", 429, RETRY_AFTER)
    if kind == "first" and attempt == 1:
        return ("fail_first", "overloaded")
    if (kind == "reset" and attempt == 1) or kind == "resetall":
        return ("reset",)
    return {
        "mid": ("fail_mid", "server"),
        "stall": ("stall", 3.0),
        "trunc": ("truncate",),
    }.get(kind, ("slow", 0.04, f"answer to {prompt}"))  # 40 ms: enough to fill every slot


def test_two_thousand_mixed_requests_keep_every_limit(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(
        "".join(json.dumps({"id": i, "prompt": f"{kind_of(i)} {i}"}) + "\n" for i in range(N))
    )
    with BatchServer(behave) as srv:
        proc = subprocess.run(
            [
                *[sys.executable, "-m", "kairos", "batch", str(src), "-o", str(out)],
                *["--provider", "openai", "--base-url", srv.url, "--timeout", "0.4"],
                *["--rpm", str(RPM), "--concurrency", str(CONCURRENCY), "--max-attempts", "3"],
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={"OPENAI_API_KEY": "test", "PATH": ""},
        )
    assert proc.returncode == 1, proc.stderr  # some lines failed, by design
    assert proc.stdout == ""
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == list(range(N))  # one line per id
    for line in lines:
        kind = kind_of(line["id"])
        error, attempts = EXPECTED[kind]
        assert (line["error"] or {}).get("type") == error, line
        assert line["stats"]["attempts"] == attempts, line
        if error is None:
            assert line["content"] == f"answer to {kind} {line['id']}"
            assert line["finish_reason"] == "stop" and line["usage"]["completion_tokens"] > 0
    # the server's view of the limits
    assert len(srv.starts) == sum(EXPECTED[kind_of(i)][1] for i in range(N))
    assert max_in_window(srv.starts, 1.0) <= math.ceil(RPM / 60)
    assert srv.max_open <= CONCURRENCY
    assert len(srv.errors_sent) == 4
    for sent, retry_after in srv.errors_sent:  # the whole pool waited out each Retry-After
        quiet = [t for t in srv.starts if sent + LATE < t < sent + retry_after - 0.02]
        assert quiet == [], f"{len(quiet)} starts during a pool back-off"
    assert "ConnectError: 20" in proc.stderr and "tokens in/out" in proc.stderr
