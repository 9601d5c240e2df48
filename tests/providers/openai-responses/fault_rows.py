"""This wire's rows for the fault tests (see ``tests/fault_wires.py``)."""

from __future__ import annotations

from typing import Any

import kairos


def visible_text(obj: dict[str, Any]) -> str:
    """A ``response.output_text.delta``'s text."""
    return str(obj.get("delta") or "") if obj.get("type") == "response.output_text.delta" else ""


ROWS = [
    {
        "name": "openai-responses",
        "fmt": "openai-responses",
        "case": "vercel-text-after-function-output",
        # an error event then response.failed, as recorded; rate_limit_exceeded is retryable
        "inband_kind": "rate_limit",
        "inband_cls": kairos.RateLimitError,
        "context_cls": kairos.ContextLengthError,  # the Chat Completions code
        "trailer": 1,  # response.completed
    },
]
