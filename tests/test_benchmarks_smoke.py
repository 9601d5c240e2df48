"""A CI-safe smoke run of the benchmark harness (benchmarks/run.py --quick) so it never rots.

Tiny sizes, only the clients that need nothing from benchmarks/requirements.txt (the floor,
plain httpx and kairos), no timing assertions: every measured row must have produced numbers
and every stream must have delivered exactly what the server sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
M_READY = "kairos ready (import kairos; kairos.provider), timer"


def test_quick_benchmark_run_measures_every_row(tmp_path: Path) -> None:
    raw = tmp_path / "raw.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--inline",
           "--only", "floor,httpx,kairos", "--out", str(tmp_path / "RESULTS.md"),
           "--json", str(raw)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(raw.read_text())

    cpu = res["cpu"]
    expected = {
        (c, f, m)
        for c in ("floor", "httpx", "kairos")
        for f in ("openai", "anthropic", "gemini", "ollama", "responses")
        for m in ("sync", "async")
    }
    assert {(r["client"], r["fmt"], r["mode"]) for r in cpu} == expected
    assert {(r["client"], r["fmt"]) for r in res["bulk"]} == {(c, f) for c, f, _ in expected}
    for r in cpu + res["bulk"] + res["linear"]:
        assert r["ok"], r  # the stream's contents matched what the server sent
        assert len(r["us"]) == res["sizes"]["reps"] and all(x > 0 for x in r["us"]), r
    assert res["server"]["cps"] and all(x > 0 for x in res["server"]["cps"])
    for r in res["ttft"]:
        assert r["us"] and all(x > 0 for x in r["us"]), r
    assert {r["module"] for r in res["import"]} == {"httpx", "kairos", M_READY, "httpx, timer"}
    for r in res["import"] + res["cold"]:
        assert r["ms"] and all(x > 0 for x in r["ms"]), r
    assert not any(".providers." in m or m.endswith(".cli") for m in res["kairos_modules"])
    for r in res["concurrency"]:
        assert r["ok"] and r["wall"][0] > 0 and r["rss_mb"][0] > 0, r
    gateway = {(r["client"], r["users"]) for r in res["gateway"]}
    assert gateway == {(c, u) for c in ("floor", "httpx", "kairos") for u in (5, 20)}
    for r in res["gateway"]:  # every user's stream delivered exactly what the server sent
        assert r["ok"] and r["chunks"] == r["users"] * 10 and r["connections"] >= 1, r
    kairos_ways = [r for r in res["cancel"] if r["way"].startswith("kairos")]
    assert len(kairos_ways) == 7
    for r in kairos_ways:
        assert r["not_closed"] == 0 and len(r["us"]) == r["repeats"], r
    report = (tmp_path / "RESULTS.md").read_text()
    assert "## Targets (issue 6)" in report and "| kairos |" in report
