"""Partial-JSON cost (issue 13): kairos' incremental parser against re-parsing every delta.

    python benchmarks/partial_json.py            # 1 MB in 50,000 deltas and 10x that (minutes)
    python benchmarks/partial_json.py --quick    # 100 KB / 5,000 deltas at 1x, about 10 s

Two documents, each streamed in deltas of random length (mean ~20 characters, split anywhere):
``records`` (a realistic extraction result: a list of records with strings, numbers, nested
objects and lists) and ``string`` (one huge string with escapes and non-ASCII text). Each at
1x (~1 MB, 50,000 deltas) and 10x (~10 MB, 500,000 deltas: same delta size, ten times the
text). Rows:

(a) kairos: ``PartialJSON.feed`` every delta, then ``finish()``; full run, best of 3.
(L) kairos: the same plus ``lazy_snapshot()`` after every delta (what a stream attaches to
    each chunk; built only if read); full run, best of 3.
(b) kairos: the same plus ``snapshot()`` after every delta (every chunk's value read); full
    run, best of 3. When a full run would exceed ``--budget`` seconds, the feed is timed
    whole and ``snapshot()`` at ``--samples`` evenly spaced deltas, extrapolated (the row
    says so).
(c) ``json.loads`` of the text so far, per delta, with the truncated text already completed
    outside the timing (``json.dumps`` of the kairos snapshot): a lower bound of what an SDK
    that repairs and re-parses the buffer pays. Timed at ``--samples`` evenly spaced deltas,
    extrapolated (mean per delta x number of deltas).
(d) ``jiter.from_json(text_so_far.encode(), partial_mode="trailing-strings")`` per delta, as
    the official SDKs do; sampled and extrapolated like (c).

Times are the process's CPU time (``time.process_time``), so other load on the machine does
not count. The ratio column is 10x time / 1x time: ~10 means linear in the length, ~100 quadratic.
The cyclic garbage collector is off while timing (none of these parsers makes cycles): with
it on, a full collection of the 10x heap lands inside some sampled calls and extrapolating
those inflates the sampled rows several times over.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kairos._partial_json import PartialJSON

try:
    import jiter
except ImportError:  # pragma: no cover - benchmark-only dependency
    jiter = None

WORDS = ["alpha", "beta", "gamma", "delta", "Zürich", "São", "Paulo", "naïve", "café", "東京",
         "😀", "said", '"hello"', "over\nlines", "tab\there", "back\\slash"]  # fmt: skip
TAGS = ["urgent", "billing", "vip", "churn-risk", "eu", "apac", "trial", "enterprise"]


def cpu_model() -> str:
    try:
        m = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    except OSError:
        return "unknown CPU"
    return m.group(1).strip() if m else "unknown CPU"


def sentence(rnd: random.Random, n: int) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(n))


def records_doc(size: int, rnd: random.Random) -> str:
    records: list[dict[str, Any]] = []
    total = 0
    while total < size:
        i = len(records)
        rec = {
            "id": i,
            "name": f"{sentence(rnd, 2).title()} {i}",
            "email": f"user{i}@example.com",
            "score": round(rnd.uniform(0, 100), 3),
            "rank": rnd.randint(1, 10**9),
            "tags": rnd.sample(TAGS, rnd.randint(0, 4)),
            "address": {
                "street": f"{rnd.randint(1, 300)} {sentence(rnd, 2)}",
                "zip": f"{rnd.randint(1000, 99999)}",
                "geo": {"lat": rnd.uniform(-90, 90), "lon": rnd.uniform(-180, 180)},
            },
            "summary": sentence(rnd, rnd.randint(3, 25)),
            "active": rnd.random() < 0.5,
            "manager": None if rnd.random() < 0.3 else rnd.randint(0, i + 1),
        }
        records.append(rec)
        total += len(json.dumps(rec, ensure_ascii=False)) + 2
    return json.dumps({"records": records, "count": len(records)}, ensure_ascii=False)


def string_doc(size: int, rnd: random.Random) -> str:
    words: list[str] = []
    total = 0
    while total < size:
        words.append(rnd.choice(WORDS))
        total += len(words[-1]) + 1
    return json.dumps({"text": " ".join(words)}, ensure_ascii=False)


def split(text: str, n: int, rnd: random.Random) -> list[str]:
    """About n deltas of random length (1 to 2x the mean), cut anywhere."""
    mean = max(1, len(text) // n)
    out, i = [], 0
    while i < len(text):
        j = i + rnd.randint(1, 2 * mean - 1) if mean > 1 else i + 1
        out.append(text[i:j])
        i = j
    return out


def best(fn: Callable[[], float], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        times.append(fn())
    return min(times)


def feed_only(deltas: list[str], expected: Any) -> float:
    t0 = time.process_time()
    p = PartialJSON()
    for d in deltas:
        p.feed(d)
    value = p.finish()
    elapsed = time.process_time() - t0
    assert value == expected
    return elapsed


def feed_and_lazy(deltas: list[str], expected: Any) -> float:
    t0 = time.process_time()
    p = PartialJSON()
    for d in deltas:
        p.feed(d)
        p.lazy_snapshot()
    value = p.finish()
    elapsed = time.process_time() - t0
    assert value == expected
    return elapsed


def feed_and_snapshot(deltas: list[str], expected: Any) -> float:
    t0 = time.process_time()
    p = PartialJSON()
    for d in deltas:
        p.feed(d)
        p.snapshot()
    value = p.finish()
    elapsed = time.process_time() - t0
    assert value == expected
    return elapsed


def sample_points(n: int, samples: int) -> list[int]:
    """Delta indices at the middle of ``samples`` equal slices (midpoint rule)."""
    return sorted({min(n - 1, int((k + 0.5) * n / samples)) for k in range(samples)})


def snapshot_sampled(deltas: list[str], points: list[int]) -> float:
    """Seconds of snapshot() at the sampled deltas (the feed itself is not counted here)."""
    wanted, spent, p = set(points), 0.0, PartialJSON()
    for k, d in enumerate(deltas):
        p.feed(d)
        if k in wanted:
            t0 = time.process_time()
            p.snapshot()
            spent += time.process_time() - t0
    return spent


def reparse_sampled(text: str, ends: list[int], points: list[int], way: str) -> float:
    """Seconds for one re-parse of the text so far at each sampled delta."""
    spent = 0.0
    for k in points:
        prefix = text[: ends[k]]
        if way == "json":
            p = PartialJSON()
            p.feed(prefix)
            completed = json.dumps(p.snapshot(), ensure_ascii=False)  # repair: not timed
            t0 = time.process_time()
            json.loads(completed)
        else:
            assert jiter is not None
            t0 = time.process_time()
            jiter.from_json(prefix.encode(), partial_mode="trailing-strings")
        spent += time.process_time() - t0
    return spent


def measure(shape: str, text: str, deltas: list[str], args: argparse.Namespace) -> dict[str, Any]:
    n, expected = len(deltas), json.loads(text)
    ends, pos = [], 0
    for d in deltas:
        pos += len(d)
        ends.append(pos)
    points = sample_points(n, args.samples)
    extrapolate = n / len(points)
    rows: dict[str, Any] = {"chars": len(text), "deltas": n}
    reps = 3
    rows["a"] = (best(lambda: feed_only(deltas, expected), reps), "full")
    rows["L"] = (best(lambda: feed_and_lazy(deltas, expected), reps), "full")
    estimate = rows["a"][0] + snapshot_sampled(deltas, points) * extrapolate
    if estimate <= args.budget:
        rows["b"] = (best(lambda: feed_and_snapshot(deltas, expected), reps), "full")
    else:
        rows["b"] = (estimate, f"feed full + snapshot at {len(points)}/{n} deltas, extrapolated")
    how = f"{len(points)}/{n} deltas, extrapolated"
    rows["c"] = (reparse_sampled(text, ends, points, "json") * extrapolate, how)
    if jiter is not None:
        rows["d"] = (reparse_sampled(text, ends, points, "jiter") * extrapolate, how)
    print(f"  {shape} {len(text):,} chars / {n:,} deltas: " + ", ".join(
        f"{k} {v[0]:.3f} s" for k, v in rows.items() if k in LABELS), flush=True)  # fmt: skip
    return rows


LABELS = {
    "a": "(a) kairos feed every delta + finish()",
    "L": "(L) kairos feed + lazy_snapshot() every delta",
    "b": "(b) kairos feed + snapshot() every delta",
    "c": "(c) json.loads of the (repaired) text so far, every delta",
    "d": '(d) jiter.from_json(text so far, partial_mode="trailing-strings"), every delta',
}


def table(results: dict[str, dict[int, dict[str, Any]]]) -> str:
    lines = [
        "| document | row | 1x seconds | 10x seconds | 10x/1x | us per delta 1x / 10x | how |",
        "|---|---|---|---|---|---|---|",
    ]
    for shape, by in results.items():
        one, ten = by[1], by[10]
        for key, label in LABELS.items():
            if key not in one:
                continue
            t1, h1 = one[key]
            t10, h10 = ten[key]
            per = f"{t1 / one['deltas'] * 1e6:.2f} / {t10 / ten['deltas'] * 1e6:.2f}"
            how = h1 if h1 == h10 else f"1x: {h1}; 10x: {h10}"
            lines.append(
                f"| {shape} | {label} | {t1:.3f} | {t10:.3f} | {t10 / t1:.1f} | {per} | {how} |"
            )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100 KB / 5,000 deltas at 1x")
    ap.add_argument("--samples", type=int, help="sampled deltas for (c), (d) (200; quick: 40)")
    ap.add_argument("--budget", type=float, default=90.0, help="seconds a full (b) run may take")
    args = ap.parse_args()
    size, n = (100_000, 5_000) if args.quick else (1_000_000, 50_000)
    args.samples = args.samples or (40 if args.quick else 200)
    started = time.time()
    gc.disable()
    results: dict[str, dict[int, dict[str, Any]]] = {}
    for shape, make in (("records", records_doc), ("string", string_doc)):
        results[shape] = {}
        for scale in (1, 10):
            rnd = random.Random(scale)
            text = make(size * scale, rnd)
            results[shape][scale] = measure(shape, text, split(text, n * scale, rnd), args)
            gc.collect()
    print()
    print(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}; "
          f"run took {time.time() - started:.0f} s")  # fmt: skip
    print(f"- machine: {os.cpu_count()} CPUs (nproc), {cpu_model()}, {platform.platform()}")
    jv = jiter.__version__ if jiter is not None else "not installed"
    print(f"- Python {platform.python_version()}; jiter {jv}; cyclic GC off while timing")
    print(f"- command: python benchmarks/partial_json.py {' '.join(sys.argv[1:])}".rstrip())
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
