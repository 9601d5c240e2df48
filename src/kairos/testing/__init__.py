"""kairos.testing: test your LLM app without keys or network (user guide in progress)."""

from ._render import CONTENT_TYPES, WIRES, error_status, render_body, render_error, render_stream
from ._script import (
    FAIL_KINDS,
    Call,
    Fail,
    Pause,
    Reasoning,
    Reply,
    Text,
    estimate_tokens,
    load_replies,
    reply_from_dict,
)

__all__ = [
    "CONTENT_TYPES",
    "FAIL_KINDS",
    "WIRES",
    "Call",
    "Fail",
    "Pause",
    "Reasoning",
    "Reply",
    "Text",
    "error_status",
    "estimate_tokens",
    "load_replies",
    "render_body",
    "render_error",
    "render_stream",
    "reply_from_dict",
]
