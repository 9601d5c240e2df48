"""Every error kairos raises, in one tree.

::

    KairosError
    ├── ConfigurationError            bad options, unknown provider, missing API key
    ├── ConnectError                  could not connect / connection reset before the response
    ├── Timeout                       (also a builtin TimeoutError)
    │   ├── ConnectTimeout
    │   ├── FirstChunkTimeout         no event before the first-chunk deadline
    │   ├── IdleTimeout               no event for too long mid-stream (pings do not count)
    │   └── DeadlineExceeded          the total deadline (also Cancelled)
    ├── APIStatusError                the provider said no: HTTP status or an in-band error event
    │   ├── BadRequestError           400, 404 (NotFoundError), 413, 422
    │   │   ├── ContextLengthError    the prompt does not fit the model
    │   │   └── NotFoundError
    │   ├── AuthenticationError       401
    │   ├── PermissionDeniedError     403
    │   ├── ConflictError             409
    │   ├── RateLimitError            429; ``retry_after`` seconds when the server said
    │   ├── OverloadedError           529 / overloaded_error / 503 "unavailable"
    │   └── ServerError               other 5xx
    ├── StreamError                   the stream broke after it began
    │   ├── StreamInterrupted         connection lost mid-body
    │   ├── IncompleteStreamError     body ended without the end marker or finish reason
    │   ├── ProtocolError             malformed JSON, oversize event, unexpected body
    │   └── OutputError               structured output: not JSON, not the schema, or refused
    └── Cancelled                     closed by the caller (``stream.close()``, ``with`` exit)

Every error keeps ``provider``, ``status`` (HTTP status, or the status an in-band error names),
``error_type`` (the provider's own type/code), ``request_id``, ``body`` (the parsed error body)
and ``partial`` (the :class:`kairos.ChatResponse` accumulated before a mid-stream failure).
Classification uses status codes and structured fields only, never message text; API keys are
redacted from every message before an error is built.
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "Cancelled",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeout",
    "ContextLengthError",
    "DeadlineExceeded",
    "FirstChunkTimeout",
    "IdleTimeout",
    "IncompleteStreamError",
    "KairosError",
    "NotFoundError",
    "OutputError",
    "OverloadedError",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitError",
    "ServerError",
    "StreamError",
    "StreamInterrupted",
    "Timeout",
    "error_for_status",
]


class KairosError(Exception):
    """Base of every kairos error. ``str(err)`` is one line and never holds an API key."""

    partial: Any
    """The :class:`kairos.ChatResponse` accumulated before a mid-stream failure, else None."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        partial: Any = None,
    ) -> None:
        super().__init__(" ".join(message.split()))
        self.message = str(self.args[0])
        self.provider = provider
        self.status = status
        self.error_type = error_type
        self.request_id = request_id
        self.body = body
        self.partial = partial

    def __str__(self) -> str:
        where = f"{self.provider}: " if self.provider else ""
        code = f" (HTTP {self.status})" if self.status else ""
        return f"{where}{self.message}{code}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    @property
    def retryable(self) -> bool:
        """Whether repeating the same request may succeed."""
        return False


class ConfigurationError(KairosError, ValueError):
    pass


class ConnectError(KairosError):
    @property
    def retryable(self) -> bool:
        return True


class Timeout(KairosError, builtins.TimeoutError):
    pass


class ConnectTimeout(Timeout):
    @property
    def retryable(self) -> bool:
        return True


class FirstChunkTimeout(Timeout):
    pass


class IdleTimeout(Timeout):
    pass


class Cancelled(KairosError):
    """The caller stopped the stream (or its total deadline did)."""


class DeadlineExceeded(Timeout, Cancelled):
    pass


class APIStatusError(KairosError):
    pass


class BadRequestError(APIStatusError):
    pass


class ContextLengthError(BadRequestError):
    pass


class NotFoundError(BadRequestError):
    pass


class AuthenticationError(APIStatusError):
    pass


class PermissionDeniedError(APIStatusError):
    pass


class ConflictError(APIStatusError):
    @property
    def retryable(self) -> bool:
        return True


class RateLimitError(APIStatusError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return True


class OverloadedError(APIStatusError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return True


class ServerError(APIStatusError):
    @property
    def retryable(self) -> bool:
        return True


class StreamError(KairosError):
    pass


class StreamInterrupted(StreamError):
    pass


class IncompleteStreamError(StreamError):
    pass


class ProtocolError(StreamError):
    pass


class OutputError(StreamError):
    """A request with ``output_schema`` whose answer is not one JSON value, does not match the
    schema, or was refused; ``partial`` keeps the text."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: ServerError,
    409: ConflictError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
    503: OverloadedError,
    529: OverloadedError,
}


def error_for_status(status: int | None) -> type[APIStatusError]:
    """The error class for an HTTP status (or an in-band error's status)."""
    if status is None:
        return APIStatusError
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls
    if status >= 500:
        return ServerError
    if status >= 400:
        return BadRequestError
    return APIStatusError
