"""This wire's rows for the fault tests (see ``tests/fault_wires.py``)."""

from __future__ import annotations

from typing import Any

import kairos


def visible_text(obj: dict[str, Any]) -> str:
    """A ``content_block_delta``'s ``text_delta``."""
    delta = obj.get("delta") or {}
    return str(delta.get("text") or "") if delta.get("type") == "text_delta" else ""


ROWS = [
    {
        "name": "anthropic",
        "fmt": "anthropic-messages",
        "case": "docs-basic-text-ping",
        "inband_kind": "overloaded",
        "inband_cls": kairos.OverloadedError,
        # "prompt is too long" is an invalid_request_error: only the message says why
        "context_cls": kairos.BadRequestError,
        "trailer": 2,
    },
]
