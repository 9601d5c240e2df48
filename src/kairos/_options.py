"""What a caller can set for every call: the clocks, the retry policy and the size limits.

Pure data; :func:`call_options` turns the keyword arguments of :func:`kairos.provider` into one
:class:`CallOptions`. The I/O module (``_http``) translates :class:`Timeouts` for httpx.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ._retry import RetryPolicy
from ._validate import seconds
from .errors import ConfigurationError, DeadlineExceeded, FirstChunkTimeout, KairosError

__all__ = ["CallOptions", "Timeouts", "call_options"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. ``first_chunk`` runs from sending the request to the first event; ``idle``
    from each event to the next (keep-alive comments and pings do not reset it); ``total``
    caps the whole call (``None``: no cap). ``drain`` bounds how long the rest of a complete
    body (after the end marker) is read so that the connection can be reused; a body still
    going on then has its connection closed (0: close at once)."""

    connect: float = 10.0
    first_chunk: float = 120.0
    idle: float = 60.0
    total: float | None = None
    drain: float = 0.25

    def __post_init__(self) -> None:
        """Each clock is a finite number of seconds greater than 0 (``total`` may be None)."""
        for name in ("connect", "first_chunk", "idle", "total"):
            value = getattr(self, name)
            if value is not None or name != "total":
                seconds(value, f"Timeouts.{name}")

    def no_headers(self, provider: str) -> KairosError:
        """The error for a server that sent no response headers in time."""
        if self.total is not None and self.total <= self.first_chunk:
            return DeadlineExceeded(self.message("total"), provider=provider)
        return FirstChunkTimeout(self.message("first"), provider=provider)

    def message(self, clock: str) -> str:
        """The one-line message of a timeout, naming the clock: ``total``, ``first``,
        ``idle`` or ``connect``."""
        if clock == "total":
            return f"timed out after {self.total:g}s (the total deadline of the call)"
        if clock == "first":
            return f"timed out after {self.first_chunk:g}s waiting for the first chunk"
        if clock == "idle":
            return f"timed out after {self.idle:g}s waiting for the next chunk (idle)"
        return f"timed out after {self.connect:g}s connecting to the server"


@dataclass(frozen=True, slots=True)
class CallOptions:
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_event_bytes: int = 32 * 1024 * 1024
    max_error_body: int = 64 * 1024


def call_options(
    timeouts: Timeouts | float | None,
    max_retries: int | RetryPolicy | None,
    max_event_bytes: int | None,
) -> CallOptions:
    """``timeout=`` (a :class:`Timeouts`, or one number for the first-chunk and idle clocks),
    ``max_retries=`` (a count or a :class:`RetryPolicy`) and ``max_event_bytes=``."""
    opts = CallOptions()
    if isinstance(timeouts, int | float) and not isinstance(timeouts, bool):
        value = seconds(timeouts, "timeout")
        timeouts = Timeouts(first_chunk=value, idle=value)
    if timeouts is not None:
        if not isinstance(timeouts, Timeouts):
            raise ConfigurationError(
                f"timeout must be a number of seconds or a kairos.Timeouts, "
                f"not {type(timeouts).__name__}"
            )
        opts = replace(opts, timeouts=timeouts)
    if isinstance(max_retries, RetryPolicy):
        opts = replace(opts, retry=max_retries)
    elif max_retries is not None:
        opts = replace(opts, retry=RetryPolicy(max_retries=max_retries))
    if max_event_bytes is not None:
        if not _positive_int(max_event_bytes):
            raise ConfigurationError(
                f"max_event_bytes must be a positive integer, not {max_event_bytes!r}"
            )
        opts = replace(opts, max_event_bytes=max_event_bytes)
    return opts


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
