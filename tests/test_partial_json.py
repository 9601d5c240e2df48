"""The incremental partial-JSON parser (``kairos._partial_json``): properties.

For random JSON values (escapes, control characters, non-BMP characters, lone and paired
surrogates, huge integers, floats with exponents, deep nesting, whitespace everywhere) serialised
with several ``json.dumps`` settings and fed split at every point, one character at a time and in
random pieces: every snapshot is a consistent extension of the previous one and equals the
snapshot of the same prefix fed in one piece, and ``finish()`` equals ``json.loads`` of the whole
text. Text that ``json.loads`` rejects (random corruptions, every truncation) makes the parser
raise ``PartialJSONError`` and nothing else. Snapshots are never aliased to the parser's live
state. Lazy snapshots (taken in O(depth)) built after the parse ended, in any order, equal the
snapshots taken at their moment, duplicate keys included. Hand-picked cases:
``test_partial_json_cases.py``.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kairos._partial_json import PartialJSON
from partial_json_checks import check_extends, feed_all, json_rejects, rejects, same, split

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- strategies ------------------------------------------------------------------------------------

SPECIAL = st.sampled_from(
    ['"', "\\", "/", "\n", "\r", "\t", "\b", "\x00", "\x1f", "\x7f", "é", "\u2028", "\ufeff",
     "\U0001f600", "\ud83d", "\ude00", "\ud800", "\udfff", " ", "u", "{", "]", ":", ","]
)  # fmt: skip
TEXT = st.text(st.characters(exclude_categories=()) | SPECIAL, max_size=10)
NUMBERS = (
    st.integers(-1000, 1000)
    | st.integers(-(10**120), 10**120)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0.0, -0.0, 1e-300, 1.5e300, 2.5e-7, 123456789.125])
)
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
DEEP = st.lists(st.sampled_from(["list", "dict"]), min_size=20, max_size=80)
DUMPS: list[dict[str, Any]] = [
    {},
    {"ensure_ascii": False},
    {"indent": 2},
    {"indent": "\t", "ensure_ascii": False},
    {"separators": (",", ":")},
    {"separators": (" ,\n", " : "), "indent": 1},
]


def whitespace(rnd: random.Random) -> str:
    return "".join(rnd.choice(" \t\n\r") for _ in range(rnd.choice([0, 0, 1, 2, 7])))


def spaced(value: Any, rnd: random.Random) -> str:
    """``value`` as JSON with random whitespace between every two tokens."""
    ws = whitespace
    if isinstance(value, list):
        return "[" + ws(rnd) + ",".join(ws(rnd) + spaced(x, rnd) + ws(rnd) for x in value) + "]"
    if isinstance(value, dict):
        members = [
            ws(rnd) + json.dumps(k, ensure_ascii=rnd.random() < 0.5) + ws(rnd) + ":"
            + ws(rnd) + spaced(v, rnd) + ws(rnd)
            for k, v in value.items()
        ]  # fmt: skip
        return "{" + ws(rnd) + ",".join(members) + "}"
    return json.dumps(value, ensure_ascii=rnd.random() < 0.5)


@st.composite
def documents(draw: st.DrawFn, values: st.SearchStrategy[Any] = VALUES) -> str:
    value = draw(values)
    style = draw(st.integers(0, len(DUMPS)))
    if style == len(DUMPS):
        rnd = random.Random(draw(st.integers(0, 2**32)))
        return whitespace(rnd) + spaced(value, rnd) + whitespace(rnd)
    return json.dumps(value, **DUMPS[style])


def nest(kinds: list[str], leaf: Any) -> Any:
    value = leaf
    for k, kind in enumerate(reversed(kinds)):
        value = [value] if kind == "list" else {f"k{k}": value, "z": k}
    return value


# -- properties ------------------------------------------------------------------------------------


@SETTINGS
@given(documents())
def test_every_split_point_gives_consistent_snapshots_and_the_json_loads_value(text: str) -> None:
    expected = json.loads(text)
    by_char, final = feed_all(list(text))  # one character at a time
    assert same(final, expected)
    for cut in range(len(text) + 1):
        snaps, final = feed_all([text[:cut], text[cut:]])
        assert same(final, expected), cut
        if cut:  # the snapshot depends on the text so far, not on how it was split
            assert same(snaps[0], by_char[cut - 1]), (cut, snaps[0], by_char[cut - 1])


@SETTINGS
@given(documents(), st.lists(st.integers(0, 10_000), max_size=30), st.randoms())
def test_random_pieces_with_occasional_snapshots(
    text: str, cuts: list[int], rnd: random.Random
) -> None:
    pieces = split(text, [c % (len(text) + 1) for c in cuts])
    p, prev = PartialJSON(), None
    for piece in pieces:
        p.feed(piece)
        if rnd.random() < 0.3:  # snapshots taken only sometimes still extend each other
            snap = p.snapshot()
            check_extends(prev, snap)
            prev = snap
    final = p.finish()
    check_extends(prev, final)
    assert same(final, json.loads(text))
    assert p.done


@settings(max_examples=30, deadline=None)
@given(DEEP, SCALARS, st.randoms())
def test_deep_nesting(kinds: list[str], leaf: Any, rnd: random.Random) -> None:
    text = spaced(nest(kinds, leaf), rnd)
    expected = json.loads(text)
    _, final = feed_all(list(text))
    assert same(final, expected)
    _, final = feed_all(split(text, rnd.sample(range(len(text) + 1), min(40, len(text)))))
    assert same(final, expected)


@SETTINGS
@given(documents(), st.integers(0, 10_000), st.sampled_from(["delete", "insert", "replace"]),
       st.sampled_from([*'",]}[{:x\\0-. eE\x01\ud800', "tru", "\\u12", "NaN"]))  # fmt: skip
def test_corruptions_are_rejected_exactly_when_json_loads_rejects(
    text: str, at: int, how: str, junk: str
) -> None:
    at %= len(text) + 1
    if how == "delete":
        bad = text[:at] + text[at + 1 :]
    elif how == "insert":
        bad = text[:at] + junk + text[at:]
    else:
        bad = text[:at] + junk + text[at + 1 :]
    if "NaN" in bad:  # json.loads accepts NaN outside strings; the parser does not (tested below)
        bad = bad.replace("NaN", "nan")
    for pieces in ([bad], list(bad), [bad[:at], bad[at:]]):
        if json_rejects(bad):
            assert rejects(pieces), bad
        else:
            assert same(feed_all(pieces)[1], json.loads(bad)), bad


@settings(max_examples=40, deadline=None)
@given(documents())
def test_every_truncation_raises_unless_it_is_itself_json(text: str) -> None:
    for cut in range(len(text)):
        prefix = text[:cut]
        if json_rejects(prefix):
            assert rejects([prefix]), prefix
        else:  # e.g. "12" cut from "123", or the text minus trailing whitespace
            assert same(feed_all([prefix])[1], json.loads(prefix))


@SETTINGS
@given(documents(VALUES.filter(lambda v: isinstance(v, (list, dict)))))
def test_snapshots_are_not_aliased_to_the_parser(text: str) -> None:
    p, held, prev = PartialJSON(), [], None
    for ch in text:
        p.feed(ch)
        snap = p.snapshot()
        if snap is prev:  # nothing changed: the cached snapshot again (already mutated)
            continue
        mark = ("mutated",)  # no JSON text can make this element or key
        assert not isinstance(snap, (list, dict)) or mark not in snap
        if isinstance(snap, (list, dict)) and not p.done:  # the top level is still open
            if isinstance(snap, list):
                snap.append(mark)
            else:
                snap[mark] = 1  # type: ignore[index]
            held.append((snap, copy.deepcopy(snap)))
        prev = snap
    final = p.finish()
    assert same(final, json.loads(text))
    for snap, at_the_time in held:  # later parsing never changed a snapshot already returned
        assert same(snap, at_the_time)


@st.composite
def duplicate_key_documents(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(st.sampled_from("ab"), VALUES), max_size=5))
    obj = "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}"
    return draw(st.sampled_from([obj, f"[{obj}, {obj}]", f'{{"x": {obj}, "x": [{obj}]}}']))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents() | duplicate_key_documents(), st.randoms())
def test_lazy_snapshots_built_later_equal_the_snapshots_of_their_moment(
    text: str, rnd: random.Random
) -> None:
    lazy, eager = PartialJSON(), PartialJSON()
    taken, expected = [], []
    for ch in text:
        lazy.feed(ch)
        eager.feed(ch)
        taken.append(lazy.lazy_snapshot())  # nothing is built here
        expected.append(copy.deepcopy(eager.snapshot()))
    final = lazy.finish()
    assert same(final, json.loads(text))
    order = list(range(len(taken)))
    rnd.shuffle(order)  # built after the parse ended, in any order
    for k in order:
        assert same(taken[k].value(), expected[k]), (k, text[: k + 1])
        assert taken[k].value() is taken[k].value()


def test_lazy_snapshot_is_cached_while_nothing_changes_and_survives_string_folding() -> None:
    p = PartialJSON()
    p.feed('["ab')
    first = p.lazy_snapshot()
    p.feed("  ")  # inside the string: visible
    second = p.lazy_snapshot()
    assert second is not first and p.lazy_snapshot() is second
    p.feed('cd", 1')  # 1 is not complete yet
    third = p.lazy_snapshot()
    p.feed("2")
    assert p.lazy_snapshot() is third
    assert third.value() == ["ab  cd"]
    assert second.value() == ["ab  "]  # the pieces were folded by the later build
    assert first.value() == ["ab"]
    assert p.snapshot() is third.value()
    p.feed("]")
    assert p.lazy_snapshot().value() == p.finish() == ["ab  cd", 12]
