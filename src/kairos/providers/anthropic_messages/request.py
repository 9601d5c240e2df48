"""Anthropic Messages request pieces: system prompt, turns, tool_use / tool_result blocks, tools.

Facts from the Anthropic API reference ("Messages", "Tool use", "Extended thinking"). The
codec (``codec.py``) adds ``stream``, the extras and the headers. Content blocks for message
parts: ``parts.py``.

Reasoning: ``thinking: {type: "enabled", budget_tokens}``, the budget from
``Reasoning.budget_tokens`` or the effort (:data:`BUDGETS`); ``max_tokens`` must exceed it (when
not given it is the budget plus the default). With thinking on, the API rejects a
``tool_choice`` that forces a tool and a ``temperature`` other than 1: kairos raises a
:class:`~kairos.ConfigurationError` before sending instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import ConfigurationError
from ...llm import ChatRequest, Reasoning, Role
from .._base import present
from .parts import blocks

__all__ = ["BUDGETS", "request_body"]

# thinking budget per effort (the API's minimum budget is 1024 tokens)
BUDGETS = {"low": 2048, "medium": 8192, "high": 24576}


def request_body(
    req: ChatRequest, model: str, default_max_tokens: int, provider: str = "anthropic"
) -> dict[str, Any]:
    """The Messages body without ``stream`` and extras; ``default_max_tokens`` when the
    request gives none (plus the thinking budget when thinking)."""
    system = [m.content for m in req.messages if m.role is Role.SYSTEM and m.content]
    body: dict[str, Any] = {"model": model}
    body["max_tokens"] = req.max_tokens if req.max_tokens is not None else default_max_tokens
    if req.reasoning is not None:
        body["thinking"] = _thinking(req, body, provider)
    if system:
        body["system"] = (
            system[0] if len(system) == 1 else [{"type": "text", "text": s} for s in system]
        )
    body["messages"] = _messages(req.messages, provider)
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


def _thinking(req: ChatRequest, body: dict[str, Any], provider: str) -> dict[str, Any]:
    r: Reasoning = req.reasoning  # type: ignore[assignment]
    budget = r.budget_tokens or BUDGETS[r.effort]
    if req.max_tokens is None:
        body["max_tokens"] = budget + body["max_tokens"]
    elif req.max_tokens <= budget:
        raise ConfigurationError(
            f"{provider}: max_tokens ({req.max_tokens}) must be greater than the thinking "
            f"budget ({budget} tokens)"
        )
    choice = req.tool_choice
    forced = choice not in (None, "auto", "none") and not (
        isinstance(choice, Mapping) and choice.get("type") in ("auto", "none")
    )
    if forced:
        raise ConfigurationError(
            f"{provider}: with reasoning on, tool_choice can only be 'auto' or 'none' "
            f"(the API rejects {choice!r} when thinking is enabled)"
        )
    if req.temperature is not None and req.temperature != 1:
        raise ConfigurationError(
            f"{provider}: with reasoning on, temperature can only be 1 (got {req.temperature})"
        )
    return {"type": "enabled", "budget_tokens": budget}


def _messages(messages: Any, provider: str) -> list[dict[str, Any]]:
    """User / assistant turns. Tool results go in user turns; consecutive messages of one role
    (several tool results, or tool results then user text) merge into one turn."""
    turns: list[tuple[str, list[dict[str, Any]]]] = []
    for m in messages:
        if m.role is Role.SYSTEM:
            continue
        role = "assistant" if m.role is Role.ASSISTANT else "user"
        found = blocks(provider, m)
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(found)
        else:
            turns.append((role, found))
    out = []
    for role, content in turns:
        if len(content) == 1 and content[0]["type"] == "text" and len(content[0]) == 2:
            out.append({"role": role, "content": content[0]["text"]})
        else:
            out.append({"role": role, "content": content or ""})
    return out
