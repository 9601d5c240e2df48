"""The only module that touches httpx: send, read, close, and exception mapping.

Everything here is a thin twin (sync / async) with the same names; decisions live elsewhere.
Per-read deadlines: httpx takes one read timeout per request, but a stream has clocks that
move (first chunk, then idle since the last event, capped by a total deadline). When the
connection exposes its network stream (httpcore, HTTP/1.1), each read is given the time left
on the clock that applies; otherwise the httpx read timeout is the fallback and the clocks are
still checked whenever bytes arrive.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from ._codec import HTTPRequest
from .errors import (
    ConnectError,
    ConnectTimeout,
    DeadlineExceeded,
    FirstChunkTimeout,
    KairosError,
    ProtocolError,
    StreamInterrupted,
    Timeout,
)

__all__ = [
    "ReadTimedOut",
    "Timeouts",
    "abort",
    "aclose",
    "aiter_body",
    "aread_body",
    "asend",
    "close",
    "install_read_clock",
    "iter_body",
    "read_body",
    "send",
]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. ``first_chunk`` runs from sending the request to the first event; ``idle``
    from each event to the next (keep-alive comments and pings do not reset it); ``total``
    caps the whole call (``None``: no cap)."""

    connect: float = 10.0
    first_chunk: float = 120.0
    idle: float = 60.0
    total: float | None = None

    def httpx(self, *, headers: bool = False) -> httpx.Timeout:
        """The httpx timeouts. With ``headers``: for reads until the response headers arrive,
        which must come before the first chunk (and the total deadline)."""
        read = max(self.first_chunk, self.idle)
        if headers:
            read = min(self.first_chunk, self.total or self.first_chunk)
        return httpx.Timeout(
            connect=self.connect, read=read, write=max(self.connect, 30.0), pool=self.connect
        )

    def no_headers(self, provider: str) -> KairosError:
        """The error for a server that sent no response headers in time."""
        if self.total is not None and self.total <= self.first_chunk:
            return DeadlineExceeded(
                f"total deadline of {self.total:g}s exceeded", provider=provider
            )
        return FirstChunkTimeout(f"no response within {self.first_chunk:g}s", provider=provider)


class ReadTimedOut(Exception):
    """A read ran out of time; the stream decides which clock it was."""


def _map(exc: Exception, provider: str, *, body_started: bool) -> KairosError:
    msg = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return ConnectTimeout(f"connect timed out ({msg})", provider=provider)
    if isinstance(exc, httpx.TimeoutException):
        return Timeout(msg, provider=provider)
    if isinstance(exc, httpx.DecodingError):
        return ProtocolError(f"could not decode the response body ({msg})", provider=provider)
    if body_started:
        return StreamInterrupted(f"connection lost mid-stream ({msg})", provider=provider)
    return ConnectError(f"could not reach the server ({msg})", provider=provider)


def _build(
    client: httpx.Client | httpx.AsyncClient, req: HTTPRequest, t: Timeouts
) -> httpx.Request:
    return client.build_request(
        req.method, req.url, headers=req.headers, content=req.body, timeout=t.httpx(headers=True)
    )


def _body_timeouts(response: httpx.Response, t: Timeouts) -> httpx.Response:
    # body reads fall back to the longer of the two clocks (see the module doc)
    response.request.extensions["timeout"] = t.httpx().as_dict()
    return response


def send(client: httpx.Client, req: HTTPRequest, t: Timeouts, provider: str) -> httpx.Response:
    try:
        return _body_timeouts(client.send(_build(client, req, t), stream=True), t)
    except httpx.ReadTimeout as exc:
        raise t.no_headers(provider) from exc
    except httpx.HTTPError as exc:
        raise _map(exc, provider, body_started=False) from exc


async def asend(
    client: httpx.AsyncClient, req: HTTPRequest, t: Timeouts, provider: str
) -> httpx.Response:
    try:
        return _body_timeouts(await client.send(_build(client, req, t), stream=True), t)
    except httpx.ReadTimeout as exc:
        raise t.no_headers(provider) from exc
    except httpx.HTTPError as exc:
        raise _map(exc, provider, body_started=False) from exc


def read_body(response: httpx.Response, limit: int, provider: str) -> bytes:
    """Up to ``limit`` bytes of a (usually error) body; the response is closed after."""
    buf = bytearray()
    try:
        for data in response.iter_bytes():
            buf += data
            if len(buf) >= limit:
                break
    except httpx.HTTPError:
        pass  # an error body that breaks off still says what it said
    finally:
        response.close()
    return bytes(buf[:limit])


async def aread_body(response: httpx.Response, limit: int, provider: str) -> bytes:
    buf = bytearray()
    try:
        async for data in response.aiter_bytes():
            buf += data
            if len(buf) >= limit:
                break
    except httpx.HTTPError:
        pass
    finally:
        await response.aclose()
    return bytes(buf[:limit])


