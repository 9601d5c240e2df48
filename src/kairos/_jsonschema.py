"""Validating a JSON value against a JSON Schema: the subset structured output uses. Pure.

kairos has one runtime dependency (httpx), so it carries this small validator instead of
``jsonschema``. It knows the keywords the providers' structured-output modes accept (OpenAI
strict schemas, Gemini ``responseJsonSchema``, Anthropic ``output_config``) and what Pydantic's
``model_json_schema()`` writes: ``type`` (one or a list; ``integer`` is a whole number, and a
boolean is never a number), ``enum``, ``const``, ``properties``, ``required``,
``additionalProperties`` (a boolean or a schema), ``items``, ``prefixItems``, ``minItems``,
``maxItems``, ``minLength``, ``maxLength``, ``pattern``, ``minimum``, ``maximum``,
``exclusiveMinimum``, ``exclusiveMaximum``, ``multipleOf``, ``anyOf``, ``oneOf``, ``allOf``,
``not``, and ``$ref`` to ``#/$defs/...`` or ``#/definitions/...`` (local references). Other
keywords (``format``, ``title``, ``description``, ``default``...) are annotations here and pass.

:func:`first_error` returns the first violation as a one-line message naming where it is
(``$.items[2].price``), or None.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["first_error"]

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and math.isfinite(v) and v.is_integer())
    ),
}
_MAX_DEPTH = 200  # $ref cycles and hostile nesting end here with a message, not a crash


def first_error(value: Any, schema: Any) -> str | None:
    """The first way ``value`` breaks ``schema`` (a one-line message), or None."""
    root = schema if isinstance(schema, Mapping) else {}
    return _check(value, schema, root, "$", 0)


def _resolve(ref: str, root: Mapping[str, Any]) -> Any:
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _check(value: Any, schema: Any, root: Mapping[str, Any], at: str, depth: int) -> str | None:
    if schema is True or schema is None:
        return None
    if schema is False:
        return f"{at}: no value is allowed here"
    if not isinstance(schema, Mapping):
        return None
    if depth > _MAX_DEPTH:
        return f"{at}: the schema nests too deep to check"
    if "$ref" in schema:
        target = _resolve(str(schema["$ref"]), root)
        if target is None:
            return f"{at}: cannot resolve $ref {schema['$ref']!r}"
        err = _check(value, target, root, at, depth + 1)
        if err is not None:
            return err
    for check in (_type, _const_enum, _combinators, _number, _string, _array, _object):
        err = check(value, schema, root, at, depth)
        if err is not None:
            return err
    return None


def _type(value: Any, schema: Mapping[str, Any], root: Any, at: str, depth: int) -> str | None:
    wanted = schema.get("type")
    if wanted is None:
        return None
    names = wanted if isinstance(wanted, list) else [wanted]
    if any(_TYPES.get(str(n), lambda v: True)(value) for n in names):
        return None
    return f"{at}: expected {' or '.join(map(str, names))}, got {_kind(value)}"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {dict: "object", list: "array", str: "string", int: "integer", float: "number"}.get(
        type(value), type(value).__name__
    )


def _const_enum(
    value: Any, schema: Mapping[str, Any], root: Any, at: str, depth: int
) -> str | None:
    if "const" in schema and not _same(value, schema["const"]):
        return f"{at}: expected {schema['const']!r}"
    choices = schema.get("enum")
    if isinstance(choices, list) and not any(_same(value, c) for c in choices):
        shown = ", ".join(repr(c) for c in choices[:8])
        return f"{at}: {value!r} is not one of {shown}"[:300]
    return None


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0 but True != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def _combinators(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], at: str, depth: int
) -> str | None:
    for sub in schema.get("allOf") or []:
        err = _check(value, sub, root, at, depth + 1)
        if err is not None:
            return err
    any_of = schema.get("anyOf")
    if isinstance(any_of, list) and any_of:
        errors = [_check(value, sub, root, at, depth + 1) for sub in any_of]
        if all(e is not None for e in errors):
            return errors[0] if len(errors) == 1 else f"{at}: matches none of anyOf ({errors[0]})"
    one_of = schema.get("oneOf")
    if isinstance(one_of, list) and one_of:
        matched = sum(_check(value, sub, root, at, depth + 1) is None for sub in one_of)
        if matched != 1:
            return f"{at}: matches {matched} of oneOf's schemas, not exactly one"
    if "not" in schema and _check(value, schema["not"], root, at, depth + 1) is None:
        return f"{at}: matches a schema it must not match"
    return None


def _number(value: Any, schema: Mapping[str, Any], root: Any, at: str, depth: int) -> str | None:
    if not _TYPES["number"](value):
        return None
    low, high = schema.get("minimum"), schema.get("maximum")
    xlow, xhigh = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if _TYPES["number"](low) and value < low:
        return f"{at}: {value} is less than the minimum {low}"
    if _TYPES["number"](high) and value > high:
        return f"{at}: {value} is more than the maximum {high}"
    if _TYPES["number"](xlow) and value <= xlow:
        return f"{at}: {value} is not more than {xlow}"
    if _TYPES["number"](xhigh) and value >= xhigh:
        return f"{at}: {value} is not less than {xhigh}"
    step: Any = schema.get("multipleOf")
    if _TYPES["number"](step) and step > 0:
        ratio = value / step
        if not math.isclose(ratio, round(ratio), rel_tol=1e-9, abs_tol=1e-9):
            return f"{at}: {value} is not a multiple of {step}"
    return None


def _string(value: Any, schema: Mapping[str, Any], root: Any, at: str, depth: int) -> str | None:
    if not isinstance(value, str):
        return None
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) and len(value) < low:
        return f"{at}: shorter than {low} characters"
    if isinstance(high, int) and len(value) > high:
        return f"{at}: longer than {high} characters"
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            found = re.search(pattern, value)
        except re.error:
            return None  # a pattern Python cannot compile is not ours to enforce
        if found is None:
            return f"{at}: does not match the pattern {pattern!r}"
    return None


def _array(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], at: str, depth: int
) -> str | None:
    if not isinstance(value, list):
        return None
    low, high = schema.get("minItems"), schema.get("maxItems")
    if isinstance(low, int) and len(value) < low:
        return f"{at}: fewer than {low} items"
    if isinstance(high, int) and len(value) > high:
        return f"{at}: more than {high} items"
    prefix = schema.get("prefixItems")
    prefix = prefix if isinstance(prefix, list) else []
    for i, item in enumerate(value):
        sub = prefix[i] if i < len(prefix) else schema.get("items")
        err = _check(item, sub, root, f"{at}[{i}]", depth + 1)
        if err is not None:
            return err
    return None


def _object(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], at: str, depth: int
) -> str | None:
    if not isinstance(value, dict):
        return None
    props = schema.get("properties")
    props = props if isinstance(props, Mapping) else {}
    for key in schema.get("required") or []:
        if key not in value:
            return f"{at}: missing required property {key!r}"
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        where = f"{at}.{key}" if re.fullmatch(r"\w+", str(key)) else f"{at}[{key!r}]"
        if key in props:
            err = _check(item, props[key], root, where, depth + 1)
        elif extra is False:
            err = f"{at}: property {key!r} is not allowed"
        else:
            err = _check(item, extra, root, where, depth + 1)
        if err is not None:
            return err
    return None
