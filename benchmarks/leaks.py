"""Hygiene at scale: ``python benchmarks/leaks.py [--streams 10000] [--every 1000]``.

Runs the workload of ``tests/test_leaks.py`` (complete streams, streams abandoned after a few
chunks by ``break`` or ``close()``, in-band errors, HTTP 500 without retries, truncated bodies
and, async, cancelled tasks) against the loopback test server in this process: half the
streams sync, half async. Prints open file descriptors, tracemalloc's current size, RSS and
thread count every ``--every`` streams, then the growth since the baseline (taken after a
warm-up batch of each kind) and the connections still open on both sides once the providers
are closed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import kairos
import test_leaks as L
from loopback import LoopbackServer

WARMUP = 250  # streams of each kind (sync, async) before the baseline


class Progress:
    def __init__(self, every: int) -> None:
        self.every = every
        self.done = 0
        self.started = time.monotonic()
        self.baseline: L.Snap | None = None
        self.shown = -1
        self.last = L.snap()
        print(f"{'streams':>8} {'seconds':>8}  measurements")
        self.show()

    def add(self, n: int) -> None:
        before, self.done = self.done, self.done + n
        if before // self.every != self.done // self.every:
            self.show()

    def mark_baseline(self) -> None:
        self.baseline = L.snap()
        print(f"{self.done:>8} {'':>8}  baseline after warm-up: {self.baseline}")

    def show(self) -> None:
        if self.shown == self.done:
            return
        self.shown = self.done
        self.last = L.snap()
        print(f"{self.done:>8} {time.monotonic() - self.started:>8.1f}  {self.last}", flush=True)


def run_sync(server: LoopbackServer, n: int, progress: Progress) -> None:
    with L._provider(server) as p:
        while n > 0:
            for scenario in L.SYNC:
                scenario(p)
            server.requests.clear()
            n -= len(L.SYNC)
            progress.add(len(L.SYNC))


async def run_async(server: LoopbackServer, n: int, progress: Progress) -> None:
    async with L._async_provider(server) as p:
        while n > 0:
            for scenario in L.ASYNC:
                await scenario(p)
            server.requests.clear()
            n -= len(L.ASYNC)
            progress.add(len(L.ASYNC))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--streams", type=int, default=10_000)
    ap.add_argument("--every", type=int, default=1_000)
    ap.add_argument("--no-tracemalloc", action="store_true", help="measure RSS without tracing")
    args = ap.parse_args(argv)
    if not args.no_tracemalloc:
        tracemalloc.start()
    print(f"kairos {kairos.__version__}, Python {sys.version.split()[0]}")
    with L.leak_server() as server:
        progress = Progress(args.every)
        run_sync(server, WARMUP, progress)
        asyncio.run(run_async(server, WARMUP, progress))
        progress.mark_baseline()
        warm = progress.done
        run_sync(server, args.streams // 2 - warm // 2, progress)
        asyncio.run(run_async(server, args.streams - progress.done, progress))
        progress.show()
        L.wait_until(lambda: L.connections(server.port) == (0, 0))
        L.wait_until(lambda: L.snap().threads <= 2)  # the server's connection threads ended
        server_side, client_side = L.connections(server.port)
        last = L.snap()
        print(f"{progress.done:>8} {'':>8}  providers closed: {last}")
    base = progress.baseline or last
    mib = 1024 * 1024
    print(
        f"growth since the baseline over {progress.done - warm} streams: "
        f"fds {last.fds - base.fds:+d}, traced {(last.traced - base.traced) / mib:+.2f} MiB, "
        f"RSS {(last.rss - base.rss) / mib:+.1f} MiB, threads {last.threads - base.threads:+d}"
    )
    print(f"open connections once closed: server side {server_side}, client side {client_side}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
