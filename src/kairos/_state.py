"""What a stream's shell and its generator share: the options, the attempt state, retries.

Split from ``_stream.py`` (the sync and async shells); nothing here iterates a body.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx

from . import _http
from ._codec import HTTPRequest, WireCodec
from ._core import StreamCore, scrub
from ._http import Timeouts
from ._retry import RetryPolicy
from .errors import KairosError

__all__ = ["State", "StreamOptions", "is_json"]


@dataclass(frozen=True, slots=True)
class StreamOptions:
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_event_bytes: int = 32 * 1024 * 1024
    max_error_body: int = 64 * 1024


def is_json(response: httpx.Response) -> bool:
    """Whether a successful answer to a stream request is one complete ``application/json``
    body (a server or proxy that ignored ``stream: true``). Such a body is read whole (up to
    ``max_event_bytes``) and parsed by the codec's ``parse_body`` as the full answer, on every
    wire; a JSON body that is no answer ends the stream with a typed error (``ProtocolError``,
    an ``IncompleteStreamError`` without a finish reason, or the API error it holds), never
    with an empty success."""
    ctype: str = response.headers.get("content-type", "")
    return ctype.startswith("application/json")


class State:
    """What the generator and ``close()`` share; it never points back at the ``Stream``."""

    def __init__(self, codec: WireCodec, request: HTTPRequest, opts: StreamOptions) -> None:
        self.codec = codec
        self.request = request
        self.opts = opts
        self.started = time.monotonic()
        self.response: httpx.Response | None = None
        self.core: StreamCore | None = None
        self.cancelled = False
        self.fallback_used = False
        self.fell_back = False
        self.lock = threading.Lock()

    def new_core(self, response: httpx.Response) -> StreamCore:
        o = self.opts
        self.response = response
        self.core = StreamCore(
            self.codec, o.timeouts, self.started, o.max_event_bytes, secrets=self.request.secrets
        )
        _http.install_read_clock(response, self.core.time_left)
        return self.core

    def on_error(self, err: KairosError, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None to give up (and raise ``err``). A codec's
        one-time fallback request (``fallback_request``) is tried first and sets ``fell_back``;
        it does not count as a retry."""
        scrub(err, self.request.secrets)
        self.fell_back = False
        if not self.fallback_used:
            retry_with = getattr(self.codec, "fallback_request", None)
            alt = retry_with(self.request, err) if retry_with else None
            if alt is not None:
                self.request = alt
                self.fallback_used = self.fell_back = True
                return 0.0
        if self.cancelled or not self.opts.retry.should_retry(err, attempt):
            return None
        wait = self.opts.retry.delay(err, attempt)
        total = self.opts.timeouts.total
        if total is not None and time.monotonic() + wait > self.started + total:
            return None
        return wait

    def abort(self) -> None:
        """Mark the stream cancelled and shut its socket so a blocked read returns."""
        with self.lock:
            if self.core is None or not self.core.done:
                self.cancelled = True
            response = self.response
            if response is not None and not response.is_closed:
                _http.abort(response)

    def close_response(self) -> None:
        with self.lock:
            if self.response is not None:
                _http.close(self.response)

    def retry_in_band(self, core: StreamCore) -> bool:
        """An in-band error before the first chunk may be retried like an HTTP error."""
        return core.error is not None and core.visible == 0 and core.error.retryable
