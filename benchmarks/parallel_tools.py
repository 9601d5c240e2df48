"""Parallel tool calls (issue 11): one stream with N parallel calls, at N and 2N.

    python benchmarks/parallel_tools.py                 # N = 10,000 and 20,000
    python benchmarks/parallel_tools.py --sizes 2500,5000

The body is the OpenAI Chat Completions stream kairos' own renderer writes for a reply with N
calls (``get_weather({"city": "city-<i>"})``): per call, one chunk with its id and name and
one with its arguments, so about 2N chunks. It is replayed from memory through
``httpx.MockTransport`` (no socket: the client's own work only) and read by the real codec,
stream machine and accumulator. Rows:

(a) ``list(stream)``: every chunk kept, no ``tool_calls`` read (what ran out of memory);
(b) iterate and read ``chunk.tool_calls`` of every chunk as it arrives (a UI that shows the
    calls so far, e.g. ``kairos.web``);
(c) ``list(stream)``, then read ``chunk.tool_calls`` of every 100th chunk afterwards.

Time is the process's CPU time (``time.process_time``), best of ``--reps``, with the cyclic
garbage collector off while timing (kairos makes no cycles here; a full collection of the 2N
heap landing inside one run measures the collector); memory is the peak traced by
``tracemalloc`` during one run (the body itself is allocated before tracing starts).
The ratio columns compare 2N with N: ~2 means linear, ~4 quadratic. Run with
``PYTHONPATH=<other checkout>/src`` to measure another version of kairos.
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import httpx

import kairos
from kairos._replies import Call, Reply
from kairos.providers._render import render_stream

REQ = kairos.ChatRequest([kairos.Message.user("weather everywhere")], model="m")


def body(n: int) -> bytes:
    calls = [Call("get_weather", {"city": f"city-{i}"}) for i in range(n)]
    reply = Reply(pieces=tuple(calls))
    pieces = render_stream(reply, "openai-chat", "m", include_usage=True, created=0)
    return b"".join(p for p in pieces if isinstance(p, bytes))


def provider(data: bytes) -> kairos.HTTPProvider:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=data)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    return kairos.provider("openai", api_key="k", base_url="http://bench.test", http_client=client)


def keep_all(p: kairos.HTTPProvider, n: int) -> None:
    with p.chat_stream(REQ) as stream:
        chunks = list(stream)
    assert len(chunks[-1].tool_calls) == n


def read_each(p: kairos.HTTPProvider, n: int) -> None:
    seen = 0
    with p.chat_stream(REQ) as stream:
        for chunk in stream:
            seen = len(chunk.tool_calls)
    assert seen == n


def read_later(p: kairos.HTTPProvider, n: int) -> None:
    with p.chat_stream(REQ) as stream:
        chunks = list(stream)
    for chunk in chunks[::100]:
        assert len(chunk.tool_calls) <= n
    assert chunks[-1].tool_calls[-1].parsed_arguments() == {"city": f"city-{n - 1}"}


ROWS: dict[str, Callable[[kairos.HTTPProvider, int], None]] = {
    "(a) list(stream)": keep_all,
    "(b) read tool_calls of every chunk": read_each,
    "(c) list(stream), then every 100th chunk's tool_calls": read_later,
}


def measure(fn: Callable[[kairos.HTTPProvider, int], None], n: int, reps: int) -> dict[str, Any]:
    data = body(n)
    p = provider(data)
    times = []
    for _ in range(reps):
        gc.collect()
        gc.disable()  # a full collection of a large heap inside one run is noise, not kairos
        t0 = time.process_time()
        fn(p, n)
        times.append(time.process_time() - t0)
        gc.enable()
    gc.collect()
    tracemalloc.start()
    fn(p, n)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"s": min(times), "mib": peak / 2**20, "bytes": len(data)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,20000", help="N,2N")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rows", default="abc", help="which rows (letters), e.g. a")
    args = ap.parse_args()
    small, large = (int(x) for x in args.sizes.split(","))
    print(f"# parallel tool calls: N={small:,} and {large:,}; Python {platform.python_version()}")
    print(f"# kairos from {kairos.__file__}")
    print("| row | N | CPU s | peak MiB | 2N CPU s | 2N peak MiB | time ratio | memory ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, fn in ROWS.items():
        if name[1] not in args.rows:
            continue
        a, b = measure(fn, small, args.reps), measure(fn, large, args.reps)
        print(
            f"| {name} | {small:,} | {a['s']:.3f} | {a['mib']:.1f} | {b['s']:.3f} | "
            f"{b['mib']:.1f} | {b['s'] / a['s']:.2f}x | {b['mib'] / a['mib']:.2f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
