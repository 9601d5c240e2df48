"""A raw-socket HTTP/1.1 server on 127.0.0.1 that writes exactly the bytes a test scripts.

Unlike ``loopback.py`` (http.server, well-formed framing), each answer here is a list of raw
byte strings and pauses (a float: seconds), so a test controls the chunked framing itself: a
terminator sent late, never, or followed by junk. The server counts connections on its side
(accepted, open now, most open at once), records when each connection was closed by the
client, and when each answer's last piece went out. Every wait is bounded.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

Piece = bytes | float
HOLD = 5.0  # the longest a connection is held open waiting for the client (``never``)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


TERMINATOR = b"0\r\n\r\n"
HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


class RawServer:
    """``answer(request_index, request_bytes)`` gives the pieces of each answer; ``None``
    (as a piece) means: keep the connection open until the client closes it (at most HOLD)."""

    def __init__(self, answer: Callable[[int, bytes], list[Piece | None]]) -> None:
        self._answer = answer
        self._sock = socket.create_server(("127.0.0.1", 0), backlog=512)
        self._sock.settimeout(0.05)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Condition()  # notified whenever a count below changes
        self.accepted = 0
        self.open = 0
        self.most_open = 0
        self.requests = 0
        self.sent_last: list[float] = []  # monotonic time each answer's last piece went out
        self.closed_at: list[float] = []  # monotonic time the client closed each connection
        self._stop = threading.Event()
        self._acceptor = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RawServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()  # the acceptor sees it within its 50 ms accept timeout
        self._acceptor.join(timeout=HOLD)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            with self._lock:
                self.accepted += 1
                self.open += 1
                self.most_open = max(self.most_open, self.open)
            threading.Thread(target=self._conn, args=(conn,), daemon=True).start()

    def _conn(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        try:
            while not self._stop.is_set():
                req, buf = _read_request(conn, buf)
                if req is None:
                    break
                with self._lock:
                    index = self.requests
                    self.requests += 1
                if not self._send(conn, self._answer(index, req)):
                    break
        except OSError:
            pass
        finally:
            with self._lock:
                self.open -= 1
                self.closed_at.append(time.monotonic())
                self._lock.notify_all()
            conn.close()

    def _send(self, conn: socket.socket, pieces: list[Piece | None]) -> bool:
        """False once the connection is done (held until the client left)."""
        for piece in pieces:
            if piece is None:
                _wait_for_close(conn)
                return False
            if isinstance(piece, float):
                time.sleep(piece)
            else:
                conn.sendall(piece)
        with self._lock:
            self.sent_last.append(time.monotonic())
            self._lock.notify_all()
        return True

    def wait_for(self, cond: Callable[[], bool], limit: float = HOLD) -> bool:
        """Whether ``cond`` (on the counts above) holds within ``limit`` seconds."""
        with self._lock:
            return self._lock.wait_for(cond, limit)

    def wait_closed(self, limit: float = HOLD) -> bool:
        """Whether every connection is closed within ``limit`` seconds."""
        return self.wait_for(lambda: self.open == 0, limit)


def _read_request(conn: socket.socket, buf: bytes) -> tuple[bytes | None, bytes]:
    conn.settimeout(HOLD)
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None, b""
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        data = conn.recv(65536)
        if not data:
            return None, b""
        rest += data
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def _wait_for_close(conn: socket.socket) -> None:
    conn.settimeout(HOLD)
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass
