"""Gateway-shaped benchmark: N users at once, each streaming one reply through ONE shared client.

    python benchmarks/gateway.py                                  # N = 100, 500, 2000, 5000
    python benchmarks/gateway.py --users 500 --reps 5 --clients kairos,httpx
    python benchmarks/gateway.py --before /tmp/old/src            # adds "kairos@before" rows

Each (client, N) runs in a fresh process against the loopback server (``server.py``, its own
process): one warm-up stream (which leaves one idle kept-alive connection in the pool, as a
running gateway has; ``--pool cold``: the warm-up goes through another client), then N tasks
start at once, each streaming one reply of ``--deltas`` text deltas ``--pace`` ms apart
(OpenAI SSE, one HTTP chunk per event; the server writes the next event of every open stream
on one timer tick). Reported per row: wall time of the burst, client CPU per delivered chunk,
time to first chunk (from a task's request to its first content chunk; p50 and p99 over the N
streams), peak RSS (VmHWM), most open file descriptors (sampled every 50 ms), and the TCP
connections the server accepted during the burst. The clients, as a
gateway would deploy them:

- ``floor``: raw asyncio sockets, a new connection per stream, no pool (what the loop costs)
- ``httpx``: ``httpx.AsyncClient`` with ``Limits(max_connections=1000,
  max_keepalive_connections=100)``, ``aiter_lines`` + ``json.loads``
- ``kairos``: ``kairos.async_provider(...)`` with its defaults (full chunk objects)
- ``openai-sdk``: ``openai.AsyncOpenAI(max_retries=0)`` with its defaults

``--before SRC`` runs kairos once more with ``SRC`` first on ``PYTHONPATH`` (``kairos@before``),
in the same run, for before/after tables. Rows of a repetition are interleaved, so drift on
this shared machine hits every client alike; the tables give median [min-max].
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fresh
import measure as M
import server as srv
from clients import Floor, Httpx, Kairos, OpenAISDK

HERE = Path(__file__).resolve().parent
USERS = (100, 500, 2000, 5000)
CLIENTS = ("floor", "httpx", "kairos", "openai-sdk")


class Stamped(list[str]):
    """The list a client appends each content chunk to; remembers when the first came."""

    first = 0.0

    def append(self, text: str) -> None:
        if not self:
            self.first = time.perf_counter()
        super().append(text)


def _client(name: str, port: int) -> Any:
    if name == "floor":
        c: Any = Floor()
        c.setup(port, "openai")
    elif name == "httpx":
        import httpx

        c = Httpx()
        c.fmt, c.base = "openai", f"http://127.0.0.1:{port}"
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
        c.aclient = httpx.AsyncClient(limits=limits, timeout=60)
    elif name.startswith("kairos"):
        import kairos

        c = Kairos()
        base = f"http://127.0.0.1:{port}/v1"
        c.ap = kairos.async_provider("openai-compatible", base_url=base, api_key="bench-key")
        c.tools = False
    else:
        import openai

        c = OpenAISDK()
        base = f"http://127.0.0.1:{port}/v1"
        c.ac = openai.AsyncOpenAI(base_url=base, api_key="x", max_retries=0)
    return c


def accepted(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats", timeout=5) as r:
        n: int = json.loads(r.read())["accepted"]
    return n


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def _burst(client: Any, model: str, users: int, want: str) -> dict[str, Any]:
    async def one() -> tuple[bool, float, int, str]:
        out = Stamped()
        t0 = time.perf_counter()
        try:
            n, text = await client.astream(model, out)
        except Exception as exc:  # a failed stream is counted, not fatal
            return False, 0.0, len(out), f"{type(exc).__name__}: {exc}"[:160]
        return text == want, out.first - t0, n, ""

    most = [_fds()]
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            most[0] = max(most[0], _fds())
            await asyncio.sleep(0.05)

    sampler = asyncio.ensure_future(sample())
    t0, c0 = time.perf_counter(), time.process_time()
    got = await asyncio.gather(*(one() for _ in range(users)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    stop.set()
    await sampler
    ttft = sorted(g[1] * 1e3 for g in got if g[0])
    chunks = sum(g[2] for g in got)
    errors = [g[3] for g in got if g[3]]
    return {
        "wall": wall,
        "cpu": cpu,
        "chunks": chunks,
        "cpu_us_per_chunk": cpu / max(chunks, 1) * 1e6,
        "ttft_p50": _pct(ttft, 50),
        "ttft_p99": _pct(ttft, 99),
        "fds": most[0],
        "ok": len(ttft) == users,
        "failed": users - len(ttft),
        "error": errors[0] if errors else "",
    }


def _pct(xs: list[float], p: int) -> float:
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def worker(name: str, port: int, users: int, deltas: int, pace: int, pool: str) -> dict[str, Any]:
    client = _client(name, port)
    model = f"{M.model(deltas)}-p{pace}"
    want = srv.expected_text(deltas, 1)

    async def main() -> dict[str, Any]:
        # warm-up: imports and caches; "warm" leaves one kept-alive connection in the pool (a
        # running gateway), "cold" warms another client of the same kind (an empty pool)
        await (client if pool == "warm" else _client(name, port)).astream(model)
        before = accepted(port)
        row = await _burst(client, model, users, want)
        row["connections"] = accepted(port) - before - 1  # not the second /_stats request's
        return row

    rss0 = M.peak_rss_mb()
    row = asyncio.run(main())
    row.update(rss_mb=M.peak_rss_mb(), rss_before_mb=rss0)
    return row


def before_env(name: str, before: str | None) -> dict[str, str]:
    """The environment of a worker: ``kairos@before`` imports the other tree's kairos."""
    env = dict(os.environ)
    if name == "kairos@before" and before:
        env["PYTHONPATH"] = str(Path(before).resolve())
    return env