def _raw_stream(response: httpx.Response, kind: type[Any]) -> Any:
    """The response's byte stream when its body can be read as is: no content coding, not
    read or closed yet. Reading it directly skips httpx's per-piece decoder, chunker and
    context managers (``iter_raw`` does the same loop, with that bookkeeping on top)."""
    if response.is_stream_consumed or response.is_closed or hasattr(response, "_content"):
        return None
    coding = response.headers.get("content-encoding")
    if coding is not None and coding.strip().lower() not in ("", "identity"):
        return None
    stream = response.stream
    return stream if isinstance(stream, kind) else None


def _with_request(exc: httpx.HTTPError, response: httpx.Response) -> None:
    # what httpx's own reader does: errors raised while reading name their request
    if isinstance(exc, httpx.RequestError):
        with contextlib.suppress(RuntimeError):
            exc.request = response.request


def iter_body(response: httpx.Response, provider: str) -> Iterator[bytes]:
    try:
        stream = _raw_stream(response, httpx.SyncByteStream)
        if stream is None:
            yield from response.iter_bytes()
            return
        response.is_stream_consumed = True
        for data in stream:
            if data:
                yield data
        response.close()
    except httpx.ReadTimeout as exc:
        raise ReadTimedOut() from exc
    except httpx.HTTPError as exc:
        _with_request(exc, response)
        raise _map(exc, provider, body_started=True) from exc
    except OSError as exc:  # a socket shut down by close() from another thread
        raise StreamInterrupted(f"connection closed ({exc})", provider=provider) from exc


async def aiter_body(response: httpx.Response, provider: str) -> AsyncIterator[bytes]:
    try:
        stream = _raw_stream(response, httpx.AsyncByteStream)
        if stream is None:
            async for data in response.aiter_bytes():
                yield data
            return
        response.is_stream_consumed = True
        async for data in stream:
            if data:
                yield data
        await response.aclose()
    except httpx.ReadTimeout as exc:
        raise ReadTimedOut() from exc
    except httpx.HTTPError as exc:
        _with_request(exc, response)
        raise _map(exc, provider, body_started=True) from exc
    except OSError as exc:
        raise StreamInterrupted(f"connection closed ({exc})", provider=provider) from exc


def drain(response: httpx.Response, pieces: Iterator[bytes]) -> None:
    """The stream is complete: take what is left of the body if it is already here (the
    chunked terminator usually is) so httpx returns the connection to the pool instead of
    closing it. Reads then time out at once (the read clock), so this never waits."""
    if "kairos_clock_stream" in response.extensions:
        with contextlib.suppress(Exception):
            for _ in zip(range(4), pieces, strict=False):
                pass


async def adrain(response: httpx.Response, pieces: AsyncIterator[bytes]) -> None:
    if "kairos_clock_stream" in response.extensions:
        with contextlib.suppress(Exception):
            for _ in range(4):
                await pieces.__anext__()
    close = getattr(pieces, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()


def install_read_clock(response: httpx.Response, time_left: Callable[[], float | None]) -> None:
    """Make every body read use ``time_left()`` as its timeout (see module doc)."""
    stream: Any = response.extensions.get("network_stream")
    if stream is None or "read" in getattr(stream, "__dict__", {"read": None}):
        return
    original = stream.read
    if _is_coroutine_function(original):

        async def aread(max_bytes: int, timeout: float | None = None) -> bytes:
            left = time_left()
            return bytes(await original(max_bytes, timeout if left is None else left))

        stream.read = aread
    else:

        def read(max_bytes: int, timeout: float | None = None) -> bytes:
            left = time_left()
            return bytes(original(max_bytes, timeout if left is None else left))

        stream.read = read
    response.extensions["kairos_clock_stream"] = stream


def _remove_read_clock(response: httpx.Response) -> None:
    stream = response.extensions.get("kairos_clock_stream")
    if stream is not None:
        stream.__dict__.pop("read", None)


def _is_coroutine_function(fn: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)


def abort(response: httpx.Response) -> None:
    """Stop a blocked read from any thread: shut the socket down (the reader then closes)."""
    stream: Any = response.extensions.get("network_stream")
    sock = None
    if stream is not None and hasattr(stream, "get_extra_info"):
        try:
            sock = stream.get_extra_info("socket")
        except Exception:  # pragma: no cover - exotic transports
            sock = None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def close(response: httpx.Response) -> None:
    _remove_read_clock(response)
    with contextlib.suppress(Exception):  # closing must never mask the error being reported
        response.close()


async def aclose(response: httpx.Response) -> None:
    _remove_read_clock(response)
    with contextlib.suppress(Exception):
        await response.aclose()
