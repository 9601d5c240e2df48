"""Connection reuse when the body's end comes late: ``python benchmarks/reuse.py`` (issue 17).

One client streams ``--streams`` short replies one after the other, sync and async, from the
loopback server, which sends the chunked terminator ``gap`` ms after the provider's end marker
(``-e<us>`` in the model name, see ``server.py``), as a proxy may. Gaps run in order on one
client; each cell gives the TCP connections the server accepted during that row (0 = every
stream reused the connection; the first row includes the client's first connection) and the
mean wall time per stream. Clients: kairos (``--before SRC`` adds the kairos of another tree),
plain httpx reading each body to its end, and the official openai SDK, each in a fresh
interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fresh
import measure as M
from clients import Httpx, Kairos, OpenAISDK
from gateway import accepted, before_env

HERE = Path(__file__).resolve().parent
GAPS = (0.0, 0.5, 1, 2, 5, 10, 20, 50)


def _client(name: str, port: int) -> Any:
    c = {"httpx": Httpx, "openai-sdk": OpenAISDK}.get(name, Kairos)()
    c.setup(port, "openai")
    return c


def worker(name: str, port: int, gaps: list[float], streams: int) -> list[dict[str, Any]]:
    c = _client(name, port)
    loop = asyncio.new_event_loop()
    rows = []
    for gap in gaps:
        model = f"{M.model(5)}-e{round(gap * 1000)}"  # in microseconds: see server.py
        for sync in (True, False):
            before, t0 = accepted(port), time.perf_counter()
            for _ in range(streams):
                n, _ = c.stream(model) if sync else loop.run_until_complete(c.astream(model))
                assert n == 5
            wall = (time.perf_counter() - t0) / streams * 1e3
            conns = accepted(port) - before - 1  # not the second /_stats request's own
            rows.append({"client": name, "gap": gap, "sync": sync, "conns": conns, "ms": wall})
    loop.close()
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--streams", type=int, default=100)
    ap.add_argument("--gaps", default=",".join(map(str, GAPS)), help="ms")
    ap.add_argument("--clients", default="kairos,httpx,openai-sdk")
    ap.add_argument("--before", help="another tree's src folder: adds kairos@before")
    a = fresh.parse(ap, worker)
    if a is None:
        return 0
    names = a.clients.split(",") + (["kairos@before"] if a.before else [])
    gaps = [float(g) for g in a.gaps.split(",")]
    rows: list[dict[str, Any]] = []
    with M.Server() as s:
        for name in names:
            env = before_env(name, a.before)
            try:
                rows += fresh.run(HERE / "reuse.py", [name, s.port, gaps, a.streams], 900, env)
            except RuntimeError as exc:
                print(f"{name}: {exc}", file=sys.stderr)
    head = "| gap before the terminator | " + " | ".join(
        f"{n} {m}" for n in names for m in ("sync", "async")
    )
    print(head + " |")
    print("|---|" + "---|" * (2 * len(names)))
    for gap in gaps:
        cells = []
        for name in names:
            for sync in (True, False):
                r = [x for x in rows if (x["client"], x["gap"], x["sync"]) == (name, gap, sync)]
                cells.append(f"{r[0]['conns']} new, {r[0]['ms']:.1f} ms" if r else "n/a")
        print(f"| {gap:g} ms | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
