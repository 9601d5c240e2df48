"""Anthropic Messages request pieces: system prompt, turns, tool_use / tool_result blocks, tools.

Facts from the Anthropic API reference ("Messages", "Tool use"). The codec (``codec.py``) adds
``stream``, the extras and the headers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ...errors import ConfigurationError
from ...llm import ChatRequest, Message, Role
from .._base import present

__all__ = ["request_body"]


def request_body(req: ChatRequest, model: str, max_tokens: int) -> dict[str, Any]:
    """The Messages body without ``stream`` and extras."""
    system = [m.content for m in req.messages if m.role is Role.SYSTEM and m.content]
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
    }
    if system:
        body["system"] = (
            system[0] if len(system) == 1 else [{"type": "text", "text": s} for s in system]
        )
    body["messages"] = _messages(req.messages)
    if req.tools:
        body["tools"] = [_tool(t.name, t.description, t.parameters) for t in req.tools]
    if req.tool_choice is not None:
        body["tool_choice"] = _tool_choice(req.tool_choice)
    body.update(present(("temperature", req.temperature), ("top_p", req.top_p)))
    if req.stop:
        body["stop_sequences"] = list(req.stop)
    return body


def _tool(name: str, description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if description:
        out["description"] = description
    out["input_schema"] = dict(schema)
    return out


def _tool_choice(choice: str | Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(choice, str):
        return dict(choice)
    if choice in ("auto", "none", "any"):
        return {"type": choice}
    if choice == "required":
        return {"type": "any"}
    return {"type": "tool", "name": choice}


def _tool_input(call_name: str, arguments: str) -> Any:
    try:
        value = json.loads(arguments or "{}")
    except ValueError as exc:
        raise ConfigurationError(
            f"tool call {call_name!r} has arguments that are not valid JSON"
        ) from exc
    if not isinstance(value, dict):
        raise ConfigurationError(f"tool call {call_name!r} arguments are not a JSON object")
    return value


def _blocks(m: Message) -> list[dict[str, Any]]:
    if m.role is Role.TOOL:
        result = {"type": "tool_result", "tool_use_id": m.tool_call_id or "", "content": m.content}
        return [result]
    out: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
    for c in m.tool_calls if m.role is Role.ASSISTANT else ():
        out.append(
            {
                "type": "tool_use",
                "id": c.id,
                "name": c.name,
                "input": _tool_input(c.name, c.arguments),
            }
        )
    return out


def _messages(messages: Any) -> list[dict[str, Any]]:
    """User / assistant turns. Tool results go in user turns; consecutive messages of one role
    (several tool results, or tool results then user text) merge into one turn."""
    turns: list[tuple[str, list[dict[str, Any]]]] = []
    for m in messages:
        if m.role is Role.SYSTEM:
            continue
        role = "assistant" if m.role is Role.ASSISTANT else "user"
        blocks = _blocks(m)
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, blocks))
    out = []
    for role, blocks in turns:
        if len(blocks) == 1 and blocks[0]["type"] == "text":
            out.append({"role": role, "content": blocks[0]["text"]})
        else:
            out.append({"role": role, "content": blocks or ""})
    return out
