"""The incremental partial-JSON parser (``kairos._partial_json``), for structured output.

Properties, for random JSON values (escapes, control characters, non-BMP characters, lone and
paired surrogates, huge integers, floats with exponents, deep nesting, whitespace everywhere)
serialised with several ``json.dumps`` settings and fed split at every point, one character at
a time and in random pieces: every snapshot is a consistent extension of the previous one and
equals the snapshot of the same prefix fed in one piece, and ``finish()`` equals ``json.loads``
of the whole text. Text that ``json.loads`` rejects (a hand-picked corpus, random corruptions,
every truncation) makes the parser raise ``PartialJSONError`` and nothing else. Snapshots are
never aliased to the parser's live state. Lazy snapshots (taken in O(depth)) built after the
parse ended, in any order, equal the snapshots taken at their moment, duplicate keys included.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kairos._partial_json import PartialJSON, PartialJSONError

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- checkers --------------------------------------------------------------------------------------


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


# -- explicit semantics ----------------------------------------------------------------------------

EXAMPLES: list[tuple[list[str], list[Any]]] = [
    ([""], [None]),
    (["  \n"], [None]),
    (['{"name": "Al', 'ice", "age": 3', "0", "}"],
     [{"name": "Al"}, {"name": "Alice"}, {"name": "Alice"}, {"name": "Alice", "age": 30}]),
    (['{"na', 'me"', ": ", '"', "x"], [{}, {}, {}, {"name": ""}, {"name": "x"}]),
    (['{"a": [', "1", ", tr", "ue", ", n", "ull]"],
     [{"a": []}, {"a": []}, {"a": [1]}, {"a": [1, True]}, {"a": [1, True]},
      {"a": [1, True, None]}]),
    (['{"a": {', '"b": {}'], [{"a": {}}, {"a": {"b": {}}}]),
    (['"caf\\u00', "e9 ", "au lait\\", 'n"'], ["caf", "café ", "café au lait", "café au lait\n"]),
    (['["\\ud83d', "\\ude00", '"]'], [[""], ["😀"], ["😀"]]),
    (['"\\ud83d\\', "u", "d", "e00", '"'], ["", "", "", "😀", "😀"]),
    (['"\\ud800', '"'], ["", "\ud800"]),
    (['"\\ud800\\u0041"'], ["\ud800A"]),
    (['"\\ud800\\n\\udc00\\ud83d\\ud83d\\ude00"'], ["\ud800\n\udc00\ud83d😀"]),
    (["[1", "2", ".", "5e", "-3", " "], [[], [], [], [], [], [0.0125]]),
    (["12"], [None]),
    (["12", " "], [None, 12]),
    (["null"], [None]),
    (["[1e400, -1E+400, -0, -0.0]"], [[float("inf"), float("-inf"), 0, -0.0]]),
]  # fmt: skip


@pytest.mark.parametrize(("pieces", "expected"), EXAMPLES)
def test_examples_from_the_semantics(pieces: list[str], expected: list[Any]) -> None:
    p = PartialJSON()
    for piece, want in zip(pieces, expected, strict=True):
        p.feed(piece)
        assert same(p.snapshot(), want), (piece, p.snapshot(), want)
    text = "".join(pieces)
    if json_rejects(text):  # an example stopped mid-value
        with pytest.raises(PartialJSONError):
            p.finish()
    else:
        assert same(p.finish(), json.loads(text))


def test_top_level_number_and_done() -> None:
    p = PartialJSON()
    p.feed("-12")
    assert (p.snapshot(), p.done) == (None, False)  # 12 could still become 123
    assert p.finish() == -12 and p.done
    p = PartialJSON()
    p.feed("null")
    assert (p.snapshot(), p.done) == (None, True)  # null is a value: done tells it apart
    p = PartialJSON()
    p.feed(' "ab')
    assert (p.snapshot(), p.done) == ("ab", False)


def test_unchanged_snapshot_is_cached_and_completed_values_are_shared() -> None:
    p = PartialJSON()
    p.feed('{"a": [[1, 2], "x"]')
    first = p.snapshot()
    assert p.snapshot() is first
    p.feed(' , "bb')  # the "bb" key is not visible yet: nothing changed
    assert p.snapshot() is first
    p.feed('": 3,')
    later = p.snapshot()
    assert later == {"a": [[1, 2], "x"], "bb": 3}
    assert later["a"][0] is first["a"][0]  # the completed [1, 2] is never copied again
    assert first == {"a": [[1, 2], "x"]}  # and the earlier snapshot is unchanged


def test_mutating_the_open_path_of_a_snapshot_does_not_reach_the_parser() -> None:
    p = PartialJSON()
    p.feed('{"a": [1, {"b": "x')
    snap = p.snapshot()
    snap["a"].append(99)
    snap["a"][1]["c"] = 1
    snap["z"] = 0
    p.feed('y"}]}')
    assert p.snapshot() == p.finish() == {"a": [1, {"b": "xy"}]}
    assert snap == {"a": [1, {"b": "x", "c": 1}, 99], "z": 0}


def test_depth_is_unlimited() -> None:
    depth = 100_000
    text = "[" * depth + '"leaf"' + "]" * depth
    p = PartialJSON()
    for k in range(0, len(text), 997):
        p.feed(text[k : k + 997])
    value = p.finish()
    for _ in range(depth):
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    assert value == "leaf"


def test_huge_numbers() -> None:
    digits = "9" * 4000
    assert feed_all(list(digits + " "))[1] == json.loads(digits)
    assert feed_all(["[-" + digits + "e-4000]"])[1] == json.loads("[-" + digits + "e-4000]")
    too_long = "1" * 5000  # beyond sys.get_int_max_str_digits(): json.loads refuses it too
    assert json_rejects(too_long) and rejects([too_long]) and rejects(list("[" + too_long + "]"))


EDGE = [
    r'"\"\\\/\b\f\n\r\t"', r'"a\/b"', r'"\u0000\u001f\u007F\uFFFF\uFeFf"',
    r'"\ud800\udc00\udbff\udfff\ud800\udfff\udbff\udc00"', r'"\ud7ff\ue000\udc00\udfff\ud800"',
    r'["\ud83d\ud83d\ude00\ude00", "\ud83d\\ude00", "\ud83d\""]', '"\ud83d\ude00 \U0001f600"',
    "[0, -0, 0.0, -0.0, 1E5, 1e-5, 1.25E+2, -0.5e0, 10, 9007199254740993]",
    '{"": "", " ": [], "a\\"b": {}}', " \t\n\r[ \t\n\r1 \t\n\r] \t\n\r", "[[], {}, [[]], [{}]]",
    '"\u2028\u2029\x7f\u00e9"',
]  # fmt: skip


@pytest.mark.parametrize("text", EDGE)
def test_edge_texts_match_json_loads_at_every_split(text: str) -> None:
    expected = json.loads(text)
    by_char, final = feed_all(list(text))
    assert same(final, expected)
    for cut in range(len(text) + 1):
        snaps, final = feed_all([text[:cut], text[cut:]])
        assert same(final, expected), cut
        if cut and '"a": 1, "a"' not in text:  # duplicate keys may replace a value
            assert same(snaps[0], by_char[cut - 1]), cut


BAD = [
    "", " ", "\t\n", "[1,]", '{"a":1,}', "[1 2]", "{'a':1}", '{"a" 1}', "{1:2}", '{"a":}',
    '"abc', '"\\x"', '"\\u12"', '"\\u12g4"', '"a\x01"', '"\n"', "01", "-01", "1.", ".5", "-",
    "+1", "1e", "1e+", "1.e5", "0x10", "--1", "tru", "truex", "nul", "True", "[1]]", "[1] x",
    "\ufeff[1]", "[[[", "{", '{"a"', '{"a":', "]", "}", "[1}", '{"a":1]', "1 2", '"a" "b"',
    "\u00a01", "[,1]", '{"a":1 "b":2}', '"\\ud800\\u12"', '"\\ud800\\"', "[true false]",
    '{"a":1}}', "1-2", "[1,,2]", '{,"a":1}', "[01]", "[-]", '"\\', '"\\u', "/* */ 1",
]  # fmt: skip
NOT_JSON_BUT_LOADS_ACCEPTS = ["NaN", "Infinity", "-Infinity", "[1, NaN]", '{"a": Infinity}']


@pytest.mark.parametrize("text", BAD)
def test_bad_text_raises_partial_json_error_at_every_split(text: str) -> None:
    assert json_rejects(text)
    assert rejects([text])
    assert rejects(list(text))
    for cut in range(len(text) + 1):
        assert rejects([text[:cut], text[cut:]]), cut


@pytest.mark.parametrize("text", NOT_JSON_BUT_LOADS_ACCEPTS)
def test_nan_and_infinity_are_rejected(text: str) -> None:
    json.loads(text)  # accepted by json.loads ...
    assert rejects([text]) and rejects(list(text))  # ... but not JSON


def test_error_names_the_position_and_the_parser_stays_failed() -> None:
    p = PartialJSON()
    p.feed('{"a": [1, 2')
    with pytest.raises(PartialJSONError, match=r"^invalid JSON at position 13: expected ','") as e:
        p.feed("  x]}")
    assert e.value.position == 13
    with pytest.raises(PartialJSONError) as again:
        p.feed("]}")
    assert again.value is e.value
    assert p.snapshot() == {"a": [1, 2]}
    p = PartialJSON()
    p.feed('["abc')
    with pytest.raises(PartialJSONError, match="position 5: unexpected end: unterminated string"):
        p.finish()


def test_duplicate_keys_keep_the_last_value_like_json_loads() -> None:
    text = '{"a": 1, "b": [2], "a": "three"}'
    assert same(feed_all([text])[1], json.loads(text))
