"""Script files and their entries: a mapping (YAML/JSON) -> :class:`~kairos._replies.Reply`.

The schema is documented in ``kairos.testing`` and ``kairos.serve._script``; bad input raises
:class:`kairos.ConfigurationError` with a one-line message. Pure, except reading the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._replies import (
    Call,
    Cite,
    Fail,
    Pause,
    Piece,
    Reasoning,
    Redacted,
    Refusal,
    Reply,
    Text,
    split,
)
from .errors import ConfigurationError
from .llm import Usage

__all__ = ["load_replies", "reply_from_dict"]

_REPLY_KEYS = frozenset(
    (
        *("text", "reasoning", "tool_calls", "usage", "finish_reason", "model"),
        *("chunk_delay", "pieces", "fail", "chunk_size", "refusal", "citations", "signature"),
        "object",
    )
)
_PIECE_KEYS = "text/reasoning/redacted/refusal/cite/pause/call/fail"
_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")
_USAGE_OPTIONAL = ("cached_tokens", "reasoning_tokens")


def _bad(message: str) -> ConfigurationError:
    return ConfigurationError(f"script: {message}")


def _call(d: Any) -> Call:
    if not isinstance(d, Mapping) or not isinstance(d.get("name"), str):
        raise _bad(f"a tool call needs a string 'name', got {d!r}"[:200])
    unknown = set(d) - {"name", "arguments", "id"}
    if unknown:
        raise _bad(f"unknown tool call key(s) {sorted(unknown)}")
    args = d.get("arguments", {})
    if not isinstance(args, Mapping | str):
        raise _bad(f"tool call {d['name']!r}: 'arguments' must be an object or JSON text")
    call_id = d.get("id")
    if call_id is not None and not isinstance(call_id, str):
        raise _bad(f"tool call {d['name']!r}: 'id' must be a string")
    return Call(d["name"], dict(args) if isinstance(args, Mapping) else args, call_id)


def _fail(v: Any) -> Fail:
    if isinstance(v, str):
        return Fail(v)
    if isinstance(v, Mapping) and set(v) <= {"kind", "message"}:
        return Fail(str(v.get("kind", "server")), str(v.get("message", "scripted failure")))
    raise _bad(f"'fail' must be a kind or {{kind, message}}, got {v!r}"[:200])


def _number(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
        raise _bad(f"{what} must be a number >= 0, got {v!r}")
    return float(v)


def _cite(d: Any) -> Cite:
    if (
        not isinstance(d, Mapping)
        or not isinstance(d.get("url"), str)
        or set(d)
        - {
            "url",
            "title",
            "text",
        }
    ):
        raise _bad(f"a citation is {{url, title?, text?}}, got {d!r}"[:200])
    title, text = d.get("title"), d.get("text")
    if not all(v is None or isinstance(v, str) for v in (title, text)):
        raise _bad("a citation's title and text must be strings")
    return Cite(d["url"], title, text)


def _reasoning(value: Any) -> Reasoning:
    if isinstance(value, str):
        return Reasoning(value)
    if isinstance(value, Mapping) and isinstance(value.get("text"), str):
        sig = value.get("signature")
        if set(value) <= {"text", "signature"} and (sig is None or isinstance(sig, str)):
            return Reasoning(value["text"], sig)
    raise _bad(f"reasoning is text or {{text, signature}}, got {value!r}"[:200])


def _piece(d: Any) -> Piece:
    if not isinstance(d, Mapping) or len(d) != 1:
        raise _bad(f"a piece is one of {_PIECE_KEYS}, got {d!r}"[:200])
    ((key, value),) = d.items()
    if key == "text" and isinstance(value, str):
        return Text(value)
    if key == "redacted" and isinstance(value, str):
        return Redacted(value)
    if key == "refusal" and isinstance(value, str):
        return Refusal(value)
    makers: dict[str, Any] = {
        "reasoning": _reasoning,
        "cite": _cite,
        "call": _call,
        "fail": _fail,
        "pause": lambda v: Pause(_number(v, "pause")),
    }
    if key in makers:
        return makers[key](value)  # type: ignore[no-any-return]
    raise _bad(f"a piece is one of {_PIECE_KEYS}, got {d!r}"[:200])


def _usage(d: Any) -> Usage:
    if not isinstance(d, Mapping) or not set(d) <= set(_USAGE_KEYS + _USAGE_OPTIONAL):
        raise _bad(f"'usage' takes {', '.join(_USAGE_KEYS + _USAGE_OPTIONAL)}, got {d!r}"[:200])
    values: dict[str, Any] = {}
    for key, value in d.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise _bad(f"usage {key} must be an integer, got {value!r}")
        values[key] = value
    prompt, completion = values.get("prompt_tokens") or 0, values.get("completion_tokens") or 0
    values["total_tokens"] = values.get("total_tokens") or prompt + completion
    values["prompt_tokens"], values["completion_tokens"] = prompt, completion
    return Usage(**values)


def _object_reply(d: Mapping[str, Any]) -> Reply:
    """A script entry ``object: {...}``: that value streamed as JSON text (``Reply.object``)."""
    others = set(d) - {"object", "usage", "model", "chunk_delay"}
    if others:
        raise _bad(f"'object' cannot be combined with {sorted(others)}")
    return Reply.object(
        d["object"],
        usage=_usage(d["usage"]) if d.get("usage") is not None else None,
        model=d.get("model"),
        chunk_delay=_number(d.get("chunk_delay", 0.0), "chunk_delay"),
    )


def reply_from_dict(d: Mapping[str, Any] | str) -> Reply:
    """A :class:`Reply` from a script-file entry (see the ``kairos.testing`` docs for the
    schema). A bare string is a text reply. Bad input raises :class:`kairos.ConfigurationError`."""
    if isinstance(d, str):
        return Reply.text(d)
    if not isinstance(d, Mapping):
        raise _bad(f"a reply is an object or a string, got {type(d).__name__}")
    unknown = set(d) - _REPLY_KEYS
    if unknown:
        known = ", ".join(sorted(_REPLY_KEYS))
        raise _bad(f"unknown reply key(s) {sorted(unknown)}; known: {known}")
    for key in ("text", "reasoning", "finish_reason", "model", "refusal", "signature"):
        if d.get(key) is not None and not isinstance(d[key], str):
            raise _bad(f"{key!r} must be a string")
    if "object" in d:
        return _object_reply(d)
    size = d.get("chunk_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise _bad(f"'chunk_size' must be an integer >= 1, got {size!r}")
    calls = d.get("tool_calls") or []
    raw_pieces = d.get("pieces") or []
    cites = d.get("citations") or []
    if not all(isinstance(v, list) for v in (calls, raw_pieces, cites)):
        raise _bad("'tool_calls', 'pieces' and 'citations' must be lists")
    pieces = _head(d, size, [_cite(c) for c in cites])
    pieces += [*(_call(c) for c in calls), *(_piece(p) for p in raw_pieces)]
    if d.get("fail") is not None:
        pieces.append(_fail(d["fail"]))
    return Reply(
        pieces,
        usage=_usage(d["usage"]) if d.get("usage") is not None else None,
        finish_reason=d.get("finish_reason"),
        model=d.get("model"),
        chunk_delay=_number(d.get("chunk_delay", 0.0), "chunk_delay"),
    )


def _head(d: Mapping[str, Any], size: int | None, cites: list[Cite]) -> list[Piece]:
    """The reasoning (signed when ``signature`` is given), citations, text and refusal of a
    script entry, in that order."""
    reasoning = [Reasoning(p) for p in split(d.get("reasoning") or "", size) if p]
    if reasoning and d.get("signature"):
        reasoning[-1] = Reasoning(reasoning[-1].text, d["signature"])
    text = [Text(p) for p in split(d.get("text") or "", size) if p]
    refusal = [Refusal(p) for p in split(d.get("refusal") or "", size) if p]
    return [*reasoning, *cites, *text, *refusal]


def load_replies(path: str | Path) -> list[Reply]:
    """Replies from a JSON or YAML file: a list of replies, or ``{"replies": [...]}``.
    YAML needs PyYAML (``pip install 'kairos-llm[serve]'``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"script: cannot read {p}: {exc.strerror or exc}") from exc
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as exc:
            raise ConfigurationError(
                "script: reading YAML needs PyYAML (pip install 'kairos-llm[serve]')"
            ) from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"script: {p} is not valid YAML") from exc
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigurationError(f"script: {p} is not valid JSON ({exc})") from exc
    if isinstance(data, Mapping):
        data = data.get("replies")
    if not isinstance(data, list):
        raise ConfigurationError(f"script: {p} must hold a list of replies (or 'replies:')")
    return [reply_from_dict(r) for r in data]
