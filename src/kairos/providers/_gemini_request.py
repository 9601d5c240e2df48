"""Gemini request pieces: tool declarations, tool choice, tool results and extras merging.

Facts from the Gemini API reference ("Function calling", "Schema"). Split from ``gemini.py``
so that module holds the event parsing and error mapping.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError
from ..llm import Message, Tool

__all__ = ["GENERATED_ID_PREFIX", "declaration", "merge", "response_part", "tool_choice"]

GENERATED_ID_PREFIX = "kcall_"


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
