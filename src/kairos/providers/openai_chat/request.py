"""Chat Completions request bodies: messages, tools, tool choice, sampling and reasoning.

Facts from the OpenAI API reference ("Chat Completions", "Function calling", "Reasoning").
Message parts are written by ``parts.py``. ``ChatRequest.reasoning`` is mapped by the preset's
``reasoning_param`` option (each provider's own docs):

* ``openai`` (the default): ``reasoning_effort``;
* ``openrouter``: ``reasoning: {effort}`` or ``{max_tokens}`` when a budget is given;
* ``deepseek``: ``thinking: {type: enabled}`` and ``reasoning_effort``;
* ``dashscope``: ``enable_thinking: true`` and ``thinking_budget`` when given;
* ``none``: nothing is sent (servers without a reasoning setting).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..._output import OutputSpec, output_spec
from ...llm import ChatRequest, Reasoning
from .._base import function_tools
from .parts import message

__all__ = ["reasoning_fields", "request_body"]


def request_body(
    req: ChatRequest,
    model: str,
    *,
    include_usage: bool,
    max_tokens_field: str,
    provider: str = "openai",
    echo: str = "none",
    reasoning_param: str = "openai",
    json_mode_only: bool = False,
) -> dict[str, Any]:
    """The body without extras (the codec merges ``req.extras`` last). ``echo``: which
    reasoning assistant messages carry back (``parts.echo_mode``)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [message(m, provider, echo) for m in req.messages],
        "stream": True,
    }
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    if req.tools:
        body["tools"] = function_tools(req.tools)
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
    if req.reasoning is not None:
        body.update(reasoning_fields(req.reasoning, reasoning_param))
    spec = output_spec(req.output_schema)
    if spec is not None and json_mode_only:
        body["response_format"] = {"type": "json_object"}
        _insert_schema_instruction(body["messages"], spec)
    elif spec is not None:
        body["response_format"] = _response_format(spec)
    return body


def _response_format(spec: OutputSpec) -> dict[str, Any]:
    """Structured output ("Structured Outputs" in the API reference): the schema, strict when it
    meets the strict rules (see ``kairos._output``)."""
    schema = {"name": spec.name, "schema": dict(spec.schema), "strict": spec.strict}
    return {"type": "json_schema", "json_schema": schema}


def _insert_schema_instruction(messages: list[dict[str, Any]], spec: OutputSpec) -> None:
    """JSON mode for servers whose preset row says they have only that (``options=
    {"json_mode_only": True}``, e.g. DeepSeek's "JSON Output" guide): the server guarantees JSON
    but not its shape, and requires the word "json" in the prompt, so the schema travels as a
    system message after the caller's leading system messages. The result is validated as on
    every wire."""
    text = (
        "Answer with one JSON object, and nothing else, that is valid against this JSON "
        f"Schema: {json.dumps(dict(spec.schema), ensure_ascii=False, separators=(',', ':'))}"
    )
    at = 0
    while at < len(messages) and messages[at].get("role") in ("system", "developer"):
        at += 1
    messages.insert(at, {"role": "system", "content": text})


def reasoning_fields(r: Reasoning, param: str) -> dict[str, Any]:
    """The request fields of a reasoning setting, in the preset's style."""
    if param == "openrouter":
        if r.budget_tokens is not None:
            return {"reasoning": {"max_tokens": r.budget_tokens}}
        return {"reasoning": {"effort": r.effort}}
    if param == "deepseek":
        return {"thinking": {"type": "enabled"}, "reasoning_effort": r.effort}
    if param == "dashscope":
        out: dict[str, Any] = {"enable_thinking": True}
        if r.budget_tokens is not None:
            out["thinking_budget"] = r.budget_tokens
        return out
    if param == "none":
        return {}
    return {"reasoning_effort": r.effort}


def _tool_choice(choice: str | Mapping[str, Any]) -> Any:
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        return {"type": "function", "function": {"name": choice}}
    return choice if isinstance(choice, str) else dict(choice)
