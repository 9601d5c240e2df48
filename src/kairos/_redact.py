"""Keeping the caller's secrets (API keys) out of every error kairos surfaces.

Servers sometimes echo the key back in an error message, type, request id or body. :func:`redact`
is applied once to each error where it is finalised: by the call owner (``_call``) before an
error is raised from ``chat_stream``, and by the stream machine (``_machine``) when it builds a
final chunk carrying an error. It rewrites every field a caller can print (``message``,
``error_type``, ``request_id``, every string inside ``body``) and the messages of the exceptions
chained as its cause, and it looks for every textual form of a key: raw, escaped as ``repr``,
``ascii`` and JSON write it, and URL-encoded. :func:`url_secrets` names the parts of a base URL
that may be credentials (user info, query values) and :func:`display_url` hides them.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote

from .errors import KairosError

__all__ = ["MIN_SECRET", "display_url", "forms", "redact", "redact_text", "url_secrets"]

MIN_SECRET = 8
"""Shorter "keys" (placeholders such as ``x``, ``EMPTY`` or ``ollama`` for local servers) are
not credentials; redacting them would rewrite every ``x`` in a message, so they are left alone."""

MARK = "[redacted]"
_MAX_DEPTH = 64


def forms(secret: str) -> tuple[str, ...]:
    """Every textual form of ``secret`` kairos or a server may print, longest first."""
    out = {
        secret,
        repr(secret)[1:-1],
        ascii(secret)[1:-1],
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
    }
    with contextlib.suppress(UnicodeEncodeError):
        out.add(repr(secret.encode("latin-1"))[2:-1])
    return tuple(sorted((f for f in out if f), key=len, reverse=True))


def _all_forms(secrets: Iterable[str]) -> tuple[str, ...]:
    found: set[str] = set()
    for s in secrets:
        if len(s) >= MIN_SECRET:
            found.update(forms(s))
    return tuple(sorted(found, key=len, reverse=True))


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret replaced."""
    for form in _all_forms(secrets):
        if form in text:
            text = text.replace(form, MARK)
    return text


def _scrub(text: str, found: tuple[str, ...]) -> str:
    for form in found:
        if form in text:
            text = text.replace(form, MARK)
    return text


def _body(value: Any, found: tuple[str, ...], depth: int) -> Any:
    """A copy of a parsed JSON body with the secrets removed from every string in it."""
    if isinstance(value, str):
        return _scrub(value, found)
    if depth > _MAX_DEPTH:
        raise RecursionError
    if isinstance(value, dict):
        return {_body(k, found, depth + 1): _body(v, found, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_body(v, found, depth + 1) for v in value]
    if value is None or isinstance(value, int | float):
        return value
    return _scrub(repr(value), found)


def _causes(err: BaseException, found: tuple[str, ...]) -> None:
    """Redact the messages of the exceptions chained to ``err`` (they show in tracebacks); a
    chained exception whose text still holds a secret afterwards is cut from the chain."""
    seen = {id(err)}
    exc = err.__cause__ or err.__context__
    while exc is not None and id(exc) not in seen and len(seen) < 16:
        seen.add(id(exc))
        try:
            exc.args = tuple(_scrub(a, found) if isinstance(a, str) else a for a in exc.args)
            leaked = any(f in str(exc) for f in found)
        except Exception:  # an exception whose text cannot be rewritten or read
            leaked = True
        if leaked:
            err.__cause__ = None
            err.__suppress_context__ = True
            return
        exc = exc.__cause__ or exc.__context__


def redact(err: KairosError, secrets: tuple[str, ...]) -> KairosError:
    """Remove ``secrets`` from every field of an error; returns ``err``."""
    found = _all_forms(secrets)
    if not found:
        return err
    text = _scrub(err.message, found)
    if text != err.message:
        err.message = text
        err.args = (text,)
    for attr in ("error_type", "request_id"):
        value = getattr(err, attr, None)
        if isinstance(value, str):
            setattr(err, attr, _scrub(value, found))
    if err.body is not None:
        try:
            err.body = _body(err.body, found, 0)
        except RecursionError:  # nested too deep to check (a hostile body): drop it
            err.body = "[redacted: the error body was nested too deep to check for the API key]"
    _causes(err, found)
    return err


# user info: up to the first "@" of the authority, or ``user:password@`` whose password holds a
# raw "/" (invalid in a URL, but pasted keys have them: such a URL does not parse, and the
# error that says so must not show the key)
_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)(?:[^/?#@]*|[^/?#@:]*:[^?#@]*)@")


def display_url(url: str) -> str:
    """``url`` without what may be credentials: user info and query values become ``***``.
    Works on text that does not parse as a URL too."""
    shown = _USERINFO.sub(r"\1***@", url)
    base, sep, query = shown.partition("?")
    if not sep:
        return shown
    query, hash_sep, fragment = query.partition("#")
    names = [item.split("=", 1)[0] for item in query.split("&") if item]
    return base + "?" + "&".join(f"{n}=***" for n in names) + hash_sep + fragment


def url_secrets(url: str) -> tuple[str, ...]:
    """The parts of a base URL that may be credentials: the user name and password, and every
    query value (``?key=...``), raw and percent-decoded."""
    out: list[str] = []
    match = _USERINFO.match(url)
    if match:
        info = url[len(match.group(1)) : match.end() - 1]
        for part in info.split(":", 1):
            out += [part, unquote(part)]
    _, _, query = url.partition("?")
    query = query.partition("#")[0]
    for raw in query.split("&"):
        value = raw.partition("=")[2]
        if value:
            out.append(value)
    for _, value in parse_qsl(query, keep_blank_values=False):
        out.append(value)
    return tuple(dict.fromkeys(s for s in out if s))
