"""Exceptions from httpx, as kairos' typed errors."""

from __future__ import annotations

import httpx

from .._options import Timeouts
from ..errors import (
    ConnectError,
    ConnectTimeout,
    KairosError,
    ProtocolError,
    StreamInterrupted,
    Timeout,
)


class ReadTimedOut(Exception):
    """A read ran out of time; the stream decides which clock it was."""


def map_error(
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


def caused(err: KairosError, exc: BaseException) -> KairosError:
    err.__cause__ = exc
    return err
