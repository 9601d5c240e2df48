"""Reading a response's body, and closing it: at once, or after draining the rest so that
its connection is reused (see ``_pool``)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from .. import _pool
from ..errors import StreamInterrupted
from ._clock import ReadClock, remove_read_clock
from ._errors import ReadTimedOut, map_error


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
            yield from response.iter_bytes()  # closes the response at the end
            _pool.returned(response.extensions)
            return
        response.is_stream_consumed = True
        for data in stream:
            if data:
                yield data
        remove_read_clock(response)  # before the connection goes back to the pool
        response.close()
        _pool.returned(response.extensions)
    except httpx.ReadTimeout as exc:
        raise ReadTimedOut() from exc
    except httpx.HTTPError as exc:
        _with_request(exc, response)
        raise map_error(exc, provider, body_started=True) from exc
    except OSError as exc:  # a socket shut down by close() from another thread
        raise StreamInterrupted(f"connection closed ({exc})", provider=provider) from exc


async def aiter_body(response: httpx.Response, provider: str) -> AsyncIterator[bytes]:
    try:
        stream = _raw_stream(response, httpx.AsyncByteStream)
        if stream is None:
            async for data in response.aiter_bytes():
                yield data
            _pool.returned(response.extensions)
            return
        response.is_stream_consumed = True
        async for data in stream:
            if data:
                yield data
        remove_read_clock(response)
        await response.aclose()
        _pool.returned(response.extensions)
    except httpx.ReadTimeout as exc:
        raise ReadTimedOut() from exc
    except httpx.HTTPError as exc:
        _with_request(exc, response)
        raise map_error(exc, provider, body_started=True) from exc
    except OSError as exc:
        raise StreamInterrupted(f"connection closed ({exc})", provider=provider) from exc


_REST = "kairos_rest"  # marks a complete stream whose rest is (to be) drained


def park(
    response: httpx.Response, pieces: Iterator[bytes], clock: ReadClock | None, cap: float
) -> None:
    """The stream is complete: the rest of the body (the chunked terminator, usually) is read
    when the response is closed, for at most ``cap`` seconds, so that httpx returns the
    connection to the pool instead of closing it. Without a read clock (no network stream to
    bound the reads) or with no cap, nothing is parked: closing closes at once."""
    if clock is not None and cap > 0 and _pool.kept(response.extensions):
        response.extensions[_REST] = (pieces, clock, cap)


async def apark(
    response: httpx.Response, pieces: AsyncIterator[bytes], clock: ReadClock | None, cap: float
) -> None:
    """As :func:`park`, but the rest is read at once by a background task (``_pool``) that
    closes the response when done; the caller is not held."""
    pool = response.extensions.get(_pool.POOL)
    if clock is None or cap <= 0 or pool is None or not _pool.kept(response.extensions):
        await _pool.aclose_quietly(pieces)
        await aclose(response)
        return
    response.extensions[_REST] = True

    async def done() -> None:
        response.extensions.pop(_REST, None)
        await aclose(response)

    pool.start_drain(_pool.adrain(pieces, clock, cap, done))


def abort(response: httpx.Response) -> None:
    """Stop a blocked read from any thread: shut the socket down (the reader then closes).
    A complete stream's connection is left to its drain (bounded by its cap)."""
    if _REST in response.extensions:
        return
    stream: Any = response.extensions.get("network_stream")
    sock = None
    if stream is not None and hasattr(stream, "get_extra_info"):
        try:
            sock = stream.get_extra_info("socket")
        except Exception:  # pragma: no cover - exotic transports
            sock = None
    if sock is not None and hasattr(sock, "shutdown"):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def close(response: httpx.Response, drain: bool = True) -> None:
    """Close the response; a parked rest is drained first (``drain``) or left parked."""
    if _REST in response.extensions:
        if not drain:
            return
        rest = response.extensions.pop(_REST, None)
        if rest is not None:
            _pool.drain(*rest)
    remove_read_clock(response)
    with contextlib.suppress(Exception):  # closing must never mask the error being reported
        response.close()


async def aclose(response: httpx.Response, turn: bool = False) -> None:
    """Close the response, unless its drain is running (the drain closes it; with ``turn`` it
    gets one turn of the loop first, enough to end when the rest is already here)."""
    if _REST in response.extensions:
        if turn:
            await _pool.turn()
        return
    remove_read_clock(response)
    with contextlib.suppress(Exception):
        await response.aclose()
