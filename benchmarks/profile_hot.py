"""Profile kairos reading one long stream: ``python benchmarks/profile_hot.py [fmt] [sync|async]``.

Starts the benchmark server, reads one 20,000-chunk stream under cProfile and prints the top
functions by own time (the hot path: bytes -> events -> JSON -> chunk -> accumulator).
``--by-package`` prints own time per package instead (httpx, httpcore, h11, anyio, asyncio,
kairos, json, the socket and selector calls): cProfile's own overhead per call inflates the
layers that make many small calls, so ``layers.py`` gives the unbiased per-layer costs.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure as M
from clients import Kairos

PACKAGES = ("httpx", "httpcore", "h11", "anyio", "asyncio", "kairos", "json")


def package(filename: str, func: str) -> str:
    """Which package a profiled function belongs to (builtins by what they wrap)."""
    if filename == "~":
        if "socket" in func or "select" in func or "epoll" in func:
            return "socket and selector calls"
        if "json" in func or "scanner" in func:
            return "json"
        return "other builtins"
    for name in PACKAGES:
        if f"/{name}/" in filename:
            return name
    return "other Python"


def by_package(prof: cProfile.Profile, n: int) -> None:
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    own: dict[str, float] = {}
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.items():
        key = package(filename, func)
        own[key] = own.get(key, 0.0) + tt
    total = sum(own.values())
    print(f"{'package':28} {'us/event':>9} {'share':>6}")
    for key, tt in sorted(own.items(), key=lambda kv: -kv[1]):
        print(f"{key:28} {tt / n * 1e6:9.2f} {tt / total:6.1%}")
    print(f"{'total (under cProfile)':28} {total / n * 1e6:9.2f}")


def main() -> None:
    grouped = "--by-package" in sys.argv
    if grouped:
        sys.argv.remove("--by-package")
    fmt = sys.argv[1] if len(sys.argv) > 1 else "openai"
    sync = (sys.argv[2] if len(sys.argv) > 2 else "sync") == "sync"
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    with M.Server(sys.argv[4] if len(sys.argv) > 4 else "chunked") as s:
        k = Kairos()
        k.setup(s.port, fmt)
        k.stream(M.model(10))
        prof = cProfile.Profile()
        if sync:
            prof.runcall(k.stream, M.model(n))
        else:
            prof.runcall(asyncio.run, k.astream(M.model(n)))
    if grouped:
        by_package(prof, n)
    else:
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
