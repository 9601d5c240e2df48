"""Checks on what callers pass, run before any request is sent. Pure, no I/O.

Every bad input becomes a :class:`kairos.ConfigurationError` with a one-line message naming the
field (``messages[2].content``, ``tools[0] ('search').parameters``, ``OLLAMA_HOST``), never a raw
``TypeError``, ``ValueError``, ``UnicodeEncodeError`` or ``OverflowError`` from deep inside a
codec or httpx. The rules:

* text: no lone surrogates (what undecodable bytes become in ``sys.argv`` or a file read with
  ``surrogateescape``); JSON cannot carry them.
* JSON values (tool schemas, ``extras``, a ``tool_choice`` mapping): only what strict JSON can
  encode (dict, list, tuple, str, int, finite float, bool, None), so every body kairos sends is
  strict JSON (never ``NaN`` or ``Infinity``).
* numbers: ``temperature`` / ``top_p`` finite; ``max_tokens`` a positive integer; durations
  finite and positive.
* API keys: surrounding whitespace is stripped (a CRLF ``.env`` file); a key with a control
  character inside, or a character outside Latin-1, is refused without showing the key.
* header values: Latin-1 text without control characters (what an HTTP field value can carry).
* base URLs: ``http`` or ``https``, a host, a valid port, no control characters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ._redact import display_url
from .errors import ConfigurationError
from .llm import ChatRequest, Message, Role, Tool, ToolCall

__all__ = ["api_key", "base_url", "check_json", "check_request", "headers", "seconds"]

_MAX_DEPTH = 200


def _fail(message: str) -> ConfigurationError:
    return ConfigurationError(message)


def _surrogate(text: str) -> int | None:
    """The position of the first lone surrogate in ``text``, else None."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def check_text(value: Any, where: str, *, optional: bool = False) -> None:
    """``value`` is a string JSON can carry (``None`` too when ``optional``)."""
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise _fail(f"{where} must be a string, not {type(value).__name__}")
    at = _surrogate(value)
    if at is not None:
        raise _fail(
            f"{where} holds a lone surrogate at position {at} (text that is not valid Unicode, "
            "e.g. undecodable bytes); JSON cannot carry it"
        )


def _json_problem(value: Any, path: str, depth: int, active: set[int]) -> tuple[str, str] | None:
    """Where and why ``value`` is not strict JSON (the first problem), else None."""
    if value is None or isinstance(value, bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, f"{value!r} is not a JSON number")
    if isinstance(value, str):
        at = _surrogate(value)
        return None if at is None else (path, f"a lone surrogate at position {at}")
    if depth > _MAX_DEPTH:
        return path, f"nested more than {_MAX_DEPTH} levels deep"
    if not isinstance(value, dict | list | tuple):
        return path, f"a {type(value).__name__}, which JSON cannot encode"
    if id(value) in active:
        return path, "a circular reference"
    active.add(id(value))
    try:
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str | int | float | bool) and key is not None:
                    return path, f"a key of type {type(key).__name__}"
                found = _json_problem(key, f"{path} key {key!r}", depth + 1, active)
                found = found or _json_problem(item, f"{path}[{key!r}]", depth + 1, active)
                if found:
                    return found
            return None
        for i, item in enumerate(value):
            found = _json_problem(item, f"{path}[{i}]", depth + 1, active)
            if found:
                return found
        return None
    finally:
        active.discard(id(value))


def check_json(value: Any, where: str) -> None:
    """``value`` (a mapping at the top, as codecs copy it) encodes as strict JSON."""
    top = dict(value) if isinstance(value, Mapping) and not isinstance(value, dict) else value
    found = _json_problem(top, where, 0, set())
    if found is not None:
        path, why = found
        raise _fail(f"{path} is not JSON: {why}")


