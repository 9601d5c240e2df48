"""The provider objects callers hold: ``HTTPProvider`` (sync) and ``AsyncHTTPProvider``.

Both wrap one codec (from the registry in ``providers``), one ``httpx`` client (yours, or one
they own) and the call options, and expose the same two methods, ``chat`` and
``chat_stream``. Each call gets its own :class:`~kairos._call.Call` (the call owner) driven by
a :class:`~kairos.Stream` / :class:`~kairos.AsyncStream` shell. Build them with
:func:`provider` / :func:`async_provider`.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import _http, _pool
from ._call import Call
from ._codec import HTTPRequest, WireCodec
from ._observe import CallInfo, Observer, checked, observers
from ._options import CallOptions, Timeouts, call_options
from ._output import output_spec
from ._redact import display_url
from ._retry import RetryPolicy
from ._stream import AsyncStream, Stream
from ._validate import check_request
from ._watch import Watch
from .errors import ConfigurationError, KairosError
from .llm import ChatRequest, ChatResponse

if TYPE_CHECKING:
    import httpx

__all__ = ["AsyncHTTPProvider", "HTTPProvider", "async_provider", "provider"]


class _Base:
    def __init__(
        self, codec: WireCodec, opts: CallOptions, observers: Iterable[Observer] = ()
    ) -> None:
        self.codec = codec
        self.options = opts
        self.observers = checked(observers)  # this provider's own, besides kairos.observers
        # the error that made a call fall back (a server rejecting an optional field): later
        # calls send the fallback request at once. Knowledge about the server, kept by the
        # provider; the codec stays stateless.
        self._fallback_after: KairosError | None = None
        self._closed = False

    def _request(self, req: ChatRequest) -> HTTPRequest:
        """The HTTP request for ``req`` (the testing doubles add a header here). Bad input is a
        :class:`ConfigurationError` naming the field, before anything is sent."""
        if self._closed:
            raise ConfigurationError(f"{self.name}: this provider was closed; create a new one")
        check_request(req)
        try:
            request = self.codec.build_request(req)
        except KairosError:
            raise
        except (TypeError, ValueError, UnicodeError, OverflowError, RecursionError) as exc:
            raise ConfigurationError(
                f"{self.name}: the request cannot be encoded ({type(exc).__name__}: {exc})"
            ) from exc
        if self._fallback_after is not None:
            request = self.codec.fallback_request(request, self._fallback_after) or request
        return request

    def _call(self, req: ChatRequest) -> Call:
        spec = output_spec(req.output_schema)
        call = Call(
            self.codec, self._request(req), self.options, on_fallback=self._fell_back, output=spec
        )
        watching = self.observers + observers.snapshot()
        if watching:  # nobody watching: no watch, and nothing to pay for per chunk
            model = req.model or self.default_model
            info = CallInfo(self.name, model, req, self.codec.base_url, call.started)
            call.watch = Watch(info, watching)
        return call

    def _fell_back(self, err: KairosError) -> None:
        self._fallback_after = err

    @property
    def name(self) -> str:
        return self.codec.provider

    @property
    def default_model(self) -> str:
        return str(getattr(getattr(self.codec, "config", None), "default_model", ""))

    def __repr__(self) -> str:
        shown = display_url(self.codec.base_url)
        return f"{type(self).__name__}({self.name!r}, base_url={shown!r})"


class HTTPProvider(_Base):
    """A sync provider: ``chat(req)`` and ``chat_stream(req)``. Use as a context manager (or
    call ``close()``) to release its connections."""

    def __init__(
        self,
        codec: WireCodec,
        opts: CallOptions,
        client: httpx.Client | None,
        observers: Iterable[Observer] = (),
    ) -> None:
        super().__init__(codec, opts, observers)
        self._own = client is None
        self._client = client or _http.client(opts)
        _http.guard_redirects(self._client)  # a caller's client too: see _http

    def chat_stream(self, req: ChatRequest) -> Stream:
        return Stream(self._client, self._call(req))

    def chat(self, req: ChatRequest) -> ChatResponse:
        with self.chat_stream(req) as stream:
            return stream.get_final_response()

    def close(self) -> None:
        """Release the connections (of the client it owns); later calls raise
        :class:`~kairos.ConfigurationError`."""
        self._closed = True
        if self._own:
            self._client.close()

    def __enter__(self) -> HTTPProvider:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncHTTPProvider(_Base):
    """The async twin of :class:`HTTPProvider`: ``await chat(req)``, ``await chat_stream(req)``.

    An httpx client's connections belong to the event loop that opened them. The provider owns
    one client per event loop (so ``asyncio.run`` twice works); a client you pass is used as
    is, and when httpx cannot send from another loop the error is a
    :class:`~kairos.ConfigurationError` saying so."""

    def __init__(
        self,
        codec: WireCodec,
        opts: CallOptions,
        client: httpx.AsyncClient | None,
        observers: Iterable[Observer] = (),
    ) -> None:
        super().__init__(codec, opts, observers)
        self._own = client is None
        self._client = client or _http.async_client(opts)
        _http.guard_redirects(self._client)
        self._loops: weakref.WeakKeyDictionary[Any, httpx.AsyncClient] = weakref.WeakKeyDictionary()

    def _loop_client(self) -> httpx.AsyncClient:
        """The client for the running event loop."""
        import asyncio

        if not self._own:
            return self._client
        loop = asyncio.get_running_loop()
        client = self._loops.get(loop)
        if client is not None:
            return client
        if self._loops:  # a new loop: a new client (the old one's connections are not ours)
            self._client = _http.async_client(self.options)
            _http.guard_redirects(self._client)
        self._loops[loop] = self._client
        return self._client

    async def chat_stream(self, req: ChatRequest) -> AsyncStream:
        call = self._call(req)
        return await AsyncStream(self._loop_client(), call).start()

    async def chat(self, req: ChatRequest) -> ChatResponse:
        stream = await self.chat_stream(req)
        async with stream:
            return await stream.get_final_response()

    async def aclose(self) -> None:
        """Release the connections of the client it owns for this event loop (those of a
        finished loop went with it); later calls raise :class:`~kairos.ConfigurationError`.
        Pending drains are cancelled (a client kairos owns) or awaited (yours, within their
        cap) so that none outlives the provider."""
        import asyncio

        self._closed = True
        if not self._own:
            await _pool.asettle(self._client, cancel=False)
            return
        client = self._loops.get(asyncio.get_running_loop())
        if client is None and not self._loops:
            client = self._client  # never used: bound to no loop yet
        if client is not None:
            await _pool.asettle(client, cancel=True)
            await client.aclose()

    async def __aenter__(self) -> AsyncHTTPProvider:
        return self

    async def __aexit__(self, t: Any, e: Any, tb: Any) -> None:
        await self.aclose()


def _codec(spec: str, model: str | None, **kw: Any) -> WireCodec:
    from .providers import make_codec, split_model

    name, spec_model = split_model(spec)
    return make_codec(name, model=model or spec_model, **kw)


def provider(
    spec: str,
    *,
    model: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    http_client: httpx.Client | None = None,
    timeout: Timeouts | float | None = None,
    max_retries: int | RetryPolicy | None = None,
    max_event_bytes: int | None = None,
    headers: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    observers: Iterable[Observer] = (),
) -> HTTPProvider:
    """A sync provider by name or ``"name/model"``: ``kairos.provider("openai/gpt-4o-mini")``.

    Keys and base URLs default to the provider's environment variables (see README).
    ``timeout`` is a :class:`Timeouts` or one number for the first-chunk and idle clocks.
    ``max_retries`` is a count (default 2), or a :class:`RetryPolicy` to also set the backoff
    (``base_delay``, ``max_delay``) and the cap on a server's ``Retry-After`` (``max_wait``).
    ``observers`` watch this provider's calls, besides those in ``kairos.observers``.
    """
    codec = _codec(
        spec, model, api_key=api_key, base_url=base_url, headers=headers, options=options
    )
    opts = call_options(timeout, max_retries, max_event_bytes)
    return HTTPProvider(codec, opts, http_client, observers)


def async_provider(
    spec: str,
    *,
    model: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    http_client: httpx.AsyncClient | None = None,
    timeout: Timeouts | float | None = None,
    max_retries: int | RetryPolicy | None = None,
    max_event_bytes: int | None = None,
    headers: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    observers: Iterable[Observer] = (),
) -> AsyncHTTPProvider:
    """The async twin of :func:`provider`."""
    codec = _codec(
        spec, model, api_key=api_key, base_url=base_url, headers=headers, options=options
    )
    opts = call_options(timeout, max_retries, max_event_bytes)
    return AsyncHTTPProvider(codec, opts, http_client, observers)
