"""Gemini request bodies: turns and parts, tool declarations, tool choice, tool results, extras.

Facts from the Gemini API reference ("Generating content", "Function calling", "Schema",
"Thought signatures", "Thinking"). The codec (``codec.py``) adds the URL and headers; message
parts are written by ``parts.py``. ``ChatRequest.reasoning`` becomes
``generationConfig.thinkingConfig`` ``{thinkingBudget, includeThoughts: true}``, the budget from
``budget_tokens`` or the effort (:data:`BUDGETS`). A failed tool call
(``Message.tool(..., is_error=True)``) answers under ``error`` ("Function calling": use
``output`` for the function's output and ``error`` for error details).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..._output import output_spec
from ...errors import ConfigurationError
from ...llm import ChatRequest, Message, Role, TextPart, Tool
from .._base import present
from .parts import GENERATED_ID_PREFIX, WIRE_KEY, model_parts, user_parts

__all__ = ["BUDGETS", "GENERATED_ID_PREFIX", "SKIP_SIGNATURE", "WIRE_KEY", "request_body"]

SKIP_SIGNATURE = "skip_thought_signature_validator"  # Google's sentinel for replayed history
BUDGETS = {"low": 1024, "medium": 8192, "high": 24576}  # thinking budget per effort


def request_body(req: ChatRequest, model: str, provider: str = "gemini") -> dict[str, Any]:
    """The ``GenerateContentRequest`` body, extras merged."""
    body: dict[str, Any] = {}
    system = [{"text": m.content} for m in req.messages if m.role is Role.SYSTEM]
    if system:
        body["systemInstruction"] = {"parts": system}
    body["contents"] = _contents(req.messages, model, provider)
    if req.tools:
        body["tools"] = [{"functionDeclarations": [declaration(t) for t in req.tools]}]
    if req.tool_choice is not None:
        body["toolConfig"] = {"functionCallingConfig": tool_choice(req.tool_choice)}
    config = present(
        ("temperature", req.temperature),
        ("topP", req.top_p),
        ("maxOutputTokens", req.max_tokens),
    )
    if req.stop:
        config["stopSequences"] = list(req.stop)
    if req.reasoning is not None:
        budget = req.reasoning.budget_tokens or BUDGETS[req.reasoning.effort]
        config["thinkingConfig"] = {"thinkingBudget": budget, "includeThoughts": True}
    spec = output_spec(req.output_schema)
    if spec is not None:  # responseJsonSchema takes JSON Schema; never also responseSchema
        config["responseMimeType"] = "application/json"
        config["responseJsonSchema"] = dict(spec.schema)
    if config:
        body["generationConfig"] = config
    merge(body, req.extras)
    final = body.get("generationConfig") or {}
    if "responseSchema" in final and "responseJsonSchema" in final:
        del final["responseJsonSchema"]  # the extras' schema wins: the API takes only one
    return body


def _contents(messages: Sequence[Message], model: str, provider: str) -> list[dict[str, Any]]:
    names: dict[str, str] = {}  # tool-call id -> function name, for results without a name
    out: list[dict[str, Any]] = []
    sentinel = model.removeprefix("models/").startswith("gemini-3")
    for m in messages:
        if m.role is Role.SYSTEM:
            continue
        if m.role is Role.TOOL:
            part = response_part(m, names, provider)
            if out and out[-1].get("_tools"):  # parallel results go in one user turn
                out[-1]["parts"].append(part)
            else:
                out.append({"role": "user", "parts": [part], "_tools": True})
            continue
        if m.role is Role.USER:
            out.append({"role": "user", "parts": user_parts(provider, m)})
            continue
        parts = model_parts(provider, m)
        calls = [p for p in parts if "functionCall" in p]
        if sentinel and calls and not any("thoughtSignature" in p for p in calls):
            calls[0]["thoughtSignature"] = SKIP_SIGNATURE
        names.update((c.id, c.name) for c in m.tool_calls if c.id)
        out.append({"role": "model", "parts": parts})
    for item in out:
        item.pop("_tools", None)
    return out


def merge(body: dict[str, Any], extras: Mapping[str, Any]) -> None:
    """Merge ``extras`` into the body: objects merge key by key (so ``generationConfig`` extras
    such as ``thinkingConfig`` keep temperature...), ``tools`` lists are appended (a
    ``googleSearch`` tool next to the function declarations), anything else replaces."""
    for key, value in extras.items():
        mine = body.get(key)
        if isinstance(mine, dict) and isinstance(value, Mapping):
            merge(mine, value)
        elif key == "tools" and isinstance(mine, list) and isinstance(value, list):
            body[key] = mine + value
        elif isinstance(value, Mapping):
            body[key] = {}
            merge(body[key], value)  # a copy: later merges never write into the caller's map
        else:
            body[key] = value


# keywords of the OpenAPI-subset ``Schema`` object that ``parameters`` takes (API reference,
# "Schema"); a schema using any other JSON Schema keyword goes in ``parametersJsonSchema``
_SCHEMA_KEYS = frozenset(
    "type format title description nullable enum maxItems minItems properties required "  # noqa: SIM905
    "minProperties maxProperties minLength maxLength pattern example anyOf propertyOrdering "
    "default items minimum maximum".split()
)


def _openapi_subset(schema: Any) -> bool:
    if not isinstance(schema, Mapping):
        return False
    if not set(schema) <= _SCHEMA_KEYS:
        return False
    props = schema.get("properties", {})
    subs = [*props.values()] if isinstance(props, Mapping) else [None]
    if "items" in schema:
        subs.append(schema["items"])
    any_of = schema.get("anyOf", [])
    subs += any_of if isinstance(any_of, list) else [None]
    return all(_openapi_subset(s) for s in subs)


def declaration(t: Tool) -> dict[str, Any]:
    """``parameters`` when the schema fits the documented Schema subset; other JSON Schema
    (``additionalProperties``, ``$defs``, ``const``...) in ``parametersJsonSchema``. A function
    without parameters sends none (``parameters`` rejects an object with no properties)."""
    out: dict[str, Any] = {"name": t.name}
    if t.description:
        out["description"] = t.description
    schema = json.loads(json.dumps(t.parameters))
    if schema.get("type") == "object" and not schema.get("properties"):
        return out  # no parameters (or only additionalProperties / required: [])
    out["parameters" if _openapi_subset(schema) else "parametersJsonSchema"] = schema
    return out


def tool_choice(choice: str | Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(choice, str):
        return dict(choice)  # a functionCallingConfig object, as given
    mode = {"auto": "AUTO", "none": "NONE", "required": "ANY"}.get(choice)
    if mode is not None:
        return {"mode": mode}
    return {"mode": "ANY", "allowedFunctionNames": [choice]}


def response_part(m: Message, names: dict[str, str], provider: str = "gemini") -> dict[str, Any]:
    """A tool result: JSON-object content is the response as is; other text is
    ``{"output": text}`` (the key the API reference names for a function's output), and a
    failure ``{"error": ...}``."""
    for part in m.parts:
        if not isinstance(part, TextPart):
            raise ConfigurationError(f"{provider}: a Gemini tool result takes text only")
    name = m.name or names.get(m.tool_call_id or "")
    if not name:
        raise ConfigurationError(
            "a tool result for Gemini needs the function name: pass Message.tool(..., name=) "
            "or keep the assistant message with the call in the history"
        )
    try:
        value = json.loads(m.content)
    except ValueError:
        value = None
    response: dict[str, Any] = {"name": name, "response": value}
    if m.is_error:
        response["response"] = {"error": value if isinstance(value, dict) else m.content}
    elif not isinstance(value, dict):
        response["response"] = {"output": m.content}
    if m.tool_call_id and not m.tool_call_id.startswith(GENERATED_ID_PREFIX):
        response["id"] = m.tool_call_id
    return {"functionResponse": response}
