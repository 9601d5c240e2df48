"""Responses request bodies: input items, instructions, tools, tool choice and sampling fields.

Facts from the OpenAI API reference ("Responses: create", "Conversation state", "Function
calling"). The codec (``codec.py``) adds the extras and the headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..._output import output_spec
from ...errors import ConfigurationError
from ...llm import ChatRequest, Message, Role
from .._base import present

__all__ = ["input_items", "request_body"]


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
    body["input"] = input_items(req.messages)
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


def input_items(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The conversation as input items (system messages go to ``instructions``)."""
    items: list[dict[str, Any]] = []
    for m in messages:
        if m.role is Role.SYSTEM:
            continue
        if m.role is Role.TOOL:
            call_id = m.tool_call_id or ""
            items.append({"type": "function_call_output", "call_id": call_id, "output": m.content})
        elif m.role is Role.USER:
            content = [{"type": "input_text", "text": m.content}]
            items.append({"type": "message", "role": "user", "content": content})
        else:
            if m.content or not m.tool_calls:
                items.append({"type": "message", "role": "assistant", "content": m.content})
            items += [
                {"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.arguments}
                for c in m.tool_calls
            ]
    return items
