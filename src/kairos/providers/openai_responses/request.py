"""Responses request bodies: input items, instructions, tools, tool choice, sampling, reasoning.

Facts from the OpenAI API reference ("Responses: create", "Conversation state", "Function
calling", "Reasoning"). Input items are written by ``parts.py``; the codec (``codec.py``) adds
the extras and the headers.

``ChatRequest.reasoning`` becomes ``reasoning: {effort, summary}`` and ``include:
["reasoning.encrypted_content"]``: ``summary`` is ``Reasoning.summary``, ``"auto"`` when not
given (without it the API streams no reasoning text at all, so kairos' ``reasoning`` would stay
empty); the encrypted content is what lets the next turn carry the reasoning back while nothing
is stored (``store: false``). ``budget_tokens`` has no Responses field and is not sent. A
request's ``extras`` win (``{"reasoning": {"effort": "low"}}`` asks for no summary).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._output import output_spec
from ...errors import ConfigurationError
from ...llm import ChatRequest, Reasoning, Role
from .._base import present
from .parts import input_items

__all__ = ["reasoning_fields", "request_body"]


def request_body(req: ChatRequest, model: str, provider: str) -> dict[str, Any]:
    """The body without extras (the codec merges ``req.extras`` last)."""
    if req.stop:
        raise ConfigurationError(
            f"{provider}: the Responses API has no stop sequences (ChatRequest.stop)"
        )
    system = [m.content for m in req.messages if m.role is Role.SYSTEM and m.content]
    body: dict[str, Any] = {"model": model}
    if system:
        body["instructions"] = "\n\n".join(system)
    store = req.extras.get("store") is True
    body["input"] = input_items(req.messages, provider, store)
    if req.tools:
        body["tools"] = [
            {
                "type": "function",
                "name": t.name,
                "description": t.description,
                "parameters": dict(t.parameters),
                "strict": False,
            }
            for t in req.tools
        ]
    if req.tool_choice is not None:
        body["tool_choice"] = _tool_choice(req.tool_choice)
    body.update(
        present(
            ("temperature", req.temperature),
            ("top_p", req.top_p),
            ("max_output_tokens", req.max_tokens),
        )
    )
    if req.reasoning is not None:
        body.update(reasoning_fields(req.reasoning))
    spec = output_spec(req.output_schema)
    if spec is not None:  # structured output: the same strict rule as Chat Completions
        fmt = {"type": "json_schema", "name": spec.name, "schema": dict(spec.schema)}
        body["text"] = {"format": {**fmt, "strict": spec.strict}}
    body["store"] = False
    body["stream"] = True
    return body


def _tool_choice(choice: str | Mapping[str, Any]) -> Any:
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        return {"type": "function", "name": choice}
    return choice if isinstance(choice, str) else dict(choice)


def reasoning_fields(r: Reasoning) -> dict[str, Any]:
    """The request fields of a reasoning setting (see the module docstring)."""
    return {
        "reasoning": {"effort": r.effort, "summary": r.summary or "auto"},
        "include": ["reasoning.encrypted_content"],
    }
