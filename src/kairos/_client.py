"""The provider objects callers hold: ``HTTPProvider`` (sync) and ``AsyncHTTPProvider``.

Both wrap one codec, one ``httpx`` client (yours, or one they own) and the stream options, and
expose the same two methods, ``chat`` and ``chat_stream``. Build them with :func:`provider` /
:func:`async_provider`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any

import httpx

from ._codec import WireCodec
from ._http import Timeouts
from ._retry import RetryPolicy
from ._stream import AsyncStream, Stream, StreamOptions
from .llm import ChatRequest, ChatResponse

__all__ = ["AsyncHTTPProvider", "HTTPProvider", "async_provider", "provider"]


def _options(
    timeouts: Timeouts | float | None,
    max_retries: int | RetryPolicy | None,
    max_event_bytes: int | None,
) -> StreamOptions:
    opts = StreamOptions()
    if isinstance(timeouts, int | float):
        timeouts = Timeouts(first_chunk=float(timeouts), idle=float(timeouts))
    if timeouts is not None:
        opts = replace(opts, timeouts=timeouts)
    if isinstance(max_retries, RetryPolicy):
        opts = replace(opts, retry=max_retries)
    elif max_retries is not None:
        opts = replace(opts, retry=RetryPolicy(max_retries=max_retries))
    if max_event_bytes is not None:
        opts = replace(opts, max_event_bytes=max_event_bytes)
    return opts


class _Base:
    def __init__(self, codec: WireCodec, opts: StreamOptions) -> None:
        self.codec = codec
        self.options = opts

    @property
    def name(self) -> str:
        return self.codec.provider

    @property
    def default_model(self) -> str:
        return str(getattr(getattr(self.codec, "config", None), "default_model", ""))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, base_url={self.codec.base_url!r})"


class HTTPProvider(_Base):
    """A sync provider: ``chat(req)`` and ``chat_stream(req)``. Use as a context manager (or
    call ``close()``) to release its connections."""

    def __init__(self, codec: WireCodec, opts: StreamOptions, client: httpx.Client | None) -> None:
        super().__init__(codec, opts)
        self._own = client is None
        self._client = client or httpx.Client(timeout=opts.timeouts.httpx())

    def chat_stream(self, req: ChatRequest) -> Stream:
        return Stream(self._client, self.codec, self.codec.build_request(req), self.options)

    def chat(self, req: ChatRequest) -> ChatResponse:
        with self.chat_stream(req) as stream:
            return stream.get_final_response()

    def close(self) -> None:
        if self._own:
            self._client.close()

    def __enter__(self) -> HTTPProvider:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncHTTPProvider(_Base):
    """The async twin of :class:`HTTPProvider`: ``await chat(req)``, ``await chat_stream(req)``."""

    def __init__(
        self, codec: WireCodec, opts: StreamOptions, client: httpx.AsyncClient | None
    ) -> None:
        super().__init__(codec, opts)
        self._own = client is None
        self._client = client or httpx.AsyncClient(timeout=opts.timeouts.httpx())

    async def chat_stream(self, req: ChatRequest) -> AsyncStream:
        stream = AsyncStream(self._client, self.codec, self.codec.build_request(req), self.options)
        return await stream.start()

    async def chat(self, req: ChatRequest) -> ChatResponse:
        stream = await self.chat_stream(req)
        async with stream:
            return await stream.get_final_response()

    async def aclose(self) -> None:
        if self._own:
            await self._client.aclose()

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
) -> HTTPProvider:
    """A sync provider by name or ``"name/model"``: ``kairos.provider("openai/gpt-4o-mini")``.

    Keys and base URLs default to the provider's environment variables (see README).
    ``timeout`` is a :class:`Timeouts` or one number for the first-chunk and idle clocks.
    ``max_retries`` is a count (default 2), or a :class:`RetryPolicy` to also set the backoff
    (``base_delay``, ``max_delay``) and the cap on a server's ``Retry-After`` (``max_wait``).
    """
    codec = _codec(
        spec, model, api_key=api_key, base_url=base_url, headers=headers, options=options
    )
    return HTTPProvider(codec, _options(timeout, max_retries, max_event_bytes), http_client)


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
) -> AsyncHTTPProvider:
    """The async twin of :func:`provider`."""
    codec = _codec(
        spec, model, api_key=api_key, base_url=base_url, headers=headers, options=options
    )
    return AsyncHTTPProvider(codec, _options(timeout, max_retries, max_event_bytes), http_client)
