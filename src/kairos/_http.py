"""The only module that touches httpx: clients, send, read, close, and exception mapping.

Everything here is a thin twin (sync / async) with the same names; decisions live in the call
owner (``_call``) and the stream machine (``_machine``).

Per-read deadlines: httpx takes one read timeout per request, but a stream has clocks that move
(first chunk, then idle since the last event, capped by a total deadline). When the connection
exposes its network stream (httpcore, HTTP/1.1), :func:`read_clock` makes each read wait at
most until ``ReadClock.deadline``, a plain value the shell updates after every read from the
machine; this module never calls back into the machine. Without a network stream the httpx
read timeout is the fallback and the clocks are still checked whenever bytes arrive.

Connections: sends enter httpx's pool one at a time, and a complete stream's body is read to
its end within ``Timeouts.drain`` (sync: before the response is released; async: by a
background task) so that the connection is reused; both are kept per client in ``_pool``.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from . import _pool, _redirects
from ._codec import HTTPRequest
from ._options import CallOptions, Timeouts
from .errors import (
    ConfigurationError,
    ConnectError,
    ConnectTimeout,
    KairosError,
    ProtocolError,
    StreamInterrupted,
    Timeout,
)

__all__ = [
    "ReadClock",
    "ReadTimedOut",
    "abort",
    "aclose",
    "aiter_body",
    "apark",
    "aread_body",
    "asend",
    "async_client",
    "client",
    "close",
    "iter_body",
    "park",
    "read_body",
    "read_clock",
    "send",
]


def httpx_timeout(t: Timeouts, *, headers: bool = False) -> httpx.Timeout:
    """The httpx timeouts. With ``headers``: for reads until the response headers arrive,
    which must come before the first chunk (and the total deadline), as must a free
    connection from a full pool (``pool``, and the wait at kairos' gate: see ``_admit``)."""
    read = max(t.first_chunk, t.idle)
    if headers:
        read = _first(t)
    return httpx.Timeout(connect=t.connect, read=read, write=max(t.connect, 30.0), pool=_first(t))


def _first(t: Timeouts) -> float:
    return min(t.first_chunk, t.total or t.first_chunk)


# A stream holds its connection for the whole reply: the pool is sized for many at once, as the
# official SDKs size theirs. httpx keeps idle connections only while its pool holds at most
# max_keepalive_connections in all, and checks each idle one against every connection at each
# pool event, so a larger bound costs more CPU than it saves (benchmarks/RESULTS.md, issue 17).
SIZES = CAPACITY, KEEPALIVE = 1000, 100
LIMITS = httpx.Limits(max_connections=CAPACITY, max_keepalive_connections=KEEPALIVE)


def client(opts: CallOptions) -> httpx.Client:
    """The client a provider owns when the caller brings none."""
    with _proxy_errors():
        made = httpx.Client(timeout=httpx_timeout(opts.timeouts), limits=LIMITS)
    return _pool.own(made, *SIZES)


def async_client(opts: CallOptions) -> httpx.AsyncClient:
    with _proxy_errors():
        made = httpx.AsyncClient(timeout=httpx_timeout(opts.timeouts), limits=LIMITS)
    return _pool.own(made, *SIZES)


_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@contextlib.contextmanager
def _proxy_errors() -> Iterator[None]:
    """httpx reads the proxy variables when a client is made: a setting it cannot use is a
    :class:`ConfigurationError` naming the variables (their values may hold credentials)."""
    try:
        yield
    except (ImportError, ValueError, httpx.InvalidURL) as exc:
        import os

        names = [v for v in _PROXY_VARS for n in (v, v.lower()) if os.environ.get(n)]
        where = " / ".join(dict.fromkeys(names)) or "the proxy settings"
        if isinstance(exc, ImportError):
            why = "a SOCKS proxy needs httpx's socks support: pip install 'httpx[socks]'"
        else:
            why = "not a proxy URL httpx can use (http://, https://, socks5://host:port)"
        raise ConfigurationError(f"{where}: {why}") from None


def guard_redirects(client: httpx.Client | httpx.AsyncClient) -> None:
    """Keep the key's header off redirects that leave the request's origin (see _redirects);
    also on a client the caller passed."""
    _redirects.guard(client, is_async=isinstance(client, httpx.AsyncClient))


class ReadTimedOut(Exception):
    """A read ran out of time; the stream decides which clock it was."""


def _map(
    exc: Exception, provider: str, *, body_started: bool, timeouts: Timeouts | None = None
) -> KairosError:
    msg = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    t = timeouts or Timeouts()
    if isinstance(exc, httpx.ConnectTimeout):
        return ConnectTimeout(t.message("connect"), provider=provider)
    if isinstance(exc, httpx.PoolTimeout):
        return ConnectTimeout(
            f"timed out after {t.connect:g}s waiting for a free connection", provider=provider
        )
    if isinstance(exc, httpx.WriteTimeout):
        write = max(t.connect, 30.0)
        return Timeout(f"timed out after {write:g}s sending the request", provider=provider)
    if isinstance(exc, httpx.TimeoutException):
        return Timeout(f"timed out ({msg})", provider=provider)
    if isinstance(exc, httpx.DecodingError):
        return ProtocolError(f"could not decode the response body ({msg})", provider=provider)
    if body_started:
        return StreamInterrupted(f"connection lost mid-stream ({msg})", provider=provider)
    return ConnectError(f"could not reach the server ({msg})", provider=provider)


def _build(
    client: httpx.Client | httpx.AsyncClient, req: HTTPRequest, t: Timeouts, trace: Any
) -> httpx.Request:
    timeout = httpx_timeout(t, headers=True)
    ext = {} if trace is None else {"trace": trace}  # for admission (see _admit)
    request = client.build_request(
        req.method,
        req.url,
        headers=_latin1(req.headers),
        content=req.body,
        timeout=timeout,
        extensions=ext,
    )
    _redirects.mark(request, req)
    return request


def _latin1(headers: dict[str, str]) -> Any:
    """Header values as HTTP carries them: Latin-1 (httpx encodes ``str`` values as ASCII)."""
    if all(v.isascii() for v in headers.values()):
        return headers
    return [(k.encode("ascii"), v.encode("latin-1")) for k, v in headers.items()]


def _body_timeouts(response: httpx.Response, t: Timeouts) -> httpx.Response:
    # body reads fall back to the longer of the two clocks (see the module doc)
    response.request.extensions["timeout"] = httpx_timeout(t).as_dict()
    return response


def send(
    client: httpx.Client, req: HTTPRequest, t: Timeouts, provider: str
) -> httpx.Response | KairosError:
    """The streamed response, or the typed error of a send that failed (returned, not raised:
    the call owner decides whether to retry). First admitted to the pool (see ``_admit``)."""
    gate = _pool.gate(client)
    ticket = gate.enter(_first(t))
    if ticket is None:
        return t.no_headers(provider)
    responded = False
    try:
        response = client.send(_build(client, req, t, ticket.hook(sync=True)), stream=True)
        responded = True
        response.extensions[_pool.GATE] = gate
        return _body_timeouts(response, t)
    except (httpx.ReadTimeout, httpx.PoolTimeout) as exc:
        return _caused(t.no_headers(provider), exc)
    except httpx.HTTPError as exc:
        return _caused(_map(exc, provider, body_started=False, timeouts=t), exc)
    except (httpx.InvalidURL, UnicodeError, RuntimeError) as exc:
        return _caused(_unsendable(exc, client, provider), exc)
    finally:
        ticket.done(responded)


async def asend(
    client: httpx.AsyncClient, req: HTTPRequest, t: Timeouts, provider: str
) -> httpx.Response | KairosError:
    """As :func:`send`; first takes over a pending drain of this client (see ``_pool``)."""
    pool = _pool.apool(client)
    await pool.take_over()
    ticket = await pool.gate.enter(_first(t))
    if ticket is None:
        return t.no_headers(provider)
    responded = False
    try:
        request = _build(client, req, t, ticket.hook(sync=False))
        response = await client.send(request, stream=True)
        responded = True
        response.extensions[_pool.GATE], response.extensions[_pool.POOL] = pool.gate, pool
        return _body_timeouts(response, t)
    except (httpx.ReadTimeout, httpx.PoolTimeout) as exc:
        return _caused(t.no_headers(provider), exc)
    except httpx.HTTPError as exc:
        return _caused(_map(exc, provider, body_started=False, timeouts=t), exc)
    except (httpx.InvalidURL, UnicodeError, RuntimeError) as exc:
        return _caused(_unsendable(exc, client, provider), exc)
    finally:
        ticket.done(responded)


def _unsendable(
    exc: Exception, client: httpx.Client | httpx.AsyncClient, provider: str
) -> KairosError:
    """A request httpx refused to send: a closed client, an async client whose connections
    belong to another event loop, or a URL or header it cannot carry."""
    if client.is_closed:
        return ConfigurationError("the http_client was closed; create a new one", provider=provider)
    if isinstance(exc, RuntimeError):
        if not isinstance(client, httpx.AsyncClient):
            raise exc  # not ours to translate
        return ConfigurationError(
            f"the http_client cannot send from this event loop ({exc}): an httpx client's "
            "connections belong to the loop that opened them (asyncio.run twice?); create the "
            "client in the loop that uses it, or pass no http_client",
            provider=provider,
        )
    return ConfigurationError(f"the request cannot be sent ({exc})", provider=provider)


def _caused(err: KairosError, exc: BaseException) -> KairosError:
    err.__cause__ = exc
    return err


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
        _remove_read_clock(response)  # before the connection goes back to the pool
        response.close()
        _pool.returned(response.extensions)
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
            _pool.returned(response.extensions)
            return
        response.is_stream_consumed = True
        async for data in stream:
            if data:
                yield data
        _remove_read_clock(response)
        await response.aclose()
        _pool.returned(response.extensions)
    except httpx.ReadTimeout as exc:
        raise ReadTimedOut() from exc
    except httpx.HTTPError as exc:
        _with_request(exc, response)
        raise _map(exc, provider, body_started=True) from exc
    except OSError as exc:
        raise StreamInterrupted(f"connection closed ({exc})", provider=provider) from exc


class ReadClock:
    """When the current read must return: ``deadline`` is a ``time.monotonic()`` value the
    shell sets after every read (0 once the stream is done: reads then only take what is
    already there)."""

    __slots__ = ("deadline", "stream")

    def __init__(self, stream: Any, deadline: float) -> None:
        self.stream = stream
        self.deadline = deadline


def read_clock(response: httpx.Response, deadline: float) -> ReadClock | None:
    """Make every body read of ``response`` wait at most until the clock's deadline (see the
    module doc); None when the connection does not expose its network stream."""
    stream: Any = response.extensions.get("network_stream")
    if stream is None or "read" in getattr(stream, "__dict__", {"read": None}):
        return None
    holder = ReadClock(stream, deadline)
    original = stream.read
    now = time.monotonic
    if _is_coroutine_function(original):

        async def aread(max_bytes: int, timeout: float | None = None) -> bytes:
            left = holder.deadline - now()
            return bytes(await original(max_bytes, left if left > 0.001 else 0.001))

        stream.read = aread
    else:

        def read(max_bytes: int, timeout: float | None = None) -> bytes:
            left = holder.deadline - now()
            return bytes(original(max_bytes, left if left > 0.001 else 0.001))

        stream.read = read
    response.extensions["kairos_read_clock"] = holder
    return holder


def _remove_read_clock(response: httpx.Response) -> None:
    holder = response.extensions.get("kairos_read_clock")
    if holder is not None:
        holder.stream.__dict__.pop("read", None)


def _is_coroutine_function(fn: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)


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
    _remove_read_clock(response)
    with contextlib.suppress(Exception):  # closing must never mask the error being reported
        response.close()


async def aclose(response: httpx.Response, turn: bool = False) -> None:
    """Close the response, unless its drain is running (the drain closes it; with ``turn`` it
    gets one turn of the loop first, enough to end when the rest is already here)."""
    if _REST in response.extensions:
        if turn:
            await _pool.turn()
        return
    _remove_read_clock(response)
    with contextlib.suppress(Exception):
        await response.aclose()
