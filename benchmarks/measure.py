"""The measurements: each returns plain rows (dicts) that ``report.py`` turns into tables.

Every number is a list of samples; the report shows median [min-max]. CPU is the client
process's own CPU time (``time.process_time``); the server runs in another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import os
import re
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import server as srv
from clients import CLIENTS, formats

HERE = Path(__file__).resolve().parent
_ids = itertools.count(1)


class Server:
    """The loopback server in a child process; closing its stdin stops it."""

    def __init__(self, framing: str = "chunked") -> None:
        self.framing = framing

    def __enter__(self) -> Server:
        cmd = [sys.executable, str(HERE / "server.py"), f"--framing={self.framing}"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline().split()[1])
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def cpu(self) -> float:
        """Seconds of CPU the server process has used."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def model(n: int, w: int = 1, mode: str = "t", sid: int | None = None) -> str:
    return f"b-{n}-{w}-{mode}" + (f"-{sid}" if sid is not None else "")


def expected(n: int, w: int, mode: str) -> tuple[int, str]:
    if mode == "tools":
        return n + 2, srv.expected_args(n, w)  # the opening and closing pieces too
    return n, srv.expected_text(n, w)


def _one(client: Any, sync: bool, m: str, loop: asyncio.AbstractEventLoop) -> tuple[int, str]:
    if sync:
        return client.stream(m)  # type: ignore[no-any-return]
    return loop.run_until_complete(client.astream(m))  # type: ignore[no-any-return]


def cpu_row_fresh(
    port: int, name: str, fmt: str, sync: bool, n: int, repeats: int, w: int = 1, mode: str = "t"
) -> dict[str, Any]:
    """``cpu_row`` in a fresh interpreter, so no client pays for another's heap or imports."""
    args = json.dumps([port, name, fmt, sync, n, repeats, w, mode])
    cmd = [sys.executable, str(HERE / "run.py"), "--worker", "cpu", "--client", args]
    row = {"client": name, "fmt": fmt, "mode": "sync" if sync else "async", "n": n, "w": w}
    row.update(kind=mode, us=[], cps=[], ok=False)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        row.update(json.loads(out.stdout.strip().splitlines()[-1]))
    except subprocess.TimeoutExpired:
        row["error"] = "did not finish within 120 s"
    except (ValueError, IndexError):
        row["error"] = (out.stderr or "no output").strip()[-200:]
    return row


def cpu_row(
    port: int, name: str, fmt: str, sync: bool, n: int, repeats: int, w: int = 1, mode: str = "t"
) -> dict[str, Any]:
    """CPU us/chunk and chunks/s for one client reading ``repeats`` streams of ``n`` chunks."""
    loop = asyncio.new_event_loop()
    row: dict[str, Any] = {"client": name, "fmt": fmt, "mode": "sync" if sync else "async"}
    row.update(n=n, w=w, kind=mode, us=[], cps=[], ok=True)
    try:
        client = CLIENTS[name]()
        client.setup(port, fmt)
        _one(client, sync, model(10, w, mode), loop)  # warm: connection, caches, imports
        want = expected(n, w, mode)
        for _ in range(repeats):
            gc.collect()
            c0, w0 = time.process_time(), time.perf_counter()
            got = _one(client, sync, model(n, w, mode), loop)
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            row["ok"] = row["ok"] and got == want
            row["us"].append(cpu / n * 1e6)
            row["cps"].append(n / wall)
    except Exception as exc:  # a client that fails is reported, not fatal
        row["ok"], row["error"] = False, f"{type(exc).__name__}: {exc}"[:200]
    finally:
        _close(loop)
    return row


