"""Batch input: one request per JSONL line (or per item of a Python iterable), read lazily.

A line is a JSON object::

    {"id": "q1", "prompt": "Capital of France?", "system": "Be brief.", "max_tokens": 50}
    {"id": 2, "messages": [{"role": "user", "content": "Hi"}], "model": "gpt-4o-mini"}

* ``id`` (required): a non-empty string or an integer, unique in the input; the output line
  carries it back unchanged.
* exactly one of ``prompt`` (a string: one user message) or ``messages`` (a list, below).
* optional: ``system`` (a string, sent first), ``model``, ``max_tokens`` (integer > 0),
  ``temperature`` (number >= 0), ``tools`` (``[{"name", "description"?, "parameters"?}]``;
  OpenAI's ``{"type": "function", "function": {...}}`` is accepted too) and ``metadata`` (any
  JSON, ignored: room for your own fields), ``output_schema`` (a JSON Schema object: structured
  output, see the README; the output line then adds ``object``, the validated object, and a
  text that does not fit is an ``OutputError`` line keeping the text).
* a message is ``{"role": "system"|"user"|"assistant"|"tool", "content": "..."}``; an assistant
  message may carry ``"tool_calls": [{"id", "name", "arguments"}]`` (arguments a JSON object or
  its text) and a tool result is ``{"role": "tool", "tool_call_id", "name"?, "content"}``: the
  fields of :class:`kairos.Message`, and the shape of ``tool_calls`` in the output lines.

Anything else (bad JSON, a missing id, an unknown key, a wrong type) is a :class:`BadLine`
holding a :class:`kairos.ConfigurationError` whose message names the line; the batch writes it
as that line's output and goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from ..errors import ConfigurationError
from ..llm import ChatRequest, Message, Role, Tool, ToolCall

__all__ = ["BadLine", "Job", "estimate_tokens", "parse_record", "read_lines"]

_KEYS = frozenset(
    (
        *("id", "prompt", "messages", "system", "model", "max_tokens", "temperature"),
        *("tools", "output_schema"),
    )
)
_IGNORED = frozenset(("metadata",))
_ROLES = {r.value: r for r in Role}


@dataclass(frozen=True, slots=True)
class Job:
    """A valid request, ready to send."""

    id: str | int
    key: str  # the id's JSON text: 1 and "1" are different ids
    request: ChatRequest
    where: str  # "line 12" / "item 12"
    estimate: int  # prompt tokens, estimated before sending


@dataclass(frozen=True, slots=True)
class BadLine:
    id: str | int | None
    key: str | None
    where: str
    error: ConfigurationError


class _Bad(Exception):
    pass


def _str(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise _Bad(f"{what}{key} must be a string, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "missing or null"
    return {dict: "an object", list: "a list", bool: "a boolean", str: "a string"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )


def _call(obj: Any, what: str) -> ToolCall:
    if not isinstance(obj, dict):
        raise _Bad(f"{what} must be an object with id, name and arguments")
    args = obj.get("arguments", {})
    if isinstance(args, dict):
        args = json.dumps(args, ensure_ascii=False)
    elif not isinstance(args, str):
        raise _Bad(f"{what}.arguments must be an object or a JSON string")
    return ToolCall(_str(obj, "id", what + "."), _str(obj, "name", what + "."), args)


def _message(obj: Any, i: int) -> Message:
    what = f"messages[{i}]"
    if not isinstance(obj, dict):
        raise _Bad(f"{what} must be an object with role and content")
    extra = set(obj) - {"role", "content", "tool_calls", "tool_call_id", "name"}
    if extra:
        raise _Bad(f"{what} has unknown key {sorted(extra)[0]!r}")
    role = _ROLES.get(obj.get("role"))  # type: ignore[arg-type]
    if role is None:
        raise _Bad(f"{what}.role must be one of system, user, assistant, tool")
    content = obj.get("content", "")
    if not isinstance(content, str):
        raise _Bad(f"{what}.content must be a string, not {_kind(content)}")
    calls = obj.get("tool_calls", [])
    if not isinstance(calls, list) or (calls and role is not Role.ASSISTANT):
        raise _Bad(f"{what}.tool_calls must be a list, on an assistant message")
    tool_calls = tuple(_call(c, f"{what}.tool_calls[{k}]") for k, c in enumerate(calls))
    if role is not Role.TOOL:
        return Message(role, content, tool_calls)
    name = obj.get("name")
    if name is not None and not isinstance(name, str):
        raise _Bad(f"{what}.name must be a string")
    return Message(role, content, tool_call_id=_str(obj, "tool_call_id", what + "."), name=name)


def _tool(obj: Any, i: int) -> Tool:
    what = f"tools[{i}]"
    if isinstance(obj, dict) and obj.get("type") == "function" and "function" in obj:
        obj = obj["function"]
    if not isinstance(obj, dict):
        raise _Bad(f"{what} must be an object with name, description and parameters")
    params = obj.get("parameters", {"type": "object", "properties": {}})
    if not isinstance(params, dict):
        raise _Bad(f"{what}.parameters must be a JSON Schema object")
    description = obj.get("description", "")
    if not isinstance(description, str):
        raise _Bad(f"{what}.description must be a string")
    return Tool(_str(obj, "name", what + "."), description, params)


def _messages(obj: Mapping[str, Any]) -> list[Message]:
    has_prompt, has_messages = "prompt" in obj, "messages" in obj
    if has_prompt == has_messages:
        raise _Bad("needs exactly one of prompt or messages")
    if has_prompt:
        out = [Message.user(_str(obj, "prompt", ""))]
    else:
        raw = obj["messages"]
        if not isinstance(raw, list) or not raw:
            raise _Bad("messages must be a non-empty list")
        out = [_message(m, i) for i, m in enumerate(raw)]
    if "system" in obj:
        out.insert(0, Message.system(_str(obj, "system", "")))
    return out


def _number(obj: Mapping[str, Any], key: str, integer: bool) -> Any:
    value = obj.get(key)
    if value is None:
        return None
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or value < (1 if integer else 0):
        need = "an integer > 0" if integer else "a number >= 0"
        raise _Bad(f"{key} must be {need}, not {value!r}")
    return value


def _request(obj: Mapping[str, Any]) -> ChatRequest:
    unknown = set(obj) - _KEYS - _IGNORED
    if unknown:
        raise _Bad(f"unknown key {sorted(unknown)[0]!r} (own fields go under metadata)")
    model = obj.get("model", "")
    if not isinstance(model, str):
        raise _Bad(f"model must be a string, not {_kind(model)}")
    tools = obj.get("tools", [])
    if not isinstance(tools, list):
        raise _Bad("tools must be a list")
    return ChatRequest(
        _messages(obj),
        model=model,
        tools=[_tool(t, i) for i, t in enumerate(tools)],
        max_tokens=_number(obj, "max_tokens", True),
        temperature=_number(obj, "temperature", False),
        output_schema=_schema(obj),
    )


def _schema(obj: Mapping[str, Any]) -> Any:
    schema = obj.get("output_schema")
    if schema is not None and not isinstance(schema, dict):
        raise _Bad(f"output_schema must be a JSON Schema object, not {_kind(schema)}")
    return schema


def estimate_tokens(req: ChatRequest) -> int:
    """Prompt tokens, estimated as ~4 characters per token plus 4 per message."""
    chars = sum(len(m.content) + sum(len(c.arguments) for c in m.tool_calls) for m in req.messages)
    chars += sum(len(t.name) + len(t.description) + len(str(t.parameters)) for t in req.tools)
    return chars // 4 + 4 * len(req.messages) + 1


def _id(obj: Any) -> tuple[str | int | None, str | None]:
    """The id and its key, or (None, None) when the line has no usable id."""
    value = obj.get("id") if isinstance(obj, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None, None
    return value, json.dumps(value, ensure_ascii=False)


def parse_record(obj: Any, where: str) -> Job | BadLine:
    """Validate one input object (already decoded from JSON)."""
    ident, key = _id(obj)
    try:
        if not isinstance(obj, dict):
            raise _Bad(f"must be a JSON object, not {_kind(obj)}")
        if ident is None or key is None:
            raise _Bad(f"id must be a non-empty string or an integer, not {_kind(obj.get('id'))}")
        req = _request(obj)
    except _Bad as exc:
        return BadLine(ident, key, where, ConfigurationError(f"{where}: {exc}"))
    return Job(ident, key, req, where, estimate_tokens(req))


def parse_line(raw: bytes, where: str) -> Job | BadLine:
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
        return BadLine(None, None, where, ConfigurationError(f"{where}: invalid JSON ({msg})"))
    return parse_record(obj, where)


def read_lines(f: IO[bytes]) -> Iterator[Job | BadLine]:
    """Parse a JSONL stream one line at a time; blank lines are skipped."""
    for n, raw in enumerate(f, 1):
        if raw.strip():
            yield parse_line(raw, f"line {n}")
