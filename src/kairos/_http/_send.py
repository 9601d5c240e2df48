"""Clients and sending: the pool's size, the request's timeouts, admission, and the typed
error of a send that failed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx

from .. import _pool, _redirects
from .._codec import HTTPRequest
from .._options import CallOptions, Timeouts
from ..errors import ConfigurationError, KairosError
from ._errors import caused, map_error


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
        return caused(t.no_headers(provider), exc)
    except httpx.HTTPError as exc:
        return caused(map_error(exc, provider, body_started=False, timeouts=t), exc)
    except (httpx.InvalidURL, UnicodeError, RuntimeError) as exc:
        return caused(_unsendable(exc, client, provider), exc)
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
        return caused(t.no_headers(provider), exc)
    except httpx.HTTPError as exc:
        return caused(map_error(exc, provider, body_started=False, timeouts=t), exc)
    except (httpx.InvalidURL, UnicodeError, RuntimeError) as exc:
        return caused(_unsendable(exc, client, provider), exc)
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