def _close(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def server_check(s: Server, n: int, repeats: int) -> dict[str, Any]:
    """How fast the server alone delivers an n-chunk stream to a client that discards it."""
    req = f"POST /v1/chat/completions?m={model(n)} HTTP/1.1\r\nhost: x\r\ncontent-length: 0"
    rates = []
    body_len = len(srv.render_reply("openai", n, 1, "t", s.framing == "chunked"))
    for i in range(repeats + 1):  # the first renders and caches the body: not counted
        sock = socket.create_connection(("127.0.0.1", s.port))
        t0 = time.perf_counter()
        sock.sendall(req.encode() + b"\r\n\r\n")
        got = 0
        while got < body_len:
            data = sock.recv(1 << 20)
            if not data:
                break
            got += len(data)
        if i:
            rates.append(n / (time.perf_counter() - t0))
        sock.close()
    return {"cps": rates}


# -- time to first chunk on a warm connection ------------------------------------------------------
def ttft_rows(port: int, iters: int) -> list[dict[str, Any]]:
    rows = []
    for name in ("httpx", "kairos"):
        c = CLIENTS[name]()
        c.setup(port, "openai")
        for sync in (True, False):
            rows.append(_ttft(c, name, sync, iters))
    return rows


def _first_httpx(c: Any, m: str) -> float:
    from clients import _body

    t0, t1 = time.perf_counter(), 0.0
    with c.client.stream("POST", c.base + "/v1/chat/completions", json=_body(m)) as r:
        for line in r.iter_lines():
            if line.startswith("data: {") and not t1:
                json.loads(line[6:])
                t1 = time.perf_counter()
    return t1 - t0


async def _afirst_httpx(c: Any, m: str) -> float:
    from clients import _body

    t0, t1 = time.perf_counter(), 0.0
    async with c.aclient.stream("POST", c.base + "/v1/chat/completions", json=_body(m)) as r:
        async for line in r.aiter_lines():
            if line.startswith("data: {") and not t1:
                json.loads(line[6:])
                t1 = time.perf_counter()
    return t1 - t0


def _first_kairos(c: Any, m: str) -> float:
    t0, t1 = time.perf_counter(), 0.0
    with c.p.chat_stream(c._req(m)) as s:
        for _ in s:
            t1 = t1 or time.perf_counter()
    return t1 - t0


async def _afirst_kairos(c: Any, m: str) -> float:
    t0, t1 = time.perf_counter(), 0.0
    async with await c.ap.chat_stream(c._req(m)) as s:
        async for _ in s:
            t1 = t1 or time.perf_counter()
    return t1 - t0


def _ttft(c: Any, name: str, sync: bool, iters: int) -> dict[str, Any]:
    fn = {
        ("httpx", True): _first_httpx,
        ("httpx", False): _afirst_httpx,
        ("kairos", True): _first_kairos,
        ("kairos", False): _afirst_kairos,
    }[name, sync]
    loop = asyncio.new_event_loop()
    m = model(5)
    samples = []
    try:
        for i in range(iters + 5):
            r = fn(c, m) if sync else loop.run_until_complete(fn(c, m))
            if i >= 5:  # the first few warm the connection and caches
                samples.append(r * 1e6)
    finally:
        _close(loop)
    return {"client": name, "mode": "sync" if sync else "async", "us": samples}


# -- import time and cold start (fresh interpreters) -----------------------------------------------
READY = "kairos ready (import kairos; kairos.provider), timer"
HTTPX_TIMER = "httpx, timer"
_TIMER = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"


def import_rows(mods: list[str], runs: int) -> list[dict[str, Any]]:
    """Cumulative ``-X importtime`` of each module. The client half that ``import kairos``
    leaves for first use (``kairos.provider`` loads it, and httpx) is timed inside the
    process instead (importtime has no single line for it), next to httpx timed the same way."""
    rows = []
    for mod in mods:
        samples = []
        for _ in range(runs if mod != "litellm" else max(2, runs // 3)):
            cmd = [sys.executable, "-X", "importtime", "-c", f"import {mod}"]
            err = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stderr
            for line in err.splitlines():
                parts = line.split("|")
                if len(parts) == 3 and parts[2].strip() == mod and int(parts[1]):
                    samples.append(int(parts[1]) / 1000)
        rows.append({"module": mod, "ms": samples})
    if "kairos" in mods:
        for label, code in (
            (HTTPX_TIMER, "import httpx"),
            (READY, "import kairos; kairos.provider"),
        ):
            samples = []
            for _ in range(runs):
                cmd = [sys.executable, "-c", _TIMER.format(code)]
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
                samples.append(float(out) * 1000)
            rows.append({"module": label, "ms": samples})
    return rows


def kairos_import_modules() -> list[str]:
    """Which kairos modules ``import kairos`` loads (providers and the CLI must not be there)."""
    code = "import sys, kairos; print(' '.join(sorted(m for m in sys.modules if 'kairos' in m)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return out.stdout.split()


COLD = {
    "floor": ("Floor", "openai"),
    "httpx": ("Httpx", "openai"),
    "kairos": ("Kairos", "openai"),
    "openai-sdk": ("OpenAISDK", "openai"),
    "anthropic-sdk": ("AnthropicSDK", "anthropic"),
    "litellm": ("LiteLLM", "openai"),
}


def cold_rows(port: int, names: list[str], runs: int) -> list[dict[str, Any]]:
    """Wall time from starting a fresh interpreter to its first stream read (5 chunks)."""
    base = _bare_python(runs)
    rows = [{"client": "python -c pass", "ms": base}]
    for name in names:
        cls, fmt = COLD[name]
        code = (
            f"import sys; sys.path.insert(0, {str(HERE)!r}); from clients import {cls}; "
            f"c = {cls}(); c.setup({port}, {fmt!r}); n, _ = c.stream({model(5)!r}); "
            "assert n == 5; print('ok', flush=True)"
        )
        samples = []
        for _ in range(runs if name != "litellm" else max(1, runs // 3)):
            t0 = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
            )
            if out.stdout.strip() == "ok":
                samples.append((time.perf_counter() - t0) * 1e3)
        rows.append({"client": name, "ms": samples})
    return rows


def _bare_python(runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        out.append((time.perf_counter() - t0) * 1e3)
    return out


# -- many concurrent streams, each client in a fresh process ---------------------------------------
def concurrency_rows(
    port: int, names: list[str], streams: int, n: int, timeout: float
) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        fmt = formats(name)[0]
        cmd = [
            sys.executable,
            str(HERE / "run.py"),
            "--worker",
            "concurrency",
            "--client",
            name,
            "--fmt",
            fmt,
            "--port",
            str(port),
            "--streams",
            str(streams),
            "--n",
            str(n),
        ]
        row: dict[str, Any] = {"client": name, "fmt": fmt, "streams": streams, "n": n}
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            row.update(json.loads(out.stdout.strip().splitlines()[-1]))
        except subprocess.TimeoutExpired:
            row.update(ok=False, error=f"did not finish within {timeout:g} s")
        except (ValueError, IndexError):
            row.update(ok=False, error=(out.stderr or "no output").strip()[-200:])
        rows.append(row)
    return rows


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM; ru_maxrss would include the parent's before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def concurrency_worker(name: str, fmt: str, port: int, streams: int, n: int) -> None:
    client = CLIENTS[name]()
    client.setup(port, fmt, conc=streams)
    rss0 = peak_rss_mb()
    want = expected(n, 1, "t")

    async def main() -> bool:
        got = await asyncio.gather(*(client.astream(model(n)) for _ in range(streams)))
        return all(g == want for g in got)

    t0 = time.perf_counter()
    ok = asyncio.run(main())
    wall = time.perf_counter() - t0
    rss = peak_rss_mb()
    print(json.dumps({"wall": [wall], "rss_mb": [rss], "rss_before_mb": [rss0], "ok": ok}))


# -- cancel-to-close: when does the server see the connection go? ----------------------------------
def _seen_closed(port: int, sid: int) -> int | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_disc/{sid}", timeout=5) as r:
        t: int | None = json.loads(r.read())["t"]
    return t


def cancel_rows(port: int, repeats: int, names: list[str]) -> list[dict[str, Any]]:
    ways = []
    if "kairos" in names:
        c = CLIENTS["kairos"]()
        c.setup(port, "openai")
        ways += [(f"kairos sync: {w}", c, w) for w in ("break in with", "close()", "bare break")]
        ways += [
            (f"kairos async: {w}", c, "a" + w)
            for w in ("break in with", "aclose()", "task cancel", "bare break")
        ]
    if "httpx" in names:
        h = CLIENTS["httpx"]()
        h.setup(port, "openai")
        ways += [("httpx: break in with", h, "httpx with"), ("httpx: bare break", h, "httpx bare")]
    if "openai-sdk" in names:
        o = CLIENTS["openai-sdk"]()
        o.setup(port, "openai")
        ways += [("openai-sdk: bare break", o, "openai bare")]
    rows = []
    gc.disable()  # closing must not depend on the cyclic garbage collector
    try:
        for label, client, way in ways:
            rows.append(_cancel(port, label, client, way, repeats))
    finally:
        gc.enable()
    return rows


def _cancel(port: int, label: str, client: Any, way: str, repeats: int) -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    samples: list[float] = []
    missed = 0
    try:
        for _ in range(repeats):
            sid = next(_ids)
            m = model(0, 1, "forever", sid)
            if way[0] == "a":
                t0 = loop.run_until_complete(_acancel(client, way, m))
                # an application's loop keeps running; let it (the server timestamps the close)
                loop.run_until_complete(asyncio.sleep(0.02))
            else:
                t0 = _scancel(client, way, m)
            t1 = _seen_closed(port, sid)
            if t1 is None:
                missed += 1
            else:
                samples.append((t1 - t0) / 1000)
    finally:
        _close(loop)
    return {"way": label, "us": samples, "not_closed": missed, "repeats": repeats}


def _scancel(c: Any, way: str, m: str) -> int:
    t0 = 0
    if way == "break in with":
        with c.p.chat_stream(c._req(m)) as s:
            for i, _ in enumerate(s):
                if i == 5:
                    t0 = time.monotonic_ns()
                    break
    elif way == "close()":
        s = c.p.chat_stream(c._req(m))
        it = iter(s)
        for _ in range(5):
            next(it)
        t0 = time.monotonic_ns()
        s.close()
    elif way == "bare break":
        for i, _ in enumerate(c.p.chat_stream(c._req(m))):
            if i == 5:
                t0 = time.monotonic_ns()
                break
    elif way.startswith("httpx"):
        t0 = _httpx_cancel(c, way, m)
    elif way == "openai bare":
        msgs = [{"role": "user", "content": "hi"}]
        for i, _ in enumerate(c.c.chat.completions.create(model=m, messages=msgs, stream=True)):
            if i == 5:
                t0 = time.monotonic_ns()
                break
    return t0


def _httpx_cancel(c: Any, way: str, m: str) -> int:
    from clients import _body

    t0 = 0
    url = c.base + "/v1/chat/completions"
    if way == "httpx with":
        with c.client.stream("POST", url, json=_body(m)) as r:
            for i, _ in enumerate(r.iter_lines()):
                if i == 5:
                    t0 = time.monotonic_ns()
                    break
    else:
        r = c.client.send(c.client.build_request("POST", url, json=_body(m)), stream=True)
        for i, _ in enumerate(r.iter_lines()):
            if i == 5:
                t0 = time.monotonic_ns()
                break
        del r
    return t0


async def _acancel(c: Any, way: str, m: str) -> int:
    t0 = 0
    if way == "abreak in with":
        async with await c.ap.chat_stream(c._req(m)) as s:
            i = 0
            async for _ in s:
                i += 1
                if i == 5:
                    t0 = time.monotonic_ns()
                    break
    elif way == "aaclose()":
        s = await c.ap.chat_stream(c._req(m))
        for _ in range(5):
            await s.__anext__()
        t0 = time.monotonic_ns()
        await s.aclose()
    elif way == "atask cancel":
        t0 = await _task_cancel(c, m)
    elif way == "abare break":
        i = 0
        async for _ in await c.ap.chat_stream(c._req(m)):
            i += 1
            if i == 5:
                t0 = time.monotonic_ns()
                break
    return t0


async def _task_cancel(c: Any, m: str) -> int:
    s = await c.ap.chat_stream(c._req(m))
    got = asyncio.Event()

    async def consume() -> None:
        i = 0
        async for _ in s:
            i += 1
            if i == 5:
                got.set()

    task = asyncio.ensure_future(consume())
    await got.wait()
    t0 = time.monotonic_ns()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return t0


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        m = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        if m:
            return m.group(1).strip()
    return "unknown"
