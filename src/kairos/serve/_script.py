"""Script files for ``kairos serve``: load, validate, and turn into :class:`Script` (pure).

Schema (YAML or JSON; ``.yaml``/``.yml`` need the ``serve`` extra for PyYAML)::

    cycle: false            # after the last ordered reply: false = repeat the last, true = cycle
    defaults:               # merged into every entry (an entry's own keys win)
      chunk_delay: 0.02
    replies:                # or: the file is just this list
      - Hi there!           # a bare string is a text reply
      - text: "Hello!"      # reply content: any key kairos.testing.reply_from_dict accepts
        usage: {prompt_tokens: 5, completion_tokens: 2}
      - match: weather      # used whenever the last user message contains "weather"
        tool_calls: [...]   # (case-insensitive); matched entries are not consumed
      - recorded: bodies/openai.sse   # replay raw bytes (a path inside the script's folder,
        split: 64                     # or --recorded DIR); split into events, or N bytes
      - status: 429         # an HTTP error in the provider's own error shape
        retry_after: 1
        error: slow down    # the error message (optional)

Reply content (parsed by :func:`kairos.testing.reply_from_dict`): ``text``, ``reasoning``
(with ``signature``: the thinking block's signature; without, wires that sign thinking get one
the strict mode checks), ``citations`` (``[{url, title?, text?}]``: sources of the text),
``refusal`` (the model declines), ``tool_calls`` (``[{name, arguments, id?}]``; ids are
generated when absent), ``usage`` (``prompt_tokens``, ``completion_tokens``, ``total_tokens``,
``cached_tokens``, ``reasoning_tokens``; estimated when absent), ``finish_reason``, ``model``,
``chunk_size`` (characters per piece; default one word per piece), ``pieces`` (an explicit list
of ``{text|reasoning|redacted|refusal|cite|pause|call|fail: ...}``; ``reasoning`` may be
``{text, signature}``, ``redacted`` is an opaque reasoning block, ``cite`` is ``{url, title?,
text?}`` for the text after it) and ``fail`` (an in-band error after the content: a kind, or
``{kind, message}``; kinds ``overloaded``, ``rate_limit``, ``server``, ``invalid_request``,
``authentication``, ``context_length``), or instead of all of these ``object`` (a value
streamed as JSON text cut at awkward places, for structured output; with ``usage``, ``model``
and ``chunk_delay`` only). A non-stream request gets a ``fail`` reply as the matching HTTP
error. Each wire renders these in its real shape (see ``kairos.testing``).

``kairos serve --strict`` (``EmulatorServer(..., strict=True)``) first rejects a request the
real API rejects, with its status and error body (see :mod:`kairos.serve._emulator`).

Serve-level keys (any entry): ``match``, ``recorded``, ``content_type`` (recorded bodies;
default: NDJSON if the body starts with ``{``, else SSE), ``split``, ``headers`` (extra
response headers), ``delay_first`` (seconds between the response headers and the first body
byte), ``chunk_delay`` (seconds between body pieces), ``truncate_after`` (send N body pieces,
then end the body without the end marker), ``status`` (>= 400: an HTTP error),
``retry_after`` (seconds, sent as ``Retry-After``) and ``error`` (the error message).

Ordered entries (no ``match``) answer requests in turn. A bad file raises
:class:`kairos.ConfigurationError` with a one-line message naming the file and the entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._reply_files import reply_from_dict
from ..errors import ConfigurationError
from ._limits import (
    MAX_RECORDED_BYTES,
    MAX_SCRIPT_BYTES,
    check_expansion,
    inside,
    read_bounded,
)

__all__ = ["RECORDED_SUFFIXES", "Entry", "Script", "load_script", "parse_script", "script_from_dir"]

RECORDED_SUFFIXES = (".sse", ".ndjson", ".jsonl")
_FLOATS = ("delay_first", "chunk_delay", "retry_after")
_INTS = ("split", "truncate_after", "status")
_STRINGS = ("match", "recorded", "content_type", "error")
SERVE_KEYS = frozenset((*_FLOATS, *_INTS, *_STRINGS, "headers"))


@dataclass(frozen=True)
class Entry:
    """One scripted answer. Exactly one of ``reply`` / ``recorded`` is set for a 2xx status."""

    reply: Any = None  # a kairos.testing.Reply
    recorded: bytes | None = None
    content_type: str | None = None
    split: int | None = None
    match: str | None = None
    delay_first: float = 0.0
    chunk_delay: float = 0.0
    truncate_after: int | None = None
    status: int = 200
    retry_after: float | None = None
    error: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Script:
    entries: tuple[Entry, ...]
    cycle: bool = False
    source: str = "<script>"

    @property
    def ordered(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.match is None)

    @property
    def matched(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.match is not None)


def _fail(where: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"{where}: {message}")


def _check_types(d: Mapping[str, Any], where: str) -> None:
    for key in _FLOATS:
        v = d.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or v < 0):
            raise _fail(where, f"{key} must be a number of seconds >= 0, not {v!r}")
    for key in _INTS:
        v = d.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise _fail(where, f"{key} must be an integer >= 0, not {v!r}")
    for key in _STRINGS:
        v = d.get(key)
        if v is not None and not isinstance(v, str):
            raise _fail(where, f"{key} must be a string, not {v!r}")
    headers = d.get("headers")
    if headers is not None and not (
        isinstance(headers, dict) and all(isinstance(v, str) for v in headers.values())
    ):
        raise _fail(where, "headers must be a mapping of strings")
    status = d.get("status")
    if status is not None and not 200 <= status <= 599:
        raise _fail(where, f"status must be an HTTP status (200-599), not {status}")


def _read_recorded(name: str, base: Path, where: str) -> bytes:
    """A recorded body; only from inside ``base`` (see :mod:`kairos.serve._limits`)."""
    path = inside(base, name, where)
    try:
        return read_bounded(path, MAX_RECORDED_BYTES, "recorded body")
    except ConfigurationError as exc:
        raise _fail(where, exc.message) from None


def _reply(content: dict[str, Any], where: str) -> Any:
    try:
        return reply_from_dict(content)
    except ConfigurationError as exc:
        raise _fail(where, exc.message.removeprefix("script: ")) from None
    except (ValueError, TypeError, KeyError) as exc:
        raise _fail(where, " ".join(str(exc).split()) or type(exc).__name__) from None


def parse_entry(d: Any, base: Path, where: str) -> Entry:
    if not isinstance(d, dict):
        raise _fail(where, f"an entry must be a mapping, not {type(d).__name__}")
    _check_types(d, where)
    serve = {k: v for k, v in d.items() if k in SERVE_KEYS}
    content = {k: v for k, v in d.items() if k not in SERVE_KEYS}
    status = serve.pop("status", 200)
    recorded = serve.pop("recorded", None)
    if status >= 400 and (content or recorded):
        raise _fail(where, f"an HTTP error entry (status {status}) cannot have reply content")
    if recorded is not None and content:
        raise _fail(where, f"a recorded entry cannot also have {sorted(content)[0]!r}")
    if serve.get("match") == "":
        raise _fail(where, "match must not be empty")
    body = _read_recorded(recorded, base, where) if recorded is not None else None
    reply = _reply(content, where) if body is None and status < 400 else None
    return Entry(reply=reply, recorded=body, status=status, **serve)


def parse_script(data: Any, base: Path, source: str) -> Script:
    """A script from already-parsed YAML/JSON data; ``base`` resolves ``recorded`` paths."""
    check_expansion(data, source)
    if isinstance(data, list):
        data = {"replies": data}
    if not isinstance(data, dict):
        raise _fail(source, "a script is a mapping with 'replies', or a list of replies")
    unknown = sorted(set(data) - {"replies", "cycle", "defaults"})
    if unknown:
        raise _fail(
            source, f"unknown top-level key {unknown[0]!r} (expected replies, cycle, defaults)"
        )
    replies, defaults = data.get("replies"), data.get("defaults") or {}
    if not isinstance(replies, list) or not replies:
        raise _fail(source, "'replies' must be a non-empty list")
    if not isinstance(defaults, dict):
        raise _fail(source, "'defaults' must be a mapping")
    if not isinstance(data.get("cycle", False), bool):
        raise _fail(source, "'cycle' must be true or false")
    entries = []
    for i, d in enumerate(replies):
        d = {"text": d} if isinstance(d, str) else d  # a bare string is a text reply
        merged = {**defaults, **d} if isinstance(d, dict) else d
        entries.append(parse_entry(merged, base, f"{source}: replies[{i}]"))
    return Script(tuple(entries), bool(data.get("cycle", False)), source)


def _parse_text(text: str, path: Path) -> Any:
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ConfigurationError(
                f"{path}: YAML scripts need PyYAML: pip install 'kairos-llm[serve]'"
            ) from None
        try:
            return yaml.safe_load(text)
        except RecursionError:
            raise _fail(str(path), "invalid YAML: nested too deep") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise _fail(str(path), f"invalid YAML{at}: {problem}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _fail(str(path), f"invalid JSON: {exc}") from None
    except RecursionError:
        raise _fail(str(path), "invalid JSON: nested too deep") from None


def load_script(path: str | Path, recorded_dir: str | Path | None = None) -> Script:
    """Load a ``.yaml``/``.yml``/``.json`` script; ``recorded`` paths are relative to
    ``recorded_dir`` when given, else to the script's folder."""
    p = Path(path)
    try:
        text = read_bounded(p, MAX_SCRIPT_BYTES, "script").decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigurationError(f"{p}: a script must be UTF-8 text") from None
    base = Path(recorded_dir) if recorded_dir is not None else p.parent
    return parse_script(_parse_text(text, p), base, str(p))


def script_from_dir(folder: str | Path, *, cycle: bool = False) -> Script:
    """One recorded entry per ``*.sse`` / ``*.ndjson`` / ``*.jsonl`` file under ``folder``
    (recursively, sorted by path): ``kairos serve --recorded DIR`` without a script."""
    root = Path(folder)
    if not root.is_dir():
        raise ConfigurationError(f"--recorded: {str(root)!r} is not a directory")
    files = sorted(p for p in root.rglob("*") if p.suffix in RECORDED_SUFFIXES and p.is_file())
    if not files:
        suffixes = ", ".join(RECORDED_SUFFIXES)
        raise ConfigurationError(f"--recorded: no recorded bodies ({suffixes}) under {str(root)!r}")
    bodies = []
    for p in files:
        path = inside(root, str(p.relative_to(root)), "--recorded")
        bodies.append(read_bounded(path, MAX_RECORDED_BYTES, "recorded body"))
    return Script(tuple(Entry(recorded=b) for b in bodies), cycle, str(root))
