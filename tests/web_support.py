"""Helpers for the kairos.web tests: read UI message stream bytes strictly, run an ASGI app on a
loopback port, and an upstream server that notices a client hang-up even while it is silent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

import kairos.web

DONE = b"data: [DONE]\n\n"


def chunk(content: str) -> bytes:
    """One OpenAI Chat Completions SSE event carrying ``content``."""
    delta = {"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}
    return b"data: " + json.dumps(delta).encode() + b"\n\n"


def parse_parts(raw: bytes) -> list[dict[str, Any]]:
    """The parts of a complete UI message stream; fails on anything but ``data: {json}`` events
    separated by blank lines and ending with ``data: [DONE]``."""
    assert raw.endswith(DONE), raw[-200:]
    events = raw[: -len(DONE)].split(b"\n\n")
    assert events[-1] == b"", "every event ends with a blank line"
    parts = []
    for event in events[:-1]:
        assert event.startswith(b"data: ") and b"\n" not in event, event
        parts.append(json.loads(event[len(b"data: ") :]))
    return parts


def collect(source: Any, **kw: Any) -> tuple[list[dict[str, Any]], bytes]:
    """Run ``kairos.web.ui_message_stream(source)`` to the end on a fresh event loop."""

    async def main() -> bytes:
        return b"".join([piece async for piece in kairos.web.ui_message_stream(source, **kw)])

    raw = asyncio.run(main())
    return parse_parts(raw), raw


def types(parts: list[dict[str, Any]]) -> list[str]:
    return [p["type"] for p in parts]


def joined(parts: list[dict[str, Any]], kind: str) -> str:
    return "".join(p["delta"] for p in parts if p["type"] == f"{kind}-delta")


@contextlib.contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """``app`` under Uvicorn on a free 127.0.0.1 port (background thread); yields its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    config = uvicorn.Config(
        app, log_config=None, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class SilentUpstream:
    """An OpenAI-style server that sends one chunk, then says nothing while it watches the
    socket: ``hung_up`` is set (and ``hung_up_at`` stamped) the moment the client closes it.
    Unlike a server that notices on its next write, this sees a hang-up during silence."""

    def __init__(self, silence: float = 5.0) -> None:
        self.silence = silence
        self.hung_up = threading.Event()
        self.hung_up_at = 0.0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> SilentUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._sock.close()
        self._thread.join(self.silence + 2)

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            conn, _ = self._sock.accept()
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.lower().split(b"\r\n")
            if line.startswith(b"content-length:")
        )
        while len(body) < length:
            body += conn.recv(65536)
        delta = {"choices": [{"index": 0, "delta": {"content": "thinking..."}}]}
        event = b"data: " + json.dumps(delta).encode() + b"\n\n"
        conn.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n" + b"%x\r\n%s\r\n" % (len(event), event)
        )
        deadline = time.monotonic() + self.silence
        while time.monotonic() < deadline:
            ready, _, _ = select.select([conn], [], [], 0.005)
            try:
                got = conn.recv(65536) if ready else b"-"
            except ConnectionResetError:
                got = b""
            if got == b"":
                self.hung_up_at = time.monotonic()
                self.hung_up.set()
                return
