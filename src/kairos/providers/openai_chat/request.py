"""Chat Completions request bodies: messages, tools, tool choice and sampling fields.

Facts from the OpenAI API reference ("Chat Completions", "Function calling").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._output import OutputSpec, output_spec
from ...llm import ChatRequest, Message, Role

__all__ = ["request_body"]


def request_body(
    req: ChatRequest,
    model: str,
    *,
    include_usage: bool,
    max_tokens_field: str,
    json_mode_only: bool = False,
) -> dict[str, Any]:
    """The body without extras (the codec merges ``req.extras`` last)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [_message(m) for m in req.messages],
        "stream": True,
    }
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    if req.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": dict(t.parameters),
                },
            }
            for t in req.tools
        ]
    if req.tool_choice is not None:
        body["tool_choice"] = _tool_choice(req.tool_choice)
    for key, value in (
        ("temperature", req.temperature),
        ("top_p", req.top_p),
        (max_tokens_field, req.max_tokens),
    ):
        if value is not None:
            body[key] = value
    if req.stop:
        body["stop"] = list(req.stop)
    spec = output_spec(req.output_schema)
    if spec is not None:
        body["response_format"] = _response_format(spec, json_mode_only)
    return body


def _response_format(spec: OutputSpec, json_mode_only: bool) -> dict[str, Any]:
    """Structured output ("Structured Outputs" in the API reference): the schema, strict when it
    meets the strict rules (see ``kairos._output``); JSON mode for servers whose preset row says
    they have only that (``options={"json_mode_only": True}``)."""
    if json_mode_only:
        return {"type": "json_object"}
    schema = {"name": spec.name, "schema": dict(spec.schema), "strict": spec.strict}
    return {"type": "json_schema", "json_schema": schema}


def _tool_choice(choice: str | Mapping[str, Any]) -> Any:
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        return {"type": "function", "function": {"name": choice}}
    return choice if isinstance(choice, str) else dict(choice)


def _message(m: Message) -> dict[str, Any]:
    if m.role is Role.TOOL:
        return {"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content}
    out: dict[str, Any] = {"role": m.role.value, "content": m.content}
    if m.role is Role.ASSISTANT and m.tool_calls:
        out["content"] = m.content or None
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in m.tool_calls
        ]
    return out
