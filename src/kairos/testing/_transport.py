"""In-memory httpx transports: a paced body stream, and :class:`ReplayTransport`.

A body is a sequence of ``bytes`` pieces and ``float`` pauses. It is served as an
``httpx.SyncByteStream`` / ``AsyncByteStream`` whose ``close`` is recorded and ends any pause at
once. The response also carries a ``network_stream`` extension (as httpcore's responses do)
exposing a stand-in socket, so kairos' cross-thread ``stream.close()`` (which shuts the socket
down) interrupts a paused body exactly as it interrupts a real connection, and a ``read`` that
kairos' per-read clock wraps: a pause longer than the time left on the clock (first chunk or
idle; else the httpx read timeout) raises ``httpx.ReadTimeout`` when that time runs out, as a
silent server would.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from ..errors import ConfigurationError

__all__ = ["BodyStream", "ReplayTransport", "paced_response"]


class _AbortSocket(socket.socket):
    """A socket object without a file descriptor: ``shutdown`` (what kairos calls to abort a
    blocked read from another thread) marks the body aborted instead."""

    __slots__ = ("_body",)
    _body: BodyStream

    def shutdown(self, how: int) -> None:
        self._body.abort()


class _NetworkStream:
    """The ``network_stream`` extension: a stand-in socket for kairos' cross-thread abort, and a
    ``read`` that kairos' per-read clock wraps (it passes the time left on the clock that
    applies, first chunk or idle), so a pause times out when a silent server would."""

    def __init__(self, body: BodyStream) -> None:
        sock = _AbortSocket.__new__(_AbortSocket)  # no fd: nothing to leak or close
        sock._body = body
        self._sock = sock
        self.clock: float | None = None

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.clock = timeout
        return b""

    def time_left(self) -> float | None:
        """Seconds left on the reader's clock (None when no clock is installed)."""
        self.clock = None
        self.read(0)  # through kairos' wrapper when installed: it sets ``clock``
        return self.clock

    def get_extra_info(self, info: str) -> Any:
        return self._sock if info == "socket" else None


class BodyStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Bytes with pauses between them. ``closed``: the client closed the body; ``completed``:
    every piece was read; ``sent``: bytes handed to the client."""

    def __init__(self, pieces: Iterable[bytes | float], read_timeout: float | None = None) -> None:
        self._pieces = iter(pieces)
        self._timeout = read_timeout
        self.network = _NetworkStream(self)
        self._aborted = threading.Event()
        self.closed = False
        self.completed = False
        self.sent = 0

    def abort(self) -> None:
        self._aborted.set()

    def _limit(self) -> float | None:
        """How long a read may wait: the reader's clock, else the httpx read timeout."""
        left = self.network.time_left()
        return self._timeout if left is None else max(0.0, left)

    def _after_wait(self, seconds: float, limit: float | None) -> None:
        if self._aborted.is_set():
            raise httpx.ReadError("connection closed")
        if limit is not None and seconds > limit:
            raise httpx.ReadTimeout(f"no data for {limit:g} s")

    def _ahead(self) -> Iterator[tuple[bytes | float, bool]]:
        """Each piece, and whether it is the last (``completed`` is set as it is handed out:
        a client that stops at the end marker has still read the whole body)."""
        it = iter(self._pieces)
        prev = next(it, None)
        for piece in it:
            yield prev, False  # type: ignore[misc]
            prev = piece
        if prev is not None:
            yield prev, True
        else:
            self.completed = True

    def _give(self, piece: bytes, last: bool) -> bytes:
        if self._aborted.is_set():
            raise httpx.ReadError("connection closed")
        self.sent += len(piece)
        self.completed = last
        return piece

    def __iter__(self) -> Iterator[bytes]:
        for piece, last in self._ahead():
            if isinstance(piece, float | int):
                limit = self._limit()
                self._aborted.wait(piece if limit is None else min(piece, limit))
                self._after_wait(piece, limit)
                self.completed = last
                continue
            yield self._give(piece, last)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece, last in self._ahead():
            if isinstance(piece, float | int):
                limit = self._limit()
                deadline = time.monotonic() + (piece if limit is None else min(piece, limit))
                while not self._aborted.is_set():
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    await asyncio.sleep(min(left, 0.02))  # a cancelled task stops here at once
                self._after_wait(piece, limit)
                self.completed = last
                continue
            yield self._give(piece, last)

    def close(self) -> None:
        self.closed = True
        self._aborted.set()

    async def aclose(self) -> None:
        self.close()


