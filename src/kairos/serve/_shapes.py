"""HTTP error bodies of ``kairos serve`` in each provider's own shape (pure).

Statuses that are one of ``kairos.testing``'s failure kinds (400, 401, 429, 500, 503, 529) use
the shared renderer (:func:`kairos.testing.render_error`), so an HTTP error and an in-band
failure of the same kind look the same; other statuses (403, 404, 409...) and the emulator's own
errors (unknown route, bad JSON) use the tables below.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["error_body"]

# Error shapes from each provider's API reference ("Errors" pages): OpenAI (and DashScope's
# compatible mode) {"error": {message, type, param, code}}; Anthropic {"type": "error", "error":
# {type, message}}; Gemini (Google API errors) {"error": {code, message, status}}; Ollama
# {"error": "message"}.
_OPENAI_TYPES = {429: "requests", 500: "server_error", 503: "server_error"}
_OPENAI_CODES = {401: "invalid_api_key", 429: "rate_limit_exceeded"}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
# HTTP statuses that are one of kairos.testing's failure kinds
_KIND_BY_STATUS = {
    400: "invalid_request",
    401: "authentication",
    429: "rate_limit",
    500: "server",
    503: "overloaded",
    529: "overloaded",
}
_PHRASES = {
    400: "bad request",
    401: "invalid API key",
    403: "permission denied",
    404: "not found",
    429: "rate limit exceeded",
    500: "internal server error",
    503: "service unavailable",
    529: "overloaded",
}


def error_body(wire: str, status: int, message: str | None = None) -> bytes:
    """An HTTP error body in ``wire``'s own shape."""
    msg = message or _PHRASES.get(status) or f"HTTP {status}"
    kind = _KIND_BY_STATUS.get(status)
    if kind is not None:  # the shared renderer's shapes, the same as in-band failures use
        from ..testing import Fail, render_error

        return render_error(Fail(kind, msg), wire)
    obj: Any
    if wire == "anthropic":
        kind = _ANTHROPIC_TYPES.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        obj = {"type": "error", "error": {"type": kind, "message": msg}}
    elif wire == "gemini":
        google = _GOOGLE_STATUS.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")
        obj = {"error": {"code": status, "message": msg, "status": google}}
    elif wire == "ollama":
        obj = {"error": msg}
    else:
        kind = _OPENAI_TYPES.get(
            status, "server_error" if status >= 500 else "invalid_request_error"
        )
        obj = {
            "error": {
                "message": msg,
                "type": kind,
                "param": None,
                "code": _OPENAI_CODES.get(status),
            }
        }
    return json.dumps(obj, ensure_ascii=False).encode()
