"""A guard that makes every real network call through httpx fail while it is active.

``block_network()`` hooks httpx's own network transports (``httpx.HTTPTransport`` and
``httpx.AsyncHTTPTransport``, which every httpx client uses unless given another transport)
for as long as it is active. In-memory transports (:class:`ReplayTransport`, the scripted
doubles, ``httpx.MockTransport``) never reach those, so they keep working. Guards nest and may
be used from several threads; the hook is removed when the last one exits.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, ClassVar, TypeVar, cast

import httpx

from ..errors import ConfigurationError

__all__ = ["NetworkBlocked", "block_network"]

F = TypeVar("F", bound=Callable[..., Any])

_LOOPBACK = frozenset(("127.0.0.1", "localhost", "::1", "[::1]"))


class NetworkBlocked(ConfigurationError):
    """A real network request was made while :func:`block_network` was active."""


class _Hook:
    """The installed patch: one per process, counting the active guards."""

    lock: ClassVar[threading.Lock] = threading.Lock()
    active: ClassVar[list[block_network]] = []
    sync_original: ClassVar[Any] = None
    async_original: ClassVar[Any] = None

    @classmethod
    def check(cls, request: httpx.Request) -> None:
        with cls.lock:
            guards = list(cls.active)
        if not guards:
            return
        host = request.url.host
        if host in _LOOPBACK and all(g.allow_loopback for g in guards):
            return
        where = f"{request.url.scheme}://{request.url.netloc.decode()}{request.url.path}"
        raise NetworkBlocked(
            f"kairos.testing.block_network: blocked a real {request.method} to {where}; use "
            "ScriptedProvider, FunctionProvider or ReplayTransport (or allow_loopback=True "
            "for a local server)"
        )

    @classmethod
    def enter(cls, guard: block_network) -> None:
        with cls.lock:
            if not cls.active:
                cls._install()
            cls.active.append(guard)

    @classmethod
    def exit(cls, guard: block_network) -> None:
        with cls.lock:
            cls.active.remove(guard)
            if not cls.active:
                cls._uninstall()

    @classmethod
    def _install(cls) -> None:
        sync_original = httpx.HTTPTransport.handle_request
        async_original = httpx.AsyncHTTPTransport.handle_async_request

        def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
            cls.check(request)
            return sync_original(self, request)

        async def handle_async_request(
            self: httpx.AsyncHTTPTransport, request: httpx.Request
        ) -> httpx.Response:
            cls.check(request)
            return await async_original(self, request)

        cls.sync_original, cls.async_original = sync_original, async_original
        httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
        httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign]

    @classmethod
    def _uninstall(cls) -> None:
        httpx.HTTPTransport.handle_request = cls.sync_original  # type: ignore[method-assign]
        httpx.AsyncHTTPTransport.handle_async_request = cls.async_original  # type: ignore[method-assign]
        cls.sync_original = cls.async_original = None


class block_network:
    """Make real network calls fail with :class:`NetworkBlocked` (a
    :class:`kairos.ConfigurationError`) while active. Use as ``with block_network():``,
    ``async with``, or as a decorator on a sync or async function. ``allow_loopback=True``
    lets requests to 127.0.0.1 / localhost / ::1 through (a local test server)."""

    def __init__(self, *, allow_loopback: bool = False) -> None:
        self.allow_loopback = allow_loopback

    def __enter__(self) -> block_network:
        _Hook.enter(self)
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        _Hook.exit(self)

    async def __aenter__(self) -> block_network:
        return self.__enter__()

    async def __aexit__(self, t: Any, e: Any, tb: Any) -> None:
        self.__exit__(t, e, tb)

    def __call__(self, fn: F) -> F:
        allow = self.allow_loopback
        if inspect.iscoroutinefunction(fn):
            coro_fn = cast(Callable[..., Coroutine[Any, Any, Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with block_network(allow_loopback=allow):
                    return await coro_fn(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with block_network(allow_loopback=allow):
                return fn(*args, **kwargs)

        return cast(F, wrapper)
