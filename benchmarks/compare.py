"""Same-run before/after: the kairos rows of ``run.py`` for two source trees, interleaved.

    python benchmarks/compare.py --before /path/to/old/checkout/src --after src [--rounds 2]

Each round runs ``run.py --only kairos,httpx,floor --sections cpu,ttft,cancel`` once with the
``before`` tree first on ``PYTHONPATH`` and once with ``after`` (A B A B ...), so both see the
same machine; plain httpx and the raw-socket floor run in every pass as a drift control. Prints
per-chunk CPU (median of every sample), warm TTFT overhead over httpx in the same pass, and
cancel-to-close medians, with the after/before ratio. Run by hand, never by the test suite.
``--also kairos-observed,kairos-otel`` adds clients to the ``after`` passes only (clients the
old tree cannot run: observers, OpenTelemetry).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def one_pass(src: str, extra: list[str], sections: str, also: str = "") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        only = "kairos,httpx,floor" + (f",{also}" if also else "")
        cmd = [sys.executable, str(HERE / "run.py"), "--only", only]
        cmd += ["--sections", sections, "--out", "-", "--json", str(out), *extra]
        env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def collect(passes: list[dict[str, Any]]) -> dict[str, list[float]]:
    rows: dict[str, list[float]] = defaultdict(list)
    for res in passes:
        for r in res.get("cpu", []):
            rows[f"cpu {r['client']} {r['fmt']} {r['mode']} (us/chunk)"] += r["us"]
        ttft = {(r["client"], r["mode"]): statistics.median(r["us"]) for r in res.get("ttft", [])}
        for mode in ("sync", "async") if ttft else ():
            over = ttft[("kairos", mode)] - ttft[("httpx", mode)]
            rows[f"warm TTFT over httpx, {mode} (us)"].append(over)
        for r in res.get("cancel", []):
            rows[f"cancel-to-close {r['way']} (us)"] += r["us"]
    return rows


def _median(values: list[float] | None) -> float | None:
    return statistics.median(values) if values else None


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--before", required=True, help="the old tree's src folder")
    ap.add_argument("--after", required=True, help="the new tree's src folder")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sections", default="cpu,ttft,cancel", help="of run.py: cpu,ttft,cancel")
    ap.add_argument("--also", default="", help="more clients, measured in the after passes")
    args = ap.parse_args()
    extra = ["--quick"] if args.quick else []
    before, after = [], []
    for i in range(args.rounds):
        print(f"round {i + 1}/{args.rounds}: before", file=sys.stderr, flush=True)
        before.append(one_pass(args.before, extra, args.sections))
        print(f"round {i + 1}/{args.rounds}: after", file=sys.stderr, flush=True)
        after.append(one_pass(args.after, extra, args.sections, args.also))
    b, a = collect(before), collect(after)
    print("| measure | before (median) | after (median) | after/before |")
    print("|---|---|---|---|")
    for key in {**b, **a}:  # rows a tree cannot run (a wire it lacks, --also) show "-"
        mb, ma = _median(b.get(key)), _median(a.get(key))
        ratio = f"{ma / mb:.2f}x" if mb and ma else "-"
        if "over httpx" in key and mb is not None and ma is not None:
            ratio = f"{ma - mb:+.2f} us"  # a small difference of two medians: no ratio
        print(f"| {key} | {_cell(mb)} | {_cell(ma)} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
