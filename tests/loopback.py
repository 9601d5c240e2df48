"""A real HTTP/1.1 server on 127.0.0.1 for tests: scripted replies, recorded requests, faults.

Each reply is a :class:`Reply`: status, headers and body pieces (bytes, or a float meaning
"sleep that many seconds"), sent with chunked transfer encoding unless ``content_length`` is set.
The server records every request (method, path, headers, body) and whether the client hung up
while the body was still being sent (``disconnects``). Everything is bounded: each sleep is
short and the server thread stops when the context manager exits.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Piece = bytes | float


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "text/event-stream"})
    pieces: Iterable[Piece] = ()
    content_length: bool = False  # send Content-Length instead of chunked
    drop: bool = False  # close the socket without the chunked terminator
    hold_open: float = 0.0  # seconds to keep the socket open after the body

    @classmethod
    def body(cls, data: bytes, *, split: int = 0, **kw: Any) -> Reply:
        pieces: list[Piece] = (
            [data] if not split else [data[i : i + split] for i in range(0, len(data), split)]
        )
        return cls(pieces=pieces, **kw)

    @classmethod
    def json(cls, status: int, obj: Any, **kw: Any) -> Reply:
        headers = {"content-type": "application/json", **kw.pop("headers", {})}
        return cls(status, headers, [json.dumps(obj).encode()], content_length=True, **kw)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LoopbackServer:
    def __init__(self, replies: Iterable[Reply] | Callable[[Seen], Reply]) -> None:
        self._replies = replies if callable(replies) else iter(list(replies))
        self.requests: list[Seen] = []
        self.disconnects = 0
        self.completed = 0
        self.disconnected = threading.Event()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                outer._handle(self)

            do_GET = do_POST

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _next_reply(self, seen: Seen) -> Reply:
        if callable(self._replies):
            return self._replies(seen)
        try:
            return next(self._replies)
        except StopIteration:
            return Reply.json(500, {"error": {"message": "loopback: no reply scripted"}})

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("content-length") or 0)
        body = h.rfile.read(length) if length else b""
        seen = Seen(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}, body)
        with self._lock:
            self.requests.append(seen)
            reply = self._next_reply(seen)
        try:
            self._send(h, reply)
            with self._lock:
                self.completed += 1
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            with self._lock:
                self.disconnects += 1
            self.disconnected.set()
            h.close_connection = True

    def _send(self, h: BaseHTTPRequestHandler, reply: Reply) -> None:
        pieces: Iterable[Piece] = reply.pieces
        h.send_response(reply.status)
        for k, v in reply.headers.items():
            h.send_header(k, v)
        if reply.content_length:
            pieces = list(pieces)
            total = sum(len(p) for p in pieces if isinstance(p, bytes))
            h.send_header("content-length", str(total))
        else:
            h.send_header("transfer-encoding", "chunked")
        h.end_headers()
        h.wfile.flush()
        for piece in pieces:
            if isinstance(piece, float):
                time.sleep(piece)
                continue
            if not piece:
                continue
            if reply.content_length:
                h.wfile.write(piece)
            else:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            h.wfile.flush()
        if reply.drop:
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        if not reply.content_length:
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        if reply.hold_open:
            time.sleep(reply.hold_open)


def endless(piece: bytes, gap: float, limit: float = 5.0) -> Iterator[Piece]:
    """Pieces forever-ish (bounded by ``limit`` seconds), for cancellation tests."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        yield piece
        yield gap