def paced_response(
    request: httpx.Request,
    status: int,
    headers: Mapping[str, str],
    pieces: Iterable[bytes | float],
) -> tuple[httpx.Response, BodyStream]:
    """A streamed response for ``request`` serving ``pieces`` (see :class:`BodyStream`)."""
    timeout = request.extensions.get("timeout", {}).get("read")
    body = BodyStream(pieces, timeout if isinstance(timeout, int | float) else None)
    response = httpx.Response(
        status,
        headers=dict(headers),
        stream=body,
        request=request,
        extensions={"network_stream": body.network},
    )
    return response, body


_TYPES = {".ndjson": "application/x-ndjson", ".jsonl": "application/x-ndjson"}


def _guess_type(data: bytes, path: Path | None) -> str:
    if path is not None and path.suffix.lower() in _TYPES:
        return _TYPES[path.suffix.lower()]
    if path is not None and path.suffix.lower() == ".json":
        return "application/json"
    return "application/x-ndjson" if data.lstrip().startswith(b"{") else "text/event-stream"


class ReplayTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Replays recorded raw bytes (an SSE or NDJSON body) for every request, sync or async.

    ``body``: the bytes, a file path (``str`` or ``Path``), or a sequence of byte pieces sent
    as given. ``split``: cut the body into pieces of that many bytes; ``delay``: seconds to
    wait between pieces. The content type is taken from ``headers``, else guessed
    (``.ndjson``/``.jsonl`` files and bodies starting with ``{`` are NDJSON, ``.json`` files
    JSON, anything else SSE). ``requests`` lists what was sent; ``bodies`` the served bodies
    (``closed`` / ``completed`` / ``sent`` say how far each was read)."""

    def __init__(
        self,
        body: bytes | str | Path | Sequence[bytes],
        *,
        split: int | None = None,
        delay: float = 0.0,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        path = None
        if isinstance(body, str | Path):
            path = Path(body)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise ConfigurationError(f"ReplayTransport: cannot read {path}") from exc
            pieces = [data]
        elif isinstance(body, bytes | bytearray):
            data, pieces = bytes(body), [bytes(body)]
        else:
            pieces = [bytes(p) for p in body]
            data = b"".join(pieces)
        if split is not None:
            if split < 1:
                raise ConfigurationError(f"ReplayTransport: split must be >= 1, got {split}")
            pieces = [data[i : i + split] for i in range(0, len(data), split)]
        if delay < 0:
            raise ConfigurationError(f"ReplayTransport: delay must be >= 0, got {delay}")
        self._pieces = pieces
        self._delay = float(delay)
        self._status = status
        given = {k.lower(): v for k, v in (headers or {}).items()}
        given.setdefault("content-type", _guess_type(data, path))
        self._headers = given
        self.requests: list[httpx.Request] = []
        self.bodies: list[BodyStream] = []

    def _paced(self) -> list[bytes | float]:
        out: list[bytes | float] = []
        for i, piece in enumerate(self._pieces):
            if i and self._delay:
                out.append(self._delay)
            out.append(piece)
        return out

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        response, body = paced_response(request, self._status, self._headers, self._paced())
        self.bodies.append(body)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        response, body = paced_response(request, self._status, self._headers, self._paced())
        self.bodies.append(body)
        return response
