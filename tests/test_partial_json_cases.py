"""The incremental partial-JSON parser (``kairos._partial_json``): hand-picked cases.

The semantics of snapshots step by step (strings cut mid-way, numbers and literals only when
complete, keys only with their value, surrogate pairs split, top-level scalars), caching and
sharing, unlimited depth, huge numbers, every escape and surrogate boundary against
``json.loads`` at every split, and a corpus of bad texts (plus NaN/Infinity, which
``json.loads`` takes but JSON does not) raising ``PartialJSONError`` at every split.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from kairos._partial_json import PartialJSON, PartialJSONError
from partial_json_checks import feed_all, json_rejects, rejects, same

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
