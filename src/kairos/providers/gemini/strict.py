"""What the Gemini API rejects, for ``kairos serve --strict`` and the testing doubles'
``strict=True``: ``check(body, model, preset)`` gives ``(status, message)`` or None.

* "Thought signatures": for Gemini 3 models, each model turn of the current turn (the contents
  after the last user message that is not only function responses) must carry the
  ``thoughtSignature`` of its first function call (Google's
  ``skip_thought_signature_validator`` sentinel is accepted), or the API answers 400;
* ``inlineData`` holds standard base64 (no ``data:`` prefix) of a supported media type
  ("Image/Document/Audio understanding": supported formats).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

__all__ = ["check"]

_SUPPORTED = frozenset(
    (
        *("image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"),
        *("application/pdf", "text/plain", "text/html", "text/css", "text/csv", "text/xml"),
        *("text/markdown", "application/x-javascript", "text/javascript", "text/x-python"),
        *("audio/wav", "audio/mp3", "audio/mpeg", "audio/aiff", "audio/aac", "audio/ogg"),
        *("audio/flac", "video/mp4", "video/mpeg", "video/webm", "video/quicktime"),
    )
)
_DOCS = "https://ai.google.dev/gemini-api/docs/thought-signatures"


def _parts(content: Any) -> list[Any]:
    parts = content.get("parts") if isinstance(content, dict) else None
    return parts if isinstance(parts, list) else []


def _current_turn(contents: list[Any]) -> int:
    """The index where the current turn begins (after the last user message with text)."""
    for i in range(len(contents) - 1, -1, -1):
        c = contents[i]
        user = isinstance(c, dict) and c.get("role", "user") == "user"
        if user and any(isinstance(p, dict) and "functionResponse" not in p for p in _parts(c)):
            return i + 1
    return 0


def _signatures(contents: list[Any]) -> str | None:
    for i in range(_current_turn(contents), len(contents)):
        if not isinstance(contents[i], dict) or contents[i].get("role") != "model":
            continue
        parts = _parts(contents[i])
        calls = [(j, p) for j, p in enumerate(parts) if isinstance(p, dict) and "functionCall" in p]
        if calls and not calls[0][1].get("thoughtSignature"):
            j, part = calls[0]
            name = (part.get("functionCall") or {}).get("name")
            return (
                "Function call is missing a thought_signature in functionCall parts. This is "
                "required for tools to work correctly, and missing thought_signature may lead "
                f"to degraded model performance. Additional data, function call "
                f"`default_api:{name}` , position {j + 1}. Please refer to {_DOCS} for more "
                "details."
            )
    return None


def _inline(contents: list[Any]) -> str | None:
    for i, c in enumerate(contents):
        for j, part in enumerate(_parts(c)):
            blob = part.get("inlineData") if isinstance(part, dict) else None
            if not isinstance(blob, dict):
                continue
            mime = blob.get("mimeType")
            if mime not in _SUPPORTED:
                return f"Unsupported MIME type: {mime}"
            try:
                base64.b64decode(str(blob.get("data", "")), validate=True)
            except (binascii.Error, ValueError):
                where = f"contents[{i}].parts[{j}].inline_data.data"
                return f"Invalid value at '{where}' (TYPE_BYTES), Base64 decoding failed"
    return None


def check(body: dict[str, Any], model: str, preset: str | None = None) -> tuple[int, str] | None:
    contents = body.get("contents")
    contents = contents if isinstance(contents, list) else []
    found = _inline(contents)
    if found is None and model.removeprefix("models/").startswith("gemini-3"):
        found = _signatures(contents)
    return None if found is None else (400, found)