def run_row(port: int, name: str, users: int, a: argparse.Namespace) -> dict[str, Any]:
    """One (client, N) in a fresh interpreter."""
    args = [name, port, users, a.deltas, a.pace, a.pool]
    row: dict[str, Any] = {"client": name, "users": users}
    try:
        row.update(fresh.run(HERE / "gateway.py", args, a.limit, before_env(name, a.before)))
    except subprocess.TimeoutExpired:
        row.update(ok=False, error=f"did not finish within {a.limit:g} s")
    except RuntimeError as exc:
        row.update(ok=False, error=str(exc))
    return row


def section(port: int, a: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    names = [n for n in a.clients.split(",") if n != "openai-sdk" or _has("openai")]
    if a.before:
        names.insert(names.index("kairos") + 1 if "kairos" in names else 0, "kairos@before")
    for rep in range(a.reps):
        for users in [int(u) for u in str(a.users).split(",")]:
            for name in names if rep % 2 == 0 else names[::-1]:
                rows.append(run_row(port, name, users, a))
                _progress(rows[-1])
    return rows


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _progress(r: dict[str, Any]) -> None:
    state = "ok" if r.get("ok") else f"FAILED {r.get('failed', '?')}: {r.get('error', '')}"
    print(
        f"  gateway {r['client']:14} N={r['users']:<5} wall {r.get('wall', 0):6.2f} s "
        f"cpu {r.get('cpu_us_per_chunk', 0):6.2f} us/chunk conns {r.get('connections', '-')}"
        f" {state}",
        file=sys.stderr,
        flush=True,
    )


def table(rows: list[dict[str, Any]]) -> list[str]:
    """Markdown: one line per (N, client), median [min-max] over the repetitions."""
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["users"], r["client"]), []).append(r)
    head = "| users | client | wall s | CPU us/chunk | TTFT p50 ms | TTFT p99 ms | peak RSS MB "
    head += "| most fds | connections | correct |"
    out = [head, "|---|---|---|---|---|---|---|---|---|---|"]
    for (users, name), rs in sorted(groups.items()):
        good = [r for r in rs if r.get("ok")]

        def mm(key: str, d: int = 2, rs: list[dict[str, Any]] = good) -> str:
            xs = [r[key] for r in rs if key in r]
            if not xs:
                return "n/a"
            return f"{statistics.median(xs):.{d}f} [{min(xs):.{d}f}-{max(xs):.{d}f}]"

        bad = [r for r in rs if not r.get("ok")]
        state = "yes" if not bad else f"NO in {len(bad)}/{len(rs)}: {bad[0].get('error', '')}"
        cells = [mm("wall"), mm("cpu_us_per_chunk"), mm("ttft_p50", 1), mm("ttft_p99", 1)]
        cells += [mm("rss_mb", 0), mm("fds", 0), mm("connections", 0), state]
        out.append(f"| {users} | {name} | " + " | ".join(cells) + " |")
    return [*out, ""]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--users", default=",".join(map(str, USERS)))
    ap.add_argument("--clients", default=",".join(CLIENTS))
    ap.add_argument("--deltas", type=int, default=200)
    ap.add_argument("--pace", type=int, default=5, help="ms between deltas")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument(
        "--pool",
        choices=("warm", "cold"),
        default="warm",
        help="warm: one idle kept-alive connection before the burst (default)",
    )
    ap.add_argument("--before", help="another tree's src folder: adds kairos@before rows")
    ap.add_argument("--limit", type=float, default=600, help="seconds per row at most")
    ap.add_argument("--json", help="write the raw rows here")
    a = fresh.parse(ap, worker)
    if a is None:
        return 0
    with M.Server() as s:
        rows = section(s.port, a)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    print("\n".join(table(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
