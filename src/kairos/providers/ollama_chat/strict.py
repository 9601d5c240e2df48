"""What an Ollama server rejects, for ``kairos serve --strict`` and the testing doubles'
``strict=True``: ``check(body, model, preset)`` gives ``(status, message)`` or None.

The server decodes the request into Go structs (``api.ChatRequest``): a message's ``content``
must be a string and ``images`` base64 strings (no ``data:`` prefix, no URL); the messages are
Go's own decoding errors, answered with HTTP 400.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["check"]

_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def _image(value: Any) -> str | None:
    if not isinstance(value, str):
        kind = "object" if isinstance(value, dict) else type(value).__name__
        field = "Message.messages.images"
        return f"json: cannot unmarshal {kind} into Go struct field {field} of type string"
    bad = _BASE64.match(value)
    end = bad.end() if bad else 0
    if end != len(value) or len(value) % 4:
        return f"illegal base64 data at input byte {min(end, len(value))}"
    return None


def check(body: dict[str, Any], model: str, preset: str | None = None) -> tuple[int, str] | None:
    messages = body.get("messages")
    for m in messages if isinstance(messages, list) else []:
        if not isinstance(m, dict):
            continue
        content = m.get("content")
        if content is not None and not isinstance(content, str):
            kind = "array" if isinstance(content, list) else "object"
            return 400, (
                f"json: cannot unmarshal {kind} into Go struct field "
                "ChatRequest.messages.content of type string"
            )
        images = m.get("images")
        for image in images if isinstance(images, list) else []:
            found = _image(image)
            if found:
                return 400, found
    return None
