"""Anthropic errors: HTTP error bodies and ``error`` events -> typed errors.

Typed by ``error.type`` (the "Errors" page of the API reference), the status only when the type
is unknown; never from message text. HTTP errors carry a ``request-id`` header.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._codec import api_error
from ...errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from .._base import as_dict, error_text, json_object, non_json_error

__all__ = ["http_error", "inband_error"]

# error.type values from the "Errors" page of the API reference
_BY_TYPE: dict[str, type[APIStatusError]] = {
    "invalid_request_error": BadRequestError,
    "request_too_large": BadRequestError,
    "authentication_error": AuthenticationError,
    "permission_error": PermissionDeniedError,
    "billing_error": PermissionDeniedError,
    "not_found_error": NotFoundError,
    "rate_limit_error": RateLimitError,
    "api_error": ServerError,
    "timeout_error": ServerError,
    "overloaded_error": OverloadedError,
}

_REQUEST_ID = "request-id"


def inband_error(
    provider: str, obj: Any, status: int | None = None, headers: Mapping[str, str] | None = None
) -> APIStatusError:
    """The typed error for an ``{"type": "error", "error": {...}}`` event or body: the
    class comes from ``error.type`` (the status only when the type is unknown)."""
    info = obj.get("error", obj) if isinstance(obj, dict) else obj
    info = info if isinstance(info, dict) else {"message": info}
    etype = info.get("type") if isinstance(info.get("type"), str) else None
    err = api_error(
        provider,
        status,
        error_text(info) if info else "",
        error_type=etype,
        cls=_BY_TYPE.get(etype or ""),
        headers=headers,
        body=obj,
        request_id_header=_REQUEST_ID,
    )
    if err.request_id is None and isinstance(as_dict(obj).get("request_id"), str):
        err.request_id = obj["request_id"]
    return err


def http_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes
) -> APIStatusError:
    obj = json_object(body)
    if obj is None:
        return non_json_error(provider, status, headers, body, request_id_header=_REQUEST_ID)
    return inband_error(provider, obj, status, headers)
