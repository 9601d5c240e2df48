"""Check a JSON value against an official SDK's request type (a ``TypedDict`` tree, as the
``openai`` and ``anthropic`` packages declare their request params).

:func:`mismatches` walks the value and the type together: every key of a TypedDict must be
declared, every required key present, literals equal, unions satisfied by one member. It returns
what did not match (empty when the value is a valid param), so a test can show why.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from typing import Any

import typing_extensions as tx

_WRAPPERS = (typing.Annotated, tx.Annotated, tx.Required, tx.NotRequired, tx.ReadOnly)


def _strip(tp: Any) -> Any:
    while tx.get_origin(tp) in _WRAPPERS:
        tp = tx.get_args(tp)[0]
    return tp


def _typeddict(value: Any, tp: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected an object for {tp.__name__}"]
    hints = tx.get_type_hints(tp, include_extras=True)
    errors = [f"{path}.{k}: not a field of {tp.__name__}" for k in value if k not in hints]
    errors += [f"{path}.{k}: missing" for k in tp.__required_keys__ if k not in value]
    for key, sub in value.items():
        if key in hints:
            errors += mismatches(sub, hints[key], f"{path}.{key}")
    return errors


def _union(value: Any, members: tuple[Any, ...], path: str) -> list[str]:
    found = [mismatches(value, m, path) for m in members]
    if any(not f for f in found):
        return []
    return min(found, key=len)  # the closest member's complaints


def mismatches(value: Any, tp: Any, path: str = "$") -> list[str]:
    tp = _strip(tp)
    origin = tx.get_origin(tp)
    if tp is Any or tp is object:
        return []
    if tx.is_typeddict(tp):
        return _typeddict(value, tp, path)
    if origin in (typing.Union, types.UnionType):
        return _union(value, typing.get_args(tp), path)
    if origin in (typing.Literal, tx.Literal):
        ok = value in typing.get_args(tp)
        return [] if ok else [f"{path}: {value!r} not in {typing.get_args(tp)}"]
    if tp is type(None):
        return [] if value is None else [f"{path}: expected null"]
    if origin in (list, collections.abc.Iterable, collections.abc.Sequence, typing.Iterable):
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        (item,) = typing.get_args(tp) or (Any,)
        return [e for i, v in enumerate(value) for e in mismatches(v, item, f"{path}[{i}]")]
    if origin in (dict, collections.abc.Mapping) or tp in (dict, typing.Dict):  # noqa: UP006
        return [] if isinstance(value, dict) else [f"{path}: expected an object"]
    if tp is str:
        return [] if isinstance(value, str) else [f"{path}: expected a string"]
    if tp is bool:
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean"]
    if tp in (int, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected a number"]
    if isinstance(tp, type):
        return [] if isinstance(value, tp) else [f"{path}: expected {tp.__name__}"]
    return []  # a type this checker does not model: accepted
