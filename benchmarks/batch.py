"""``kairos batch`` throughput and memory against the loopback bench server (issue 16).

1. Throughput: N short requests (the server's ``b-5-2-t`` reply: 5 chunks of 2 words, OpenAI
   SSE) at concurrency C, in this process, for

   * ``gather``: a bare ``asyncio.gather`` over kairos, one task per request behind an
     ``asyncio.Semaphore(C)``, each draining ``chat_stream`` (what users write by hand);
   * ``batch``: ``kairos.batch.arun`` from a JSONL file to a JSONL file with the same C (lazy
     input, limits, retries bookkeeping, one output line written and flushed per request);

   both with ``max_retries=0`` and a fresh provider per run. Median of R runs, interleaved.
2. Memory: peak RSS of the ``kairos batch`` CLI (a child process) for 10k and 100k input lines.

Usage: ``python benchmarks/batch.py [--n 10000] [--concurrency 64] [--reps 3] [--rss 10000,100000]``
prints a Markdown section for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import Server

import kairos
import kairos.batch

MODEL = "b-5-2-t"


def _input(path: Path, n: int) -> None:
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": i, "prompt": f"question {i}"}) + "\n")


async def _gather(url: str, n: int, conc: int) -> tuple[float, float]:
    sem = asyncio.Semaphore(conc)
    async with kairos.async_provider(
        "openai-compatible", base_url=url, model=MODEL, max_retries=0
    ) as p:

        async def one(i: int) -> str:
            req = kairos.ChatRequest([kairos.Message.user(f"question {i}")])
            async with sem:
                stream = await p.chat_stream(req)
                parts = []
                async with stream:
                    async for chunk in stream:
                        parts.append(chunk.content)
                        if chunk.done:
                            break
                return "".join(parts)

        t0, c0 = time.perf_counter(), time.process_time()
        texts = await asyncio.gather(*(one(i) for i in range(n)))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(texts) == n and all(texts), "gather: missing replies"
    return wall, cpu


def _batch(url: str, src: Path, out: Path, n: int, conc: int) -> tuple[float, float]:
    out.unlink(missing_ok=True)
    t0, c0 = time.perf_counter(), time.process_time()
    summary = kairos.batch.run(
        src, out, provider="openai-compatible", base_url=url, model=MODEL, concurrency=conc
    )
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert summary.ok == n and summary.failed == 0, summary
    return wall, cpu


def _rss(url: str, n: int, conc: int, tmp: Path) -> tuple[float, float]:
    """Peak RSS (MiB) and wall time of the ``kairos batch`` CLI over ``n`` lines."""
    src, out = tmp / f"rss-{n}.jsonl", tmp / f"rss-{n}.out.jsonl"
    _input(src, n)
    out.unlink(missing_ok=True)
    cli = [sys.executable, "-m", "kairos", "batch", str(src), "-o", str(out)]
    cli += ["--base-url", url, "--model", MODEL, "--concurrency", str(conc)]
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "rc = subprocess.run(sys.argv[1:], stderr=subprocess.DEVNULL).returncode; "
        "print(rc, time.perf_counter() - t, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    res = subprocess.run([sys.executable, "-c", probe, *cli], capture_output=True, text=True)
    rc, wall, kib = res.stdout.split()
    assert rc == "0", res.stderr
    with open(out) as f:
        assert sum(1 for _ in f) == n
    return int(kib) / 1024, float(wall)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rss", default="10000,100000")
    args = ap.parse_args()
    n, conc = args.n, args.concurrency
    rows: dict[str, list[tuple[float, float]]] = {"gather": [], "batch": []}
    with Server() as server, tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        url = f"http://127.0.0.1:{server.port}/v1"
        src = tmp / "in.jsonl"
        _input(src, n)
        asyncio.run(_gather(url, 200, conc))  # warm-up
        for _ in range(args.reps):
            rows["gather"].append(asyncio.run(_gather(url, n, conc)))
            rows["batch"].append(_batch(url, src, tmp / "out.jsonl", n, conc))
        rss = {int(k): _rss(url, int(k), conc, tmp) for k in args.rss.split(",") if k}
    _report(rows, rss, n, conc, args.reps)


def _report(
    rows: dict[str, list[tuple[float, float]]],
    rss: dict[int, tuple[float, float]],
    n: int,
    conc: int,
    reps: int,
) -> None:
    wall = {k: [w for w, _ in v] for k, v in rows.items()}
    cpu = {k: [c for _, c in v] for k, v in rows.items()}
    med = {k: statistics.median(v) for k, v in wall.items()}
    mcpu = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; Python "
          f"{platform.python_version()}; {platform.machine()}; "
          f"{len(os.sched_getaffinity(0))} CPUs")  # fmt: skip
    print(f"- {n:,} requests (`{MODEL}`: 5 SSE chunks), concurrency {conc}, median of {reps}\n")
    print("| runner | wall s (median [min-max]) | req/s | wall vs gather | CPU us/request |")
    print("|---|---|---|---|---|")
    for name, label in (("gather", "bare asyncio.gather + Semaphore"), ("batch", "kairos.batch")):
        v = wall[name]
        print(
            f"| {label} | {med[name]:.2f} [{min(v):.2f}-{max(v):.2f}] | {n / med[name]:,.0f} | "
            f"{med[name] / med['gather']:.2f}x | {mcpu[name] / n * 1e6:,.0f} "
            f"({mcpu[name] / mcpu['gather']:.2f}x) |"
        )
    print("\n| `kairos batch` CLI, input lines | peak RSS MiB | wall s |")
    print("|---|---|---|")
    for k, (mib, wall) in rss.items():
        print(f"| {k:,} | {mib:.1f} | {wall:.1f} |")


if __name__ == "__main__":
    main()
