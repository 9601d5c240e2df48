"""Chat Completions stream events -> deltas (the hot path: once per chunk of every stream).

See the package docstring for the wire facts. Fields of the wrong type are treated as absent.
"""

from __future__ import annotations

from typing import Any

from ..._codec import Delta, ToolDelta, dumps, loads
from ...errors import ProtocolError
from ...llm import Usage
from .._base import as_dict, as_int, as_str
from .errors import inband_error

__all__ = ["Parser", "read_usage"]


def read_usage(u: Any) -> Usage | None:
    if not isinstance(u, dict):
        return None
    prompt = as_int(u.get("prompt_tokens")) or 0
    completion = as_int(u.get("completion_tokens")) or 0
    pd = as_dict(u.get("prompt_tokens_details"))
    cd = as_dict(u.get("completion_tokens_details"))
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=as_int(u.get("total_tokens")) or prompt + completion,
        cached_tokens=as_int(pd.get("cached_tokens")),
        reasoning_tokens=as_int(cd.get("reasoning_tokens")),
    )


def _tools(raw: Any) -> list[ToolDelta] | None:
    """Tool-call pieces; fields of the wrong type are treated as absent."""
    if not isinstance(raw, list):
        return None
    out = []
    for tc in raw:
        if not isinstance(tc, dict):
            continue
        fn = as_dict(tc.get("function"))
        args = fn.get("arguments")
        text = args if isinstance(args, str) else dumps(args).decode() if args else ""
        out.append(
            ToolDelta(as_int(tc.get("index")), as_str(tc.get("id")), as_str(fn.get("name")), text)
        )
    return out or None


class Parser:
    __slots__ = ("_provider", "complete", "response_id")

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self.complete = False
        self.response_id: str | None = None  # the completion's id (read off the last chunk)

    def parse(self, event: str, data: str | bytes) -> Delta | None:
        if data == "[DONE]" or (len(data) < 12 and data.strip() == "[DONE]"):
            self.complete = True
            return Delta(end=True)
        obj = loads(data, self._provider)
        if not isinstance(obj, dict):
            raise ProtocolError(f"expected a JSON object in the stream, got {type(obj).__name__}")
        if obj.get("error") or event == "error":
            return Delta(error=inband_error(self._provider, obj.get("error", obj)))
        # the hot path (once per chunk): the type checks of _str/_dict/_usage written inline
        choices = obj.get("choices")
        raw_usage = obj.get("usage")
        usage = None if raw_usage is None else read_usage(raw_usage)
        choice = choices[0] if choices.__class__ is list and choices else None
        if choice.__class__ is not dict or not choice:
            return Delta(usage=usage) if usage else None
        delta = choice.get("delta")
        if delta.__class__ is not dict or not delta:
            delta = as_dict(choice.get("message"))
        finish = choice.get("finish_reason")
        if finish.__class__ is not str or not finish:
            finish = None
        else:
            self.complete = True
            rid = obj.get("id")  # every chunk has it: read once, off the hot path
            self.response_id = rid if rid.__class__ is str else self.response_id
        content = delta.get("content")
        if content.__class__ is not str:
            content = ""
        reasoning: Any = ""
        calls = None
        if len(delta) > 1 or not content:  # anything besides a text piece
            reasoning = delta.get("reasoning_content")
            if reasoning.__class__ is not str or not reasoning:
                reasoning = delta.get("reasoning")
                if reasoning.__class__ is not str:
                    reasoning = ""
            calls = delta.get("tool_calls")
        model = obj.get("model")
        return Delta(
            content,
            reasoning,
            None if calls is None else _tools(calls),
            usage,
            finish,
            model if model.__class__ is str else None,
        )
