"""Responses errors: HTTP error bodies, ``error`` events and failed responses -> typed errors.

HTTP errors have the Chat Completions body, so they are read by that wire's mapping. In the
stream, an ``error`` event is ``{type: "error", code, message, param}`` (API reference,
"Streaming events") or ``{type: "error", error: {type, code, message, param}}`` (as recorded),
and ``response.failed`` carries ``response.error: {code, message}`` (``ResponseError``: the code
list below). Typed from the structured ``code`` / ``type`` fields only, never from message text.
"""

from __future__ import annotations

from typing import Any

from ..._codec import api_error
from ...errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from .._base import error_text
from ..openai_chat.errors import http_error

__all__ = ["event_error", "failed_error", "http_error"]

_BAD_REQUEST = (
    *("invalid_request_error", "invalid_prompt", "data_residency_mismatch", "invalid_image"),
    *("invalid_image_format", "invalid_base64_image", "invalid_image_url", "image_too_large"),
    *("image_too_small", "image_parse_error", "image_content_policy_violation"),
    *("invalid_image_mode", "image_file_too_large", "unsupported_image_media_type"),
    *("empty_image_file", "failed_to_download_image", "image_file_not_found"),
)
_BY_CODE: dict[str, type[APIStatusError]] = {
    **dict.fromkeys(_BAD_REQUEST, BadRequestError),
    "context_length_exceeded": ContextLengthError,
    "invalid_api_key": AuthenticationError,
    "insufficient_quota": PermissionDeniedError,
    "rate_limit_exceeded": RateLimitError,
    "rate_limit_error": RateLimitError,
    "overloaded_error": OverloadedError,
    "server_error": ServerError,
    "vector_store_timeout": ServerError,
}


def _typed(provider: str, info: dict[str, Any], fallback: str) -> APIStatusError:
    code = info.get("code") if isinstance(info.get("code"), str) else None
    kind = info.get("type") if isinstance(info.get("type"), str) else None
    cls = _BY_CODE.get(code or "") or _BY_CODE.get(kind or "") or APIStatusError
    message = error_text(info) if info.get("message") else fallback
    return api_error(provider, None, message, error_type=code or kind, cls=cls, body=info)


def event_error(provider: str, obj: dict[str, Any]) -> APIStatusError:
    """An ``error`` event, in either shape."""
    inner = obj.get("error")
    if isinstance(inner, dict):
        info = inner
    else:
        info = {k: v for k, v in obj.items() if k not in ("type", "sequence_number")}
        if inner is not None and "message" not in info:
            info["message"] = inner
    return _typed(provider, info, "the server sent an error event")


def failed_error(provider: str, response: dict[str, Any]) -> APIStatusError:
    """The error of a ``failed`` response."""
    err = response.get("error")
    info = err if isinstance(err, dict) else {}
    return _typed(provider, info, "the response failed")
