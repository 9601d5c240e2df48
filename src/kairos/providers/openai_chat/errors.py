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


def inband_error(provider: str, err: Any) -> APIStatusError:
    info = err if isinstance(err, dict) else {"message": err}
    status = info.get("status_code") or info.get("status") or info.get("code")
    status = status if isinstance(status, int) else None
    kind = info.get("code") if isinstance(info.get("code"), str) else info.get("type")
    etype = kind if isinstance(kind, str) else None
    cls = _BY_CODE.get(etype or "") or _BY_CODE.get(str(info.get("type")))
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
    cls = _BY_CODE.get(code or "") or _BY_CODE.get(str(info.get("type")))
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
