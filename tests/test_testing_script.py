"""The script model: Reply helpers, script-file entries (JSON / YAML) and their errors, and the
public surface of ``kairos.testing`` (documented, sorted, light to import)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import kairos
import kairos.testing as kt
from kairos.testing import (
    Call,
    Fail,
    Pause,
    Reasoning,
    Reply,
    Text,
    load_replies,
    reply_from_dict,
)


def test_reply_text_splits_into_words_or_fixed_chunks() -> None:
    r = Reply.text("Hello  big world")
    assert [p.text for p in r.pieces] == ["Hello", " ", " big", " world"]  # type: ignore[union-attr]
    assert r.content == "Hello  big world"
    r = Reply.text("abcdefg", chunk_size=3, reasoning="why", calls=[Call("f")])
    assert r.pieces == (Reasoning("why"), Text("abc"), Text("def"), Text("g"), Call("f"))
    assert r.resolved_finish() == "tool_calls"
    assert Reply.text("x").resolved_finish() == "stop"
    assert Reply.text("x", finish_reason="length").resolved_finish() == "length"


def test_reply_properties_stop_at_a_failure() -> None:
    r = Reply([Text("a"), Fail("server"), Text("b"), Call("f")])
    assert r.content == "a" and r.calls == () and r.failure == Fail("server")


def test_resolved_usage() -> None:
    given = kairos.Usage(1, 2, 3)
    assert Reply(usage=given).resolved_usage(99) is given
    u = Reply.text("one two three", reasoning="hmm ok").resolved_usage(20)
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens) == (20, 5, 25)
    assert u.reasoning_tokens == 2


def test_call_arguments() -> None:
    assert Call("f", {"a": [1, "é"]}).arguments_json() == '{"a":[1,"é"]}'
    assert Call("f", '{"a": 1}').arguments_object() == {"a": 1}
    assert Call("f").arguments_object() == {}
    with pytest.raises(kairos.ConfigurationError, match="not a JSON object"):
        Call("f", "[1]").arguments_object()


@pytest.mark.parametrize(
    "bad",
    [
        lambda: Fail("meltdown"),
        lambda: Pause(-1),
        lambda: Reply(["text"]),  # type: ignore[list-item]
        lambda: Reply(chunk_delay=-0.1),
        lambda: Reply.text("x", chunk_size=0),
    ],
)
def test_bad_pieces_are_configuration_errors(bad: Any) -> None:
    with pytest.raises(kairos.ConfigurationError):
        bad()


def test_reply_from_dict_full_schema() -> None:
    r = reply_from_dict(
        {
            "reasoning": "think",
            "text": "Hi there",
            "tool_calls": [{"name": "f", "arguments": {"x": 1}, "id": "c1"}],
            "pieces": [
                {"pause": 0.1},
                {"text": "!"},
                {"call": {"name": "g"}},
                {"fail": "overloaded"},
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4},
            "finish_reason": "length",
            "model": "m",
            "chunk_delay": 0.02,
        }
    )
    assert r.pieces == (
        Reasoning("think"),
        Text("Hi"),
        Text(" there"),
        Call("f", {"x": 1}, "c1"),
        Pause(0.1),
        Text("!"),
        Call("g"),
        Fail("overloaded"),
    )
    assert r.usage == kairos.Usage(3, 4, 7)
    assert (r.finish_reason, r.model, r.chunk_delay) == ("length", "m", 0.02)
    assert reply_from_dict("plain") == Reply.text("plain")
    assert reply_from_dict({"text": "abcd", "chunk_size": 2}).pieces == (Text("ab"), Text("cd"))
    failing = reply_from_dict({"text": "a", "fail": {"kind": "rate_limit", "message": "m"}})
    assert failing.failure == Fail("rate_limit", "m")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"txt": "typo"}, "unknown reply key"),
        ({"text": 3}, "'text' must be a string"),
        ({"tool_calls": [{"arguments": {}}]}, "needs a string 'name'"),
        ({"tool_calls": [{"name": "f", "args": {}}]}, "unknown tool call key"),
        ({"tool_calls": [{"name": "f", "arguments": 3}]}, "must be an object or JSON text"),
        ({"pieces": [{"text": "a", "pause": 1}]}, "a piece is one of"),
        ({"pieces": [{"pause": "soon"}]}, "must be a number"),
        ({"pieces": [{"fail": "meltdown"}]}, "unknown failure kind"),
        ({"usage": {"prompt_tokens": "many"}}, "must be an integer"),
        ({"usage": {"input_tokens": 1}}, "'usage' takes"),
        ({"chunk_delay": -1}, "chunk_delay must be"),
        ({"pieces": "text"}, "must be lists"),
        (["not", "a", "reply"], "a reply is an object or a string"),
    ],
)
def test_reply_from_dict_errors_are_one_line(entry: Any, message: str) -> None:
    with pytest.raises(kairos.ConfigurationError, match=message) as info:
        reply_from_dict(entry)
    assert "\n" not in str(info.value)


def test_load_replies_json_and_yaml(tmp_path: Path) -> None:
    entries = [{"text": "one"}, "two"]
    (tmp_path / "s.json").write_text(json.dumps({"replies": entries}))
    (tmp_path / "s.yaml").write_text("- text: one\n- two\n")
    (tmp_path / "bad.json").write_text("{")
    (tmp_path / "dict.json").write_text('{"text": "x"}')
    want = [Reply.text("one"), Reply.text("two")]
    assert load_replies(tmp_path / "s.json") == want
    assert load_replies(str(tmp_path / "s.yaml")) == want
    with pytest.raises(kairos.ConfigurationError, match="not valid JSON"):
        load_replies(tmp_path / "bad.json")
    with pytest.raises(kairos.ConfigurationError, match="list of replies"):
        load_replies(tmp_path / "dict.json")
    with pytest.raises(kairos.ConfigurationError, match="cannot read"):
        load_replies(tmp_path / "missing.json")


def test_public_surface_is_sorted_and_documented() -> None:
    # sorted as ruff (RUF022) sorts: constants, then classes, then functions
    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert kt.__all__ == sorted(kt.__all__, key=key)
    assert kt.__doc__ is not None and "ScriptedProvider" in kt.__doc__
    for name in kt.__all__:
        obj = getattr(kt, name)
        if callable(obj):
            assert obj.__doc__, name


def test_import_stays_light() -> None:
    code = (
        "import sys, kairos\n"
        "assert 'kairos.testing' not in sys.modules\n"
        "import kairos.testing\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('yaml', 'starlette', 'uvicorn', 'pytest')]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