def _number(value: Any, where: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"{where} must be a number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise _fail(f"{where} must be a finite number, not {value!r}")


def _message(m: Any, where: str) -> None:
    if not isinstance(m, Message):
        raise _fail(f"{where} is a {type(m).__name__}, not a kairos.Message")
    if not isinstance(m.role, Role):
        raise _fail(f"{where}.role must be a kairos.Role, not {m.role!r}")
    if isinstance(m.content, str):
        check_text(m.content, f"{where}.content")
    check_text(m.tool_call_id, f"{where}.tool_call_id", optional=True)
    check_text(m.name, f"{where}.name", optional=True)
    for j, call in enumerate(m.tool_calls):
        if not isinstance(call, ToolCall):
            raise _fail(f"{where}.tool_calls[{j}] is a {type(call).__name__}, not a ToolCall")
        for attr in ("id", "name", "arguments"):
            check_text(getattr(call, attr), f"{where}.tool_calls[{j}].{attr}")


def _tool(t: Any, where: str) -> None:
    if not isinstance(t, Tool):
        raise _fail(f"{where} is a {type(t).__name__}, not a kairos.Tool")
    check_text(t.name, f"{where}.name")
    check_text(t.description, f"{where}.description")
    if not isinstance(t.parameters, Mapping):
        raise _fail(f"{where} ({t.name!r}).parameters must be a JSON Schema object")
    check_json(t.parameters, f"{where} ({t.name!r}).parameters")


def _sequence(value: Any, where: str, what: str) -> Sequence[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise _fail(f"{where} must be a list of {what}, not {type(value).__name__}")
    return value


def check_request(req: Any) -> None:
    """Raise :class:`ConfigurationError` naming the first field of ``req`` no codec can send."""
    if not isinstance(req, ChatRequest):
        raise _fail(f"expected a kairos.ChatRequest, not {type(req).__name__}")
    for i, m in enumerate(_sequence(req.messages, "messages", "kairos.Message")):
        _message(m, f"messages[{i}]")
    for i, t in enumerate(_sequence(req.tools, "tools", "kairos.Tool")):
        _tool(t, f"tools[{i}]")
    check_text(req.model, "model")
    _number(req.temperature, "temperature")
    _number(req.top_p, "top_p")
    mt = req.max_tokens
    if mt is not None and (isinstance(mt, bool) or not isinstance(mt, int) or mt < 1):
        raise _fail(f"max_tokens must be a positive integer, not {mt!r}")
    for i, s in enumerate(_sequence(req.stop, "stop", "strings")):
        check_text(s, f"stop[{i}]")
    choice = req.tool_choice
    if isinstance(choice, str):
        check_text(choice, "tool_choice")
    elif choice is not None:
        if not isinstance(choice, Mapping):
            raise _fail(f"tool_choice must be a string or a mapping, not {type(choice).__name__}")
        check_json(choice, "tool_choice")
    if not isinstance(req.extras, Mapping):
        raise _fail(f"extras must be a mapping, not {type(req.extras).__name__}")
    check_json(req.extras, "extras")


def seconds(value: Any, where: str) -> float:
    """A duration: a finite number of seconds greater than zero."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"{where} must be a number of seconds, not {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise _fail(f"{where} must be a finite number of seconds greater than 0, not {value!r}")
    return float(value)


def _control(text: str) -> int | None:
    for i, ch in enumerate(text):
        if (ord(ch) < 0x20 and ch != "\t") or 0x7F <= ord(ch) <= 0x9F:
            return i
    return None


def api_key(value: Any, source: str) -> str | None:
    """The key with surrounding whitespace stripped (``None`` if nothing is left). A key HTTP
    cannot carry is refused; the message never shows the key."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(f"{source}: an API key must be a string, not {type(value).__name__}")
    key = value.strip()
    at = _control(key)
    if at is not None:
        raise _fail(
            f"{source}: the API key has a control character at position {at} (the key is not shown)"
        )
    if not key.isascii():
        try:
            key.encode("latin-1")
        except UnicodeEncodeError as exc:
            raise _fail(
                f"{source}: the API key has a character HTTP headers cannot carry at position "
                f"{exc.start} (the key is not shown)"
            ) from None
    return key or None


def headers(value: Mapping[str, Any] | None) -> dict[str, str]:
    """``headers=``: names and values an HTTP request can carry (values are not shown, as
    they may hold credentials)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(f"headers must be a mapping, not {type(value).__name__}")
    out: dict[str, str] = {}
    for name, v in value.items():
        if not isinstance(name, str) or not name or not name.isascii() or not name.isprintable():
            raise _fail(f"headers: {name!r} is not an HTTP header name")
        if any(ch in name for ch in ' :()<>@,;\\"/[]?={}'):
            raise _fail(f"headers: {name!r} is not an HTTP header name")
        if not isinstance(v, str):
            raise _fail(f"headers[{name!r}] must be a string, not {type(v).__name__}")
        at = _control(v)
        if at is not None:
            raise _fail(f"headers[{name!r}] has a control character at position {at}")
        try:
            v.encode("latin-1")
        except UnicodeEncodeError as exc:
            raise _fail(
                f"headers[{name!r}] has a character HTTP headers cannot carry (non-Latin-1) at "
                f"position {exc.start}"
            ) from None
        out[name] = v
    return out


def base_url(value: Any, source: str) -> str:
    """A base URL kairos can send to: ``http(s)://host[:port][/path]``, surrounding whitespace
    stripped. ``host:port`` (as ``OLLAMA_HOST`` allows) means ``http://host:port``."""
    if not isinstance(value, str):
        raise _fail(f"{source}: a base URL must be a string, not {type(value).__name__}")
    url = value.strip()
    if "://" not in url:
        url = f"http://{url}"
    shown = display_url(url)
    at = _control(url)
    if at is not None or any(ch in url for ch in " \t"):
        raise _fail(f"{source}: the base URL {shown!r} has a control character or a space")
    if _surrogate(url) is not None:
        raise _fail(f"{source}: the base URL {shown!r} is not valid Unicode text")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise _fail(f"{source}: the base URL {shown!r} has an unclosed '[' (IPv6)") from None
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise _fail(f"{source}: the base URL {shown!r} has a bad port (0-65535)") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _fail(f"{source}: the base URL {shown!r} must start with http:// or https://")
    if not parts.hostname:
        raise _fail(f"{source}: the base URL {shown!r} has no host")
    return url
