"""Profile kairos reading one long stream: ``python benchmarks/profile_hot.py [fmt] [sync|async]``.

Starts the benchmark server, reads one 20,000-chunk stream under cProfile and prints the top
functions by own time (the hot path: bytes -> events -> JSON -> chunk -> accumulator).
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


def main() -> None:
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
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
