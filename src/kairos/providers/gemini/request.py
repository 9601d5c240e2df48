"""Gemini request bodies: turns and parts, tool declarations, tool choice, tool results, extras.

Facts from the Gemini API reference ("Generating content", "Function calling", "Schema",
"Thought signatures"). The codec (``codec.py``) adds the URL and headers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..._output import output_spec
from ...errors import ConfigurationError
from ...llm import ChatRequest, Message, Role, Tool, ToolCall
from .._base import present

__all__ = ["GENERATED_ID_PREFIX", "SKIP_SIGNATURE", "WIRE_KEY", "request_body"]

GENERATED_ID_PREFIX = "kcall_"
SKIP_SIGNATURE = "skip_thought_signature_validator"  # Google's sentinel for replayed history
WIRE_KEY = "gemini"  # the key of this wire's provider_data


def request_body(req: ChatRequest, model: str) -> dict[str, Any]:
    """The ``GenerateContentRequest`` body, extras merged."""
    body: dict[str, Any] = {}
    system = [{"text": m.content} for m in req.messages if m.role is Role.SYSTEM]
    if system:
        body["systemInstruction"] = {"parts": system}
    body["contents"] = _contents(req.messages, model)
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
    spec = output_spec(req.output_schema)
    if spec is not None:  # responseJsonSchema takes JSON Schema; never also responseSchema
        config["responseMimeType"] = "application/json"
        config["responseJsonSchema"] = dict(spec.schema)
    if config:
        body["generationConfig"] = config
    merge(body, req.extras)
    return body


def _contents(messages: Sequence[Message], model: str) -> list[dict[str, Any]]:
    names: dict[str, str] = {}  # tool-call id -> function name, for results without a name
    out: list[dict[str, Any]] = []
    sentinel = model.removeprefix("models/").startswith("gemini-3")
    for m in messages:
        if m.role is Role.SYSTEM:
            continue
        if m.role is Role.TOOL:
            part = response_part(m, names)
            if out and out[-1].get("_tools"):  # parallel results go in one user turn
                out[-1]["parts"].append(part)
            else:
                out.append({"role": "user", "parts": [part], "_tools": True})
            continue
        if m.role is Role.USER:
            out.append({"role": "user", "parts": [{"text": m.content}]})
            continue
        parts: list[dict[str, Any]] = [{"text": m.content}] if m.content else []
        calls = [_call_part(c) for c in m.tool_calls]
        if sentinel and calls and not any("thoughtSignature" in p for p in calls):
            calls[0]["thoughtSignature"] = SKIP_SIGNATURE
        names.update((c.id, c.name) for c in m.tool_calls if c.id)
        out.append({"role": "model", "parts": parts + calls})
    for item in out:
        item.pop("_tools", None)
    return out


def _call_part(c: ToolCall) -> dict[str, Any]:
    try:
        args = json.loads(c.arguments or "{}")
    except ValueError:
        args = None
    if not isinstance(args, dict):
        raise ConfigurationError(
            f"tool call {c.name!r}: Gemini needs arguments that are a JSON object"
        )
    call: dict[str, Any] = {"name": c.name, "args": args}
    if c.id and not c.id.startswith(GENERATED_ID_PREFIX):
        call["id"] = c.id
    part: dict[str, Any] = {"functionCall": call}
    mine = (c.provider_data or {}).get(WIRE_KEY)
    signature = mine.get("thoughtSignature") if isinstance(mine, Mapping) else None
    if isinstance(signature, str) and signature:
        part["thoughtSignature"] = signature
    return part


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


def response_part(m: Message, names: dict[str, str]) -> dict[str, Any]:
    """A tool result: JSON-object content is the response as is; other text is
    ``{"output": text}`` (the key the API reference names for a function's output)."""
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
    if not isinstance(value, dict):
        response["response"] = {"output": m.content}
    if m.tool_call_id and not m.tool_call_id.startswith(GENERATED_ID_PREFIX):
        response["id"] = m.tool_call_id
    return {"functionResponse": response}
