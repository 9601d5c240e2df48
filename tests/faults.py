"""A fault-injecting loopback server, built on :mod:`loopback` by composition.

:class:`FaultServer` is a :class:`~loopback.LoopbackServer` that also understands :class:`Fault`
replies (a :class:`~loopback.Reply` with extra knobs). A fault is turned into a plain reply whose
pieces come from a generator doing the faulty part, then sent by the base server:

* ``stall_before``: seconds of silence before the status line (before the first byte);
* ``reset_before``: a TCP reset (``SO_LINGER`` 0) instead of any response;
* ``reset``: a TCP reset after the body pieces, instead of the chunked terminator
  (``drop=True``, inherited, closes with a FIN and no terminator; a body ending normally is
  "truncation with the terminator");
* ``drip``: every byte of the body in its own chunk, flushed with ``TCP_NODELAY``;
* ``encoding``: ``"gzip"`` or ``"deflate"``; the body is compressed incrementally and flushed
  per piece (``Z_SYNC_FLUSH``), so each piece is decodable as soon as it arrives;
* pieces may also be :class:`Stall` (a sleep the server's exit interrupts) or :class:`Gate` (wait
  until the test opens it), besides the base server's bytes and float sleeps.

Every wait is bounded and ends early when the server exits, so no test can hang on a fault.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

from loopback import LoopbackServer, Piece, Reply

__all__ = ["Fault", "FaultServer", "Gate", "Stall", "endless_line"]

WAIT = 5.0  # upper bound on any wait the server does


@dataclass(frozen=True)
class Stall:
    """Send nothing for ``seconds`` (ends early when the server exits)."""

    seconds: float


class Gate:
    """Send nothing until the test calls ``open()`` (at most ``WAIT`` seconds)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.timed_out = False

    def open(self) -> None:
        self._event.set()

    def wait(self) -> None:
        if not self._event.wait(WAIT):
            self.timed_out = True


FaultPiece = Piece | Stall | Gate


@dataclass
class Fault(Reply):
    pieces: Iterable[FaultPiece] = ()  # type: ignore[assignment]
    stall_before: float = 0.0
    reset_before: bool = False
    reset: bool = False
    drip: bool = False
    encoding: Literal["gzip", "deflate"] | None = None
    sent: list[int] = field(default_factory=list)  # body bytes handed to the socket, per reply


class _Reset(Exception):
    """Raised from a fault's piece generator: the server answers with a TCP reset."""


def _rst(h: BaseHTTPRequestHandler) -> None:
    """Make the socket's close send RST instead of FIN (the handler closes it right after)."""
    h.close_connection = True
    sock: socket.socket = h.connection
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _compressor(encoding: str) -> Any:
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    return zlib.compressobj(6, zlib.DEFLATED, wbits)


class FaultServer(LoopbackServer):
    """A loopback server that also plays :class:`Fault` replies."""

    def __init__(self, replies: Any) -> None:
        super().__init__(replies)
        self.stopping = threading.Event()

    def __exit__(self, *exc: Any) -> None:
        self.stopping.set()
        super().__exit__(*exc)

    def _send(self, h: BaseHTTPRequestHandler, reply: Reply) -> None:
        if not isinstance(reply, Fault):
            super()._send(h, reply)
            return
        if reply.stall_before:
            self.stopping.wait(min(reply.stall_before, WAIT))
        if reply.reset_before:
            _rst(h)
            return
        headers = dict(reply.headers)
        if reply.encoding:
            headers["content-encoding"] = reply.encoding
        if reply.drip:
            h.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        plain = Reply(
            reply.status,
            headers,
            self._pieces(reply),
            content_length=reply.content_length,
            drop=reply.drop,
            hold_open=reply.hold_open,
        )
        try:
            super()._send(h, plain)
        except _Reset:
            _rst(h)

    def _pieces(self, reply: Fault) -> Iterator[Piece]:
        zip_ = _compressor(reply.encoding) if reply.encoding else None
        for piece in reply.pieces:
            if isinstance(piece, Stall):
                self.stopping.wait(min(piece.seconds, WAIT))
                continue
            if isinstance(piece, Gate):
                piece.wait()
                continue
            if isinstance(piece, float):
                yield piece
                continue
            if zip_ is not None:
                piece = zip_.compress(piece) + zip_.flush(zlib.Z_SYNC_FLUSH)
            if reply.drip:
                for i in range(len(piece)):
                    reply.sent.append(1)
                    yield piece[i : i + 1]
            else:
                reply.sent.append(len(piece))
                yield piece
        if zip_ is not None:
            yield zip_.flush()
        if reply.reset:
            raise _Reset


def endless_line(prefix: bytes, size: int = 16384, limit: float = 4.0) -> Iterator[Piece]:
    """``prefix`` then ``size``-byte pieces of ``x`` with no line end, for ``limit`` seconds."""
    yield prefix
    deadline = time.monotonic() + limit
    filler = b"x" * size
    while time.monotonic() < deadline:
        yield filler
