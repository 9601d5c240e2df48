"""Run the kairos benchmarks side by side with the floor, plain httpx, the SDKs and LiteLLM.

    python benchmarks/run.py                 # full run (about 5 minutes), writes RESULTS.md
    python benchmarks/run.py --quick         # small sizes, a few seconds
    python benchmarks/run.py --only kairos,httpx,floor --sections cpu,cancel

Clients whose package is not installed are skipped (see benchmarks/requirements.txt).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure as M
import report
from clients import CLIENTS, formats

SECTIONS = (
    "server",
    "cpu",
    "bulk",
    "linear",
    "ttft",
    "import",
    "cold",
    "concurrency",
    "gateway",
    "cancel",
)
FULL = {
    "n": 20000,
    "reps": 5,
    "sdk_n": 5000,
    "sdk_reps": 3,
    "llm_n": 1000,
    "ttft": 200,
    "imports": 10,
    "cold": 5,
    "streams": 500,
    "conc_n": 200,
    "cancel": 20,
    "gateway_users": "100,500,2000,5000",
    "gateway_deltas": 200,
    "gateway_pace": 5,
    "gateway_reps": 1,
}
QUICK = {
    "n": 300,
    "reps": 2,
    "sdk_n": 100,
    "sdk_reps": 1,
    "llm_n": 50,
    "ttft": 5,
    "imports": 2,
    "cold": 1,
    "streams": 10,
    "conc_n": 20,
    "cancel": 2,
    "gateway_users": "5,20",
    "gateway_deltas": 10,
    "gateway_pace": 1,
    "gateway_reps": 1,
}
PACKAGE = {
    "kairos-otel": "opentelemetry.sdk",
    "openai-sdk": "openai",
    "openai-sdk-responses": "openai",
    "openai-responses-helper": "openai",
    "anthropic-sdk": "anthropic",
    "anthropic-helper": "anthropic",
    "litellm": "litellm",
}


def available(names: list[str]) -> list[str]:
    return [n for n in names if n not in PACKAGE or importlib.util.find_spec(PACKAGE[n])]


INLINE = False  # --inline: CPU rows in this process (the smoke test), not fresh interpreters


def _row(port: int, name: str, fmt: str, sync: bool, n: int, reps: int, mode: str = "t") -> Any:
    fn = M.cpu_row if INLINE else M.cpu_row_fresh
    return fn(port, name, fmt, sync, n, reps, mode=mode)


def cpu_section(port: int, names: list[str], z: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        n, reps = z["n"], z["reps"]
        if name == "litellm":
            n, reps = z["llm_n"], z["sdk_reps"]
        elif name in PACKAGE:  # the official SDKs
            n, reps = z["sdk_n"], z["sdk_reps"]
        for fmt in formats(name):
            for sync in (True, False):
                rows.append(_row(port, name, fmt, sync, n, reps))
                report.progress(rows[-1])
    return rows


def bulk_section(names: list[str], z: dict[str, int]) -> list[dict[str, Any]]:
    """The same streams as one Content-Length body (large reads): parsing cost alone."""
    rows = []
    with M.Server("length") as s:
        for name in names:
            for fmt in formats(name):
                rows.append(_row(s.port, name, fmt, True, z["n"], z["reps"]))
                report.progress(rows[-1])
    return rows


def linear_section(port: int, z: dict[str, int]) -> list[dict[str, Any]]:
    """Per-chunk cost at 10x the stream length (text, and one long tool call)."""
    rows = []
    for mode in ("t", "tools"):
        for n in (z["n"] // 10, z["n"]):
            rows.append(_row(port, "kairos", "openai", True, n, z["reps"], mode))
            report.progress(rows[-1])
    return rows


def gateway_section(port: int, names: list[str], z: dict[str, Any]) -> list[dict[str, Any]]:
    """N users at once through one shared client (``gateway.py``): wall, CPU per chunk,
    TTFT under load, RSS, descriptors, connections."""
    import gateway

    clients = [n for n in gateway.CLIENTS if n in names]
    a = argparse.Namespace(
        users=z["gateway_users"],
        clients=",".join(clients),
        deltas=z["gateway_deltas"],
        pace=z["gateway_pace"],
        reps=z["gateway_reps"],
        pool="warm",
        before=None,
        limit=600.0,
    )
    return gateway.section(port, a)


def run(args: argparse.Namespace) -> dict[str, Any]:
    z = QUICK if args.quick else FULL
    names = available(args.only.split(",") if args.only else list(CLIENTS))
    sections = args.sections.split(",") if args.sections else list(SECTIONS)
    res: dict[str, Any] = {"sizes": z, "clients": names, "started": time.time()}
    res["framing"] = args.framing
    with M.Server(args.framing) as s:
        cpu0 = s.cpu()
        if "server" in sections:
            res["server"] = M.server_check(s, z["n"], z["reps"])
        if "cpu" in sections:
            res["cpu"] = cpu_section(s.port, names, z)
            served = sum(r["n"] * len(r["us"]) for r in res["cpu"])
            res["server_cpu_us_per_chunk"] = (s.cpu() - cpu0) / max(served, 1) * 1e6
        if "linear" in sections and "kairos" in names:
            res["linear"] = linear_section(s.port, z)
        report.note("bulk")
        if "bulk" in sections and args.framing == "chunked":
            res["bulk"] = bulk_section([n for n in names if n in ("floor", "httpx", "kairos")], z)
        report.note("ttft")
        if "ttft" in sections and {"kairos", "httpx"} <= set(names):
            res["ttft"] = M.ttft_rows(s.port, z["ttft"])
        report.note("import")
        if "import" in sections:
            mods = [
                m
                for m in ("httpx", "kairos", "openai", "anthropic", "litellm")
                if m in ("httpx", "kairos") or m in {PACKAGE.get(n) for n in names}
            ]
            res["import"] = M.import_rows(mods, z["imports"])
            res["kairos_modules"] = M.kairos_import_modules()
        cold = [n for n in names if n in M.COLD]
        report.note("cold")
        if "cold" in sections:
            res["cold"] = M.cold_rows(s.port, cold, z["cold"])
        report.note("concurrency")
        if "concurrency" in sections:
            conc = [n for n in cold if n != "anthropic-sdk"]
            res["concurrency"] = M.concurrency_rows(
                s.port, conc, z["streams"], z["conc_n"], timeout=120
            )
        report.note("gateway")
        if "gateway" in sections:
            res["gateway"] = gateway_section(s.port, names, z)
        report.note("cancel")
        if "cancel" in sections:
            res["cancel"] = M.cancel_rows(s.port, z["cancel"], names)
    res["elapsed"] = time.time() - res["started"]
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--only", help="comma-separated clients: " + ",".join(CLIENTS))
    ap.add_argument("--sections", help="comma-separated: " + ",".join(SECTIONS))
    ap.add_argument(
        "--out",
        default=str(Path(__file__).with_name("RESULTS.md")),
        help="where to write the report ('-' for none)",
    )
    ap.add_argument("--json", help="also write the raw samples as JSON here")
    ap.add_argument(
        "--framing",
        choices=("chunked", "length"),
        default="chunked",
        help="chunked: one HTTP chunk per event, like real servers (default);\n"
        "length: one Content-Length body (bulk reads, parsing cost only)",
    )
    ap.add_argument("--inline", action="store_true", help="CPU rows in this process")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    for flag in ("--client", "--fmt", "--port", "--streams", "--n"):
        ap.add_argument(flag, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker == "cpu":
        print(json.dumps(M.cpu_row(*json.loads(args.client))))
        return 0
    if args.worker == "concurrency":
        M.concurrency_worker(args.client, args.fmt, int(args.port), int(args.streams), int(args.n))
        return 0
    global INLINE
    INLINE = args.inline
    res = run(args)
    text = report.render(res, " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]))
    print(text)
    if args.out != "-":
        Path(args.out).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
