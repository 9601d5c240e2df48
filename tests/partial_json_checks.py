"""Checkers shared by the partial-JSON tests: typed deep equality, the consistent-extension
rule between two snapshots, and feeding helpers that tell PartialJSONError from anything else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kairos._partial_json import PartialJSON, PartialJSONError


def same(a: Any, b: Any) -> bool:
    """Deep equality that also compares types (1 != 1.0 != True) and the sign of zero."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


def check_extends(old: Any, new: Any, top: bool = True, path: str = "$") -> None:
    """``new`` is a consistent extension of ``old``: scalars equal, strings grow, lists gain
    elements (all but the last equal), dicts gain keys in order (all but the last equal)."""
    if top and old is None:
        return  # nothing was visible yet
    assert type(old) is type(new), f"{path}: {old!r} became {new!r}"
    if isinstance(old, str):
        assert new.startswith(old), f"{path}: {old!r} became {new!r}"
    elif isinstance(old, list):
        assert len(new) >= len(old), f"{path}: lost elements"
        for k, x in enumerate(old):
            if k < len(old) - 1:
                assert same(x, new[k]), f"{path}[{k}]: {x!r} became {new[k]!r}"
            else:
                check_extends(x, new[k], False, f"{path}[{k}]")
    elif isinstance(old, dict):
        assert list(new)[: len(old)] == list(old), f"{path}: keys {list(old)} -> {list(new)}"
        for k, key in enumerate(old):
            if k < len(old) - 1:
                assert same(old[key], new[key]), f"{path}.{key}: changed"
            else:
                check_extends(old[key], new[key], False, f"{path}.{key}")
    else:
        assert same(old, new), f"{path}: {old!r} became {new!r}"


def feed_all(pieces: list[str]) -> tuple[list[Any], Any]:
    """Feed the pieces, checking each snapshot against the previous; (snapshots, finish())."""
    p, snaps, prev = PartialJSON(), [], None
    for piece in pieces:
        p.feed(piece)
        snap = p.snapshot()
        check_extends(prev, snap)
        snaps.append(snap)
        prev = snap
    final = p.finish()
    check_extends(prev, final)
    return snaps, final


def split(text: str, cuts: list[int]) -> list[str]:
    points = sorted(set(cuts))
    return [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]


def rejects(pieces: list[str]) -> bool:
    """True when feed() or finish() raised PartialJSONError (any other exception propagates)."""
    p = PartialJSON()
    try:
        for piece in pieces:
            p.feed(piece)
    except PartialJSONError as e:
        assert "\n" not in str(e) and str(e).startswith("invalid JSON at position")
        with pytest.raises(PartialJSONError):
            p.finish()  # a failed parser stays failed
        return True
    try:
        p.finish()
    except PartialJSONError:
        return True
    return False


def json_rejects(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False
