"""This wire's rows for the fault tests (see ``tests/fault_wires.py``)."""

from __future__ import annotations

from typing import Any

import kairos


def visible_text(obj: dict[str, Any]) -> str:
    """A ``chat.completion.chunk``'s content delta."""
    choices = obj.get("choices") or [{}]
    return str((choices[0].get("delta") or {}).get("content") or "")


ROWS = [
    {
        "name": "openai",
        "fmt": "openai-chat",
        "case": "oai-text-stop-usage",
        "inband_kind": "server",  # OpenRouter / Groq send OpenAI error objects in the stream
        "inband_cls": kairos.ServerError,
        "context_cls": kairos.ContextLengthError,  # OpenAI's code context_length_exceeded
        "trailer": 3,
    },
    {
        "name": "qwen",
        "fmt": "dashscope",
        "case": "docs-qwen-plus-usage",
        "inband_kind": "rate_limit",
        "inband_cls": kairos.RateLimitError,
        # DashScope says "Range of input length should be [1, N]" with a generic code: no
        # structured field names the context length, so kairos can only say BadRequestError
        "context_cls": kairos.BadRequestError,
        "context_body_override": {
            "error": {
                "message": "Range of input length should be [1, 129024]",
                "type": "invalid_request_error",
                "code": "invalid_parameter_error",
            }
        },
        "trailer": 3,
    },
]
