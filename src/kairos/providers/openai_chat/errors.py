"""Chat Completions errors: HTTP error bodies and in-band error objects -> typed errors.

Typed from the status and the structured ``code`` / ``type`` fields (OpenAI API reference,
"Error codes"), never from message text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._codec import api_error
from ...errors import (
    APIStatusError,
    ContextLengthError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from .._base import error_text, json_object, non_json_error

__all__ = ["http_error", "inband_error", "names_stream_options"]

# structured error codes / types that say more than the HTTP status
_BY_CODE: dict[str, type[APIStatusError]] = {
    "context_length_exceeded": ContextLengthError,
    "rate_limit_exceeded": RateLimitError,
    "rate_limit_error": RateLimitError,
    "insufficient_quota": PermissionDeniedError,
    "overloaded_error": OverloadedError,
    "server_error": ServerError,
}


# error types that only say "the server failed": the status, when there is one, says more
# (a 503 or 529 "server_error" is an overload, with its Retry-After)
_GENERIC = frozenset(("server_error",))


def _status(info: dict[str, Any]) -> int | None:
    """The status an in-band error names: ``status_code``, ``status`` or a numeric ``code``
    (an integer, or a string of three digits as LiteLLM's proxy sends: ``"503"``)."""
    for key in ("status_code", "status", "code"):
        value = info.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and len(value) == 3 and value.isdigit():
            return int(value)
    return None


def _class(code: str | None, kind: Any, status: int | None) -> type[APIStatusError] | None:
    """The class the structured fields name; None: the status decides."""
    name = code if code in _BY_CODE else str(kind)
    if status is not None and name in _GENERIC:
        return None
    return _BY_CODE.get(name)


def inband_error(provider: str, err: Any) -> APIStatusError:
    info = err if isinstance(err, dict) else {"message": err}
    status = _status(info)
    kind = info.get("code") if isinstance(info.get("code"), str) else info.get("type")
    etype = kind if isinstance(kind, str) else None
    cls = _class(etype, info.get("type"), status)
    return api_error(provider, status, error_text(info), error_type=etype, cls=cls, body=err)


def http_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes
) -> APIStatusError:
    obj = json_object(body)
    if obj is None:
        return non_json_error(provider, status, headers, body)
    info = obj.get("error", obj)
    info = info if isinstance(info, dict) else {"message": info}
    code = info.get("code") if isinstance(info.get("code"), str) else None
    etype = code or (info.get("type") if isinstance(info.get("type"), str) else None)
    cls = _class(code, info.get("type"), status)
    if cls is RateLimitError and status != 429 and etype == "insufficient_quota":
        cls = PermissionDeniedError
    message = error_text(info) if info else f"HTTP {status}"
    return api_error(
        provider, status, message, error_type=etype, cls=cls, headers=headers, body=obj
    )


def names_stream_options(err: APIStatusError) -> bool:
    body = err.body if isinstance(err.body, dict) else {}
    info = body.get("error", body)
    if isinstance(info, dict) and info.get("param") == "stream_options":
        return True
    detail = body.get("detail")
    if isinstance(detail, list):
        for item in detail:
            if isinstance(item, dict) and "stream_options" in (item.get("loc") or []):
                return True
    # Capability probe, not error classification: servers that reject unknown fields name
    # the field they rejected; the error's type is already decided by its status.
    return "stream_options" in err.message
