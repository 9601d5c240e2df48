"""Turn the runner's rows into the markdown printed and written to RESULTS.md."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from measure import cpu_model

HERE = Path(__file__).resolve().parent


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def mm(xs: list[float], d: int = 1) -> str:
    """median [min-max]"""
    if not xs:
        return "n/a"
    return f"{med(xs):.{d}f} [{min(xs):.{d}f}-{max(xs):.{d}f}]"


def progress(row: dict[str, Any]) -> None:
    state = "ok" if row["ok"] else f"FAILED {row.get('error', 'wrong contents')}"
    print(
        f"  {row['client']:17} {row['fmt']:9} {row['mode']:5} n={row['n']:<6} "
        f"{mm(row['us'], 2)} us/chunk {state}",
        file=sys.stderr,
        flush=True,
    )


def note(section: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {section}", file=sys.stderr, flush=True)


def _versions() -> str:
    out = []
    for dist in ("kairos-llm", "httpx", "httpcore", "h11", "openai", "anthropic", "litellm"):
        try:
            out.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            out.append(f"{dist} (not installed)")
    return ", ".join(out)


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return [*out, ""]


def _cpu_index(res: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["client"], r["fmt"], r["mode"]): r for r in res.get("cpu", [])}


def cpu_table(res: dict[str, Any], key: str = "cpu") -> list[str]:
    idx = {(r["client"], r["fmt"], r["mode"]): r for r in res.get(key, [])}
    rows = []
    for r in res.get(key, []):
        floor = idx.get(("floor", r["fmt"], r["mode"]))
        ratio = med(r["us"]) / med(floor["us"]) if floor and floor["us"] and r["us"] else None
        rows.append(
            [
                r["client"],
                r["fmt"],
                r["mode"],
                str(r["n"]),
                mm(r["us"], 2),
                f"{med(r['cps']):,.0f}" if r["cps"] else "n/a",
                f"{ratio:.2f}x" if ratio else "n/a",
                "yes" if r["ok"] else f"NO {r.get('error', '')}",
            ]
        )
    head = ["client", "wire", "mode", "chunks", "CPU us/chunk", "chunks/s", "vs floor", "correct"]
    return _table(head, rows)


def _cpu_targets(res: dict[str, Any], key: str, label: str) -> list[list[str]]:
    out = []
    idx = {(r["client"], r["fmt"], r["mode"]): r for r in res.get(key, [])}
    for (client, fmt, mode), r in idx.items():
        fl, hx = idx.get(("floor", fmt, mode)), idx.get(("httpx", fmt, mode))
        if client != "kairos" or not (fl and hx and r["us"] and fl["us"] and hx["us"]):
            continue
        k, f, h = med(r["us"]), med(fl["us"]), med(hx["us"])
        ok2, okh = k <= 2 * f, k < h
        gap = [] if ok2 else [f"{k - 2 * f:+.2f} us over 2x floor"]
        gap += [] if okh else [f"{k - h:+.2f} us vs httpx"]
        verdict = {
            (True, True): "met",
            (True, False): "2x floor met; < httpx MISSED",
            (False, True): "< httpx met; 2x floor MISSED",
        }.get((ok2, okh), "MISSED")
        out.append(
            [
                f"CPU/chunk {fmt} {mode}{label}: <= 2x floor, < httpx",
                f"{k:.2f} us = {k / f:.2f}x floor, {k / h:.2f}x httpx",
                verdict,
                "; ".join(gap),
            ]
        )
    return out


def targets(res: dict[str, Any]) -> list[list[str]]:
    out = _cpu_targets(res, "cpu", "") + _cpu_targets(res, "bulk", " (bulk reads)")
    lin = res.get("linear", [])
    for i in range(0, len(lin) - 1, 2):
        a, b = med(lin[i]["us"]), med(lin[i + 1]["us"])
        ok = b <= 1.5 * a
        out.append(
            [
                f"linear work ({lin[i]['kind']}): per-chunk at 10x length",
                f"{b:.2f} vs {a:.2f} us = {b / a:.2f}x",
                "met" if ok else "MISSED",
                "",
            ]
        )
    imp = {r["module"]: med(r["ms"]) for r in res.get("import", [])}
    if "kairos" in imp and "httpx" in imp:
        k, h = imp["kairos"], imp["httpx"]
        lazy = not any(".providers." in m or m.endswith(".cli") for m in res["kairos_modules"])
        ok = k <= 1.2 * h and lazy
        out.append(
            [
                "import kairos <= 1.2x import httpx, providers/CLI lazy",
                f"{k:.1f} vs {h:.1f} ms = {k / h:.2f}x; lazy: {lazy}",
                "met" if ok else "MISSED",
                "" if ok else f"{k - 1.2 * h:+.1f} ms",
            ]
        )
        ready = [r for r in res["import"] if r["module"].startswith("kairos ready")]
        if ready:
            r = med(ready[0]["ms"])
            h = imp.get("httpx, timer", h)
            ok = r <= 1.2 * h
            out.append(
                [
                    "same, counting the client half loaded on first use (kairos + httpx)",
                    f"{r:.1f} vs {h:.1f} ms = {r / h:.2f}x",
                    "met" if ok else "MISSED",
                    "" if ok else f"{r - 1.2 * h:+.1f} ms",
                ]
            )
    tt = {r["client"] + r["mode"]: med(r["us"]) for r in res.get("ttft", [])}
    for mode in ("sync", "async"):
        if "kairos" + mode in tt:
            d = tt["kairos" + mode] - tt["httpx" + mode]
            out.append(
                [
                    f"warm TTFT overhead vs httpx ({mode}) <= 100 us",
                    f"{d:+.0f} us",
                    "met" if d <= 100 else "MISSED",
                    "",
                ]
            )
    cc = {r["client"]: r for r in res.get("concurrency", []) if r.get("ok")}
    if "kairos" in cc and "httpx" in cc:
        k, h = cc["kairos"], cc["httpx"]
        rw, rr = med(k["wall"]) / med(h["wall"]), med(k["rss_mb"]) / med(h["rss_mb"])
        out.append(
            [
                f"{k['streams']} async streams: wall and peak RSS <= 1.2x httpx",
                f"wall {rw:.2f}x, RSS {rr:.2f}x",
                "met" if rw <= 1.2 and rr <= 1.2 else "MISSED",
                "",
            ]
        )
    for r in res.get("cancel", []):
        if r["way"].startswith("kairos"):
            worst = max(r["us"]) if r["us"] else float("inf")
            ok = not r["not_closed"] and med(r["us"]) <= 1000
            out.append(
                [
                    f"cancel-to-close <= 1 ms: {r['way']}",
                    f"median {med(r['us']):.0f} us, max {worst:.0f} us",
                    "met" if ok else "MISSED",
                    "",
                ]
            )
    return out


def _sections(res: dict[str, Any]) -> list[str]:
    o: list[str] = []
    if "server" in res:
        o += ["## Server check (is the loopback server the bottleneck?)", ""]
        o.append(
            f"Server alone, to a client that discards the bytes: {mm(res['server']['cps'], 0)}"
            " chunks/s (wall). Server CPU over the whole CPU section: "
            f"{res.get('server_cpu_us_per_chunk', float('nan')):.3f} us per chunk served. "
            "Both are far beyond what any client below consumes."
        )
        o.append("")
    if "cpu" in res:
        o += ["## CPU per chunk (one HTTP chunk per event; client process CPU; median [min-max])"]
        o += [""]
        o += cpu_table(res)
    if "bulk" in res:
        o += ["## CPU per chunk, bulk reads (`--framing length`: one body, 64 KiB reads)", ""]
        o += ["The transport's per-event cost vanishes; this compares parsing alone.", ""]
        o += cpu_table(res, "bulk")
    if "linear" in res:
        o += ["## Linear work (kairos, openai wire, sync)", ""]
        o += _table(
            ["stream", "chunks", "CPU us/chunk"],
            [[r["kind"], str(r["n"]), mm(r["us"], 2)] for r in res["linear"]],
        )
    if "ttft" in res:
        o += ["## Warm time to first chunk (5-chunk stream, reused connection)", ""]
        o += _table(
            ["client", "mode", "us"],
            [[r["client"], r["mode"], mm(r["us"], 0)] for r in res["ttft"]],
        )
    if "import" in res:
        o += ["## Import time (`python -X importtime -c 'import X'`, cumulative, ms)", ""]
        o += _table(["module", "ms"], [[r["module"], mm(r["ms"])] for r in res["import"]])
        o += [f"`import kairos` loads: {' '.join(res['kairos_modules'])}", ""]
    if "cold" in res:
        o += ["## Cold start to first chunk (fresh interpreter, wall ms, 5-chunk stream)", ""]
        o += _table(["client", "ms"], [[r["client"], mm(r["ms"])] for r in res["cold"]])
    if "concurrency" in res:
        o += ["## Concurrent async streams (each client in a fresh process)", ""]
        rows = [
            [
                r["client"],
                str(r["streams"]),
                str(r["n"]),
                mm(r.get("wall", []), 2),
                mm(r.get("rss_mb", []), 0),
                mm(r.get("rss_before_mb", []), 0),
                "yes" if r.get("ok") else f"NO {r.get('error', '')}",
            ]
            for r in res["concurrency"]
        ]
        o += _table(
            [
                "client",
                "streams",
                "chunks each",
                "wall s",
                "peak RSS MB",
                "RSS before streams MB",
                "correct",
            ],
            rows,
        )
    if "gateway" in res:
        import gateway

        z = res["sizes"]
        o += ["## Gateway: N users at once through one shared client (`gateway.py`)", ""]
        o += [
            f"Each user streams one reply of {z['gateway_deltas']} deltas "
            f"{z['gateway_pace']} ms apart; one kept-alive connection is idle before the burst. "
            "CPU is per delivered chunk; TTFT from a user's request to its first chunk.",
            "",
        ]
        o += gateway.table(res["gateway"])
    if "cancel" in res:
        o += ["## Cancel to close (the server sees the disconnect; us; cyclic GC disabled)", ""]
        rows = [
            [r["way"], mm(r["us"], 0), f"{r['not_closed']}/{r['repeats']}"] for r in res["cancel"]
        ]
        o += _table(["way", "us", "not closed within 2 s"], rows)
    return o


def render(res: dict[str, Any], command: str) -> str:
    o = ["# kairos benchmark results", ""]
    o += [
        "Reproduce: `make bench` (creates `.venv-bench`, installs `-e .` and "
        "`benchmarks/requirements.txt`, runs `python benchmarks/run.py`). This run: "
        f"`{command}`. Quick check: `python benchmarks/run.py --quick --out -`.",
        "",
    ]
    o += [
        f"- machine: {os.cpu_count()} CPUs (nproc), {cpu_model()}, {platform.platform()}",
        f"- Python {platform.python_version()}; {_versions()}",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(res['started']))}; "
        f"run took {res['elapsed']:.0f} s; sizes: {res['sizes']}",
        "- the loopback server runs in another process and sends pre-rendered replies in one "
        "write, one HTTP chunk per event unless `--framing length`; every client reads the "
        "same bytes and the contents are checked; CPU is the client process's own CPU time",
        "",
    ]
    t = targets(res)
    if t:
        o += ["## Targets (issue 6)", ""]
        o += [
            'What limits the missed ones: see "What limits the targets that are missed" '
            "at the end.",
            "",
        ]
        o += _table(["target", "measured", "result", "gap"], t)
    o += _sections(res)
    notes = HERE / "NOTES.md"
    if notes.exists():
        o += [notes.read_text()]
    return "\n".join(o)
