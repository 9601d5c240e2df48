"""Where the CPU of one streamed event goes, layer by layer (issue 17).

    python benchmarks/layers.py [--n 20000] [--reps 5] [--modes sync,async]

The same OpenAI stream (``--n`` events, one HTTP chunk each, written by ``server.py`` at once)
is read by stacks that each add one layer, every one in a fresh interpreter, CPU time of the
client process, median over ``--reps`` streams after a warm-up stream on the same connection:

- ``socket``: recv until the body's end, nothing parsed (the kernel and the read loop)
- ``h11``: + h11 parses the response (an ``h11.Data`` event per chunk), no JSON
- ``httpcore``: + httpcore's connection pool and body iterator (async: on anyio)
- ``httpx``: + httpx's client, iterating ``response.stream`` (the bytes kairos reads)
- ``kairos``: + kairos: SSE, JSON, the stream machine, chunk objects, the accumulator
- ``floor``: the benchmark's raw-socket client (hand-written chunked and SSE parsing + JSON)

The difference between two neighbours is what that layer costs per event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fresh
import measure as M
from clients import Floor, Kairos

HERE = Path(__file__).resolve().parent
LAYERS = ("socket", "h11", "httpcore", "httpx", "kairos", "floor")
PATH = "/v1/chat/completions"


def _body(model: str) -> bytes:
    return json.dumps({"model": model, "messages": [], "stream": True}).encode()


def _head(model: str, n: int) -> bytes:
    return (
        f"POST {PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"content-length: {n}\r\n\r\n"
    ).encode()


class SocketReader:
    """recv() until the chunked terminator; nothing parsed."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def stream(self, model: str) -> int:
        body = _body(model)
        self.sock.sendall(_head(model, len(body)) + body)
        tail, got = b"", 0
        while not tail.endswith(b"\r\n0\r\n\r\n"):
            data = self.sock.recv(65536)
            got += len(data)
            tail = (tail + data)[-16:]
        return got


class H11Reader:
    def __init__(self, port: int) -> None:
        import h11

        self.h11 = h11
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = h11.Connection(our_role=h11.CLIENT)

    def stream(self, model: str) -> int:
        h11, conn = self.h11, self.conn
        body = _body(model)
        headers = [("host", "127.0.0.1"), ("content-length", str(len(body)))]
        out = conn.send(h11.Request(method="POST", target=PATH, headers=headers))
        out += conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage())
        self.sock.sendall(out)
        n = 0
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(self.sock.recv(65536))
            elif type(event) is h11.Data:
                n += 1
            elif type(event) is h11.EndOfMessage:
                conn.start_next_cycle()
                return n


class LibReader:
    """httpcore's pool (``iter_stream``) or httpx's client (``response.stream``, the bytes
    kairos reads), counting the pieces of the body."""

    def __init__(self, lib: str, port: int) -> None:
        import httpcore
        import httpx

        self.url = f"http://127.0.0.1:{port}{PATH}"
        if lib == "httpcore":
            self.c: Any = httpcore.ConnectionPool()
            self.ac: Any = httpcore.AsyncConnectionPool()
            self.body, self.abody = (lambda r: r.iter_stream()), (lambda r: r.aiter_stream())
        else:
            self.c, self.ac = httpx.Client(), httpx.AsyncClient()
            self.body = self.abody = lambda r: r.stream

    def stream(self, model: str) -> int:
        with self.c.stream("POST", self.url, content=_body(model)) as r:
            return sum(1 for _ in self.body(r))

    async def astream(self, model: str) -> int:
        n = 0
        async with self.ac.stream("POST", self.url, content=_body(model)) as r:
            async for _ in self.abody(r):
                n += 1
        return n


def _reader(layer: str, port: int) -> Any:
    if layer in ("kairos", "floor"):
        c = Kairos() if layer == "kairos" else Floor()
        c.setup(port, "openai")
        return c
    if layer in ("socket", "h11"):
        return (SocketReader if layer == "socket" else H11Reader)(port)
    return LibReader(layer, port)


def worker(layer: str, sync: bool, port: int, n: int, reps: int) -> list[float]:
    r = _reader(layer, port)
    loop = asyncio.new_event_loop()

    def one(model: str) -> Any:
        return r.stream(model) if sync else loop.run_until_complete(r.astream(model))

    one(M.model(10))
    out = []
    for _ in range(reps):
        c0 = time.process_time()
        one(M.model(n))
        out.append((time.process_time() - c0) / n * 1e6)
    loop.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--modes", default="sync,async")
    ap.add_argument("--rounds", type=int, default=1, help="repeat every row, interleaved")
    a = fresh.parse(ap, worker)
    if a is None:
        return 0
    rows: dict[tuple[str, str], list[float]] = {}
    with M.Server() as s:
        for _ in range(a.rounds):
            for mode in a.modes.split(","):
                for layer in LAYERS:
                    if layer in ("socket", "h11") and mode == "async":
                        continue  # no async twin: the sync rows are the floor of both
                    args = [layer, mode == "sync", s.port, a.n, a.reps]
                    rows.setdefault((mode, layer), []).extend(
                        fresh.run(HERE / "layers.py", args, 300)
                    )
    print("| mode | layer | CPU us/event, median [min-max] | this layer adds |")
    print("|---|---|---|---|")
    for mode in a.modes.split(","):
        prev = None
        for layer in LAYERS:
            key = (mode, layer) if (mode, layer) in rows else ("sync", layer)
            xs = rows.get(key)
            if not xs:
                continue
            med = statistics.median(xs)
            add = "" if prev is None or layer == "floor" else f"{med - prev:+.2f}"
            rng = f"{med:.2f} [{min(xs):.2f}-{max(xs):.2f}]"
            print(f"| {mode} | {layer}{'' if key[0] == mode else ' (sync)'} | {rng} | {add} |")
            prev = med if layer != "floor" else prev
    return 0


if __name__ == "__main__":
    sys.exit(main())
