"""The JSON shapes of a result's parts that ``kairos stream --json`` and ``kairos batch`` lines
share (README "The command line" and "Batch jobs" document the keys)."""

from __future__ import annotations

from typing import Any

from .errors import KairosError
from .llm import ToolCall, Usage

__all__ = ["call_json", "error_json", "ms", "usage_json"]


def call_json(call: ToolCall) -> dict[str, Any]:
    """``{"id", "name", "arguments"}``: the arguments parsed, or the text as received when it
    is not JSON."""
    try:
        arguments: Any = call.parsed_arguments()
    except KairosError:
        arguments = call.arguments
    return {"id": call.id, "name": call.name, "arguments": arguments}


def usage_json(usage: Usage | None) -> dict[str, int] | None:
    if usage is None:
        return None
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def error_json(error: BaseException | None) -> dict[str, str] | None:
    """``{"type": class name, "message"}`` (messages carry no keys: errors are scrubbed)."""
    return None if error is None else {"type": type(error).__name__, "message": str(error)}


def ms(seconds: float | None) -> float | None:
    """Seconds as milliseconds to 0.1 ms."""
    return None if seconds is None else round(seconds * 1000, 1)
