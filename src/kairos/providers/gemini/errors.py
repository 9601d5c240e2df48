"""Gemini errors: ``google.rpc.Status`` bodies (HTTP, or an in-band data line) -> typed errors.

Typed by the ``status`` name, an ``ErrorInfo`` reason that says more (a bad key is a 400
INVALID_ARGUMENT with reason API_KEY_INVALID), else the HTTP status; never by message text.
``RetryInfo.retryDelay`` becomes ``retry_after``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..._codec import api_error
from ...errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from .._base import as_dict, as_int, error_text, non_json_error

__all__ = ["http_error", "inband_error"]

# google.rpc.Code names (the "status" field of Google error bodies); ErrorInfo reasons that
# say more than the status (a bad key is a 400 INVALID_ARGUMENT on Gemini)
_BY_STATUS: dict[str, type[APIStatusError]] = {
    "UNAUTHENTICATED": AuthenticationError,
    "PERMISSION_DENIED": PermissionDeniedError,
    "NOT_FOUND": NotFoundError,
    "RESOURCE_EXHAUSTED": RateLimitError,
    "UNAVAILABLE": OverloadedError,
    **dict.fromkeys(("INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE"), BadRequestError),
    **dict.fromkeys(("ALREADY_EXISTS", "ABORTED"), ConflictError),
    **dict.fromkeys(("INTERNAL", "UNKNOWN", "DEADLINE_EXCEEDED", "DATA_LOSS"), ServerError),
}
_BY_REASON: dict[str, type[APIStatusError]] = dict.fromkeys(
    ("API_KEY_INVALID", "API_KEY_EXPIRED"), AuthenticationError
)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


def inband_error(provider: str, err: Any) -> APIStatusError:
    """An ``{"error": {...}}`` data line: typed by its ``status`` name, else its ``code``."""
    info = as_dict(err) or {"message": err}
    return _error(provider, as_int(info.get("code")), info, err, {})


def http_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes
) -> APIStatusError:
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError):
        obj = None
    if isinstance(obj, list) and obj:  # streamGenerateContent without alt=sse
        obj = obj[0]
    if not isinstance(obj, dict):
        return non_json_error(provider, status, headers, body)
    info = as_dict(obj.get("error")) or obj
    return _error(provider, status, info, obj, headers)


def _error(
    provider: str, status: int | None, info: dict[str, Any], body: Any, headers: Mapping[str, str]
) -> APIStatusError:
    kind = info.get("status") if isinstance(info.get("status"), str) else None
    raw = info.get("details")  # a list of objects; any other JSON value is ignored
    details = [d for d in raw if isinstance(d, dict)] if isinstance(raw, list) else []
    reasons = [d.get("reason") for d in details if str(d.get("@type")).endswith("ErrorInfo")]
    cls = next((_BY_REASON[r] for r in reasons if isinstance(r, str) and r in _BY_REASON), None)
    cls = cls or _BY_STATUS.get(kind or "")
    message = error_text(info) if info else f"HTTP {status}"
    err = api_error(provider, status, message, error_type=kind, cls=cls, headers=headers, body=body)
    if isinstance(err, RateLimitError | OverloadedError) and err.retry_after is None:
        err.retry_after = _retry_delay(details)
    return err


def _retry_delay(details: list[dict[str, Any]]) -> float | None:
    """``google.rpc.RetryInfo.retryDelay`` (a ``"37s"`` duration), in seconds."""
    for d in details:
        if str(d.get("@type")).endswith("RetryInfo"):
            match = _DURATION.match(str(d.get("retryDelay")))
            if match:
                return float(match.group(1))
    return None
