"""An incremental (push) parser for one JSON value arriving in pieces, with partial snapshots.

Pure (no I/O, stdlib only); meant for ``StreamChunk.object`` and ``ToolCall.partial_arguments()``.

::

    p = PartialJSON()
    p.feed('{"name": "Al')   # pieces may split anything: escapes, surrogate pairs, numbers
    p.snapshot()             # {'name': 'Al'}
    p.feed('ice", "age": 3')
    p.snapshot()             # {'name': 'Alice'}: 3 may still become 30
    p.feed("0}")             # p.done: a complete top-level value has been seen
    p.finish()               # {'name': 'Alice', 'age': 30}

What a snapshot shows
---------------------
* ``None`` until something is visible (also the complete value ``null``: ``done`` tells).
* Strings show from their opening quote and grow; an escape is added only once complete
  (never half of ``\\u00e9``), and a high surrogate escape waits for the next escape, so
  ``\\ud83d\\ude00`` appears as one character.
* ``true``, ``false``, ``null`` show once their last letter arrives; numbers once the
  character after them does (``,`` ``]`` ``}`` or whitespace), a top-level one at ``finish()``.
* Containers show when their bracket arrives. An object key shows only once it is closed
  *and* its value shows (``""`` at the quote, ``[]`` / ``{}`` at the bracket, scalars when
  complete), so no value ever changes type between snapshots.
* Each snapshot is a consistent extension of the previous one: scalars stay equal, strings
  only grow, lists only gain elements (earlier ones equal, the last may grow), objects only
  gain keys in order (earlier values equal, the last may grow). Except for duplicate keys:
  the later value replaces the earlier in place, as in ``json.loads`` (first position, last
  value).

Acceptance is that of ``json.loads(text)`` with its defaults (lone surrogate escapes such as
``"\\ud800"`` kept, control characters in strings rejected, a leading BOM rejected, integers
longer than ``sys.get_int_max_str_digits()`` rejected, ``1e400`` is ``inf``) except: ``NaN``,
``Infinity`` and ``-Infinity`` are rejected (not JSON, though ``json.loads`` takes them), and
nesting depth is unlimited (no recursion). Text only (``str``). :meth:`~PartialJSON.feed`
raises :class:`PartialJSONError` as soon as the text can no longer begin a valid value, and
the parser stays failed; :meth:`~PartialJSON.finish` raises it for an incomplete value.

Cost
----
* ``feed`` is O(len(piece)) amortised whatever the split: nothing read is scanned again;
  string runs, whitespace and numbers go through compiled regular expressions, and a string
  arriving in many pieces is kept as a list and joined once.
* ``lazy_snapshot()`` is O(depth), and O(1) (the same object) while nothing visible changed;
  building it (``value()``, once) is O(d + n + s): d open containers, n their entries (one
  C-level copy per level), s the length of the string being read (copied whole: ``str`` is
  immutable). ``snapshot()`` is ``lazy_snapshot().value()``. A stream should attach a lazy
  snapshot to each chunk and build only those read: building one after every delta is
  quadratic in total for a huge open list or string (see ``benchmarks/partial_json.py``).
* Completed values are never copied again: they are shared by every later snapshot and by
  ``finish()``'s value, so treat snapshots as read-only below the open path. Containers on
  the open path are fresh per snapshot: mutating them never reaches the parser, and later
  parsing never changes a snapshot already returned.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from ._partial_snapshot import LazySnapshot

__all__ = ["LazySnapshot", "PartialJSON", "PartialJSONError"]


class PartialJSONError(Exception):
    """The text is not one valid JSON value; ``position`` is the character offset at fault."""

    def __init__(self, position: int, problem: str) -> None:
        super().__init__(f"invalid JSON at position {position}: {problem}")
        self.position = position


# parser states: what the next character may be
_VALUE, _VALUE_OR_CLOSE, _AFTER, _KEY, _KEY_OR_CLOSE, _COLON, _STRING, _NUMBER, _LITERAL = range(9)

_NOT_WS: Final = re.compile(r"[^ \t\n\r]")
_STRING_STOP: Final = re.compile(r'["\\\x00-\x1f]')
_NUMBER_STOP: Final = re.compile(r"[^0-9eE.+\-]")
_NUMBER_RE: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_U_ESCAPE: Final = re.compile(r"\\u[0-9a-fA-F]{4}")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_SIMPLE_ESCAPES: Final = {
    '"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"
}  # fmt: skip
_LITERALS: Final[dict[str, tuple[str, Any]]] = {
    "t": ("true", True), "f": ("false", False), "n": ("null", None)
}  # fmt: skip


def _skip_ws(s: str, i: int) -> int:
    m = _NOT_WS.search(s, i)
    return m.start() if m else len(s)


class _Frame:
    """An open array or object: its completed entries and, for an object, the current key."""

    __slots__ = ("is_dict", "key", "value")

    def __init__(self, value: list[Any] | dict[str, Any]) -> None:
        self.value: Any = value
        self.is_dict = type(value) is dict
        self.key = ""


class PartialJSON:
    """Push parser for one JSON value; see the module docstring for what snapshots show."""

    __slots__ = (
        "_done", "_error", "_esc", "_fresh", "_is_key", "_last", "_lit", "_num", "_pieces",
        "_pos", "_root", "_slen", "_stack", "_state",
    )  # fmt: skip

    def __init__(self) -> None:
        self._state = _VALUE
        self._stack: list[_Frame] = []
        self._root: Any = None
        self._done = False
        self._pieces: list[str] = []  # the string being read, in pieces, and its length
        self._slen = 0
        self._is_key = False  # ... is an object key (invisible until closed)
        self._esc = ""  # an escape not yet complete, from its backslash
        self._num: list[str] = []  # the number being read
        self._lit = ""  # the literal being read
        self._pos = 0  # characters fed before the current piece
        self._error: PartialJSONError | None = None
        self._last = LazySnapshot((), None, None)
        self._fresh = True  # _last is the current snapshot

    @property
    def done(self) -> bool:
        """A complete top-level value has been seen (a bare number: once followed by a space)."""
        return self._done

    def feed(self, text: str) -> None:
        """Parse one more piece; raises :class:`PartialJSONError` once the text cannot be JSON."""
        if self._error is not None:
            raise self._error
        steps, i, n = _STEPS, 0, len(text)
        try:
            while i < n:
                if self._state < _STRING and text[i] in " \t\n\r":  # between tokens
                    i = _skip_ws(text, i)
                    if i == n:
                        break
                i = steps[self._state](self, text, i)
        except PartialJSONError as e:
            self._error = e
            raise
        self._pos += n

    def snapshot(self) -> Any:
        """The value parsed so far (see the module docstring); ``None`` before anything shows."""
        return self.lazy_snapshot().value()

    def lazy_snapshot(self) -> LazySnapshot:
        """The snapshot of this moment, built only when its ``value()`` is called: O(depth)."""
        if self._fresh:
            return self._last
        if self._done and not self._stack:
            last = LazySnapshot((), None, self._root)
        else:
            reading = self._state == _STRING and not self._is_key
            levels = tuple([(f.value, len(f.value), f.key) for f in self._stack])
            last = LazySnapshot(levels, (self._pieces, self._slen) if reading else None)
        self._last, self._fresh = last, True
        return last

    def finish(self) -> Any:
        """The complete value; raises :class:`PartialJSONError` if the text is not one value."""
        if self._error is not None:
            raise self._error
        try:
            if self._state == _NUMBER and not self._stack:
                self._end_number(self._pos)
            if not self._done:
                raise PartialJSONError(self._pos, f"unexpected end: {self._expected()}")
        except PartialJSONError as e:
            self._error = e
            raise
        return self._root

    # -- states: each consumes from s[i] (not whitespace) and returns where it stopped ------

    def _value(self, s: str, i: int) -> int:
        c = s[i]
        if c == '"':
            self._begin_string(False)
        elif c == "[" or c == "{":
            self._stack.append(_Frame([] if c == "[" else {}))
            self._state = _VALUE_OR_CLOSE if c == "[" else _KEY_OR_CLOSE
            self._fresh = False
        elif c in "-0123456789":
            self._num, self._state = [], _NUMBER
            return i
        elif c in _LITERALS:
            self._lit, self._state = "", _LITERAL
            return i
        elif c == "]" and self._state == _VALUE_OR_CLOSE:
            self._close()
        else:
            raise self._fail(i, f"expected a value, got {c!r}")
        return i + 1

    def _after(self, s: str, i: int) -> int:
        c = s[i]
        if not self._stack:
            raise self._fail(i, f"extra data after the value: {c!r}")
        f = self._stack[-1]
        if c == ",":
            self._state = _KEY if f.is_dict else _VALUE
        elif c == ("}" if f.is_dict else "]"):
            self._close()
        else:
            raise self._fail(i, f"expected ',' or {'}' if f.is_dict else ']'}, got {c!r}")
        return i + 1

    def _key(self, s: str, i: int) -> int:
        c = s[i]
        if c == '"':
            self._begin_string(True)
        elif c == "}" and self._state == _KEY_OR_CLOSE:
            self._close()
        else:
            raise self._fail(i, f"expected a string key, got {c!r}")
        return i + 1

    def _colon(self, s: str, i: int) -> int:
        if s[i] != ":":
            raise self._fail(i, f"expected ':' after an object key, got {s[i]!r}")
        self._state = _VALUE
        return i + 1

    def _string(self, s: str, i: int) -> int:
        n, pieces = len(s), self._pieces
        while i < n:
            if self._esc:
                i = self._escape(s, i)
                continue
            m = _STRING_STOP.search(s, i)
            j = m.start() if m else n
            if j > i:
                pieces.append(s[i:j])
                self._slen += j - i
                if not self._is_key:
                    self._fresh = False
            if j == n:
                return n
            c = s[j]
            if c == '"':
                self._end_string()
                return j + 1
            if c != "\\":
                raise self._fail(j, f"control character {c!r} in a string")
            i = self._fast_escape(s, j)
        return i

    def _number(self, s: str, i: int) -> int:
        m = _NUMBER_STOP.search(s, i)
        j = m.start() if m else len(s)
        if j > i:
            self._num.append(s[i:j])
        if m:
            self._end_number(self._pos + j)
        return j

    def _literal(self, s: str, i: int) -> int:
        word, value = _LITERALS[(self._lit or s[i])[0]]
        take = s[i : i + len(word) - len(self._lit)]
        lit = self._lit + take
        if not word.startswith(lit):
            raise self._fail(i - len(self._lit), f"invalid literal {lit!r}")
        self._lit = lit
        if len(lit) == len(word):
            self._put(value)
        return i + len(take)

    # -- strings and escapes -----------------------------------------------------------------

    def _begin_string(self, is_key: bool) -> None:
        self._pieces, self._slen, self._is_key, self._esc = [], 0, is_key, ""
        self._state = _STRING
        self._fresh = self._fresh and is_key

    def _end_string(self) -> None:
        text = "".join(self._pieces)
        self._pieces = []
        if self._is_key:
            self._stack[-1].key = text
            self._state = _COLON
        else:
            self._put(text)

    def _emit(self, text: str) -> None:
        self._pieces.append(text)
        self._slen += len(text)
        if not self._is_key:
            self._fresh = False

    def _fast_escape(self, s: str, j: int) -> int:
        """A whole escape present at s[j] (not a surrogate): decode it at once."""
        simple = _SIMPLE_ESCAPES.get(s[j + 1]) if j + 1 < len(s) else None
        if simple is not None:
            self._emit(simple)
            return j + 2
        if _U_ESCAPE.match(s, j) and not 0xD800 <= (code := int(s[j + 2 : j + 6], 16)) <= 0xDFFF:
            self._emit(chr(code))
            return j + 6
        self._esc = "\\"
        return j + 1

    def _escape(self, s: str, i: int) -> int:
        """One character of a pending escape; returns i (not consumed) after a lone surrogate."""
        e, c, k = self._esc, s[i], len(self._esc)
        if k == 1:  # "\"
            if c != "u":
                simple = _SIMPLE_ESCAPES.get(c)
                if simple is None:
                    raise self._fail(i - 1, "invalid escape " + repr("\\" + c))
                self._esc = ""
                self._emit(simple)
            else:
                self._esc = "\\u"
            return i + 1
        if k == 6 or k == 7:  # "\uD8xx" or "\uD8xx\": a high surrogate waiting for its low half
            if c == "\\u"[k - 6]:
                self._esc = e + c
                return i + 1
            self._esc = "\\" if k == 7 else ""  # lone: c belongs to what follows
            self._emit(chr(int(e[2:6], 16)))
            return i
        if c not in _HEX:
            raise self._fail(i, f"invalid \\u escape: {c!r} is not a hex digit")
        e += c
        self._esc = e
        if len(e) == 6 and not 0xD800 <= (code := int(e[2:], 16)) <= 0xDBFF:
            self._esc = ""
            self._emit(chr(code))
        elif len(e) == 12:
            high, low = int(e[2:6], 16), int(e[8:], 16)
            self._esc = ""
            if 0xDC00 <= low <= 0xDFFF:
                self._emit(chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)))
            else:
                self._emit(chr(high))
                if 0xD800 <= low <= 0xDBFF:
                    self._esc = e[6:]
                else:
                    self._emit(chr(low))
        return i + 1

    # -- values and containers ---------------------------------------------------------------

    def _end_number(self, at: int) -> None:
        text = "".join(self._num)
        m = _NUMBER_RE.fullmatch(text)
        if m is None:
            raise PartialJSONError(at - len(text), f"invalid number {text!r}")
        try:
            value = int(text) if m.lastindex is None else float(text)
        except ValueError as e:  # more digits than sys.get_int_max_str_digits()
            raise PartialJSONError(at - len(text), f"number too long ({e})") from None
        self._put(value)

    def _put(self, value: Any) -> None:
        self._fresh = False
        self._state = _AFTER
        if not self._stack:
            self._root, self._done = value, True
            return
        f = self._stack[-1]
        if f.is_dict:
            if f.key in f.value:  # a duplicate key: snapshots taken so far keep the old object
                f.value = f.value.copy()
            f.value[f.key] = value
        else:
            f.value.append(value)

    def _close(self) -> None:
        self._put(self._stack.pop().value)

    def _fail(self, i: int, problem: str) -> PartialJSONError:
        return PartialJSONError(self._pos + i, problem)

    def _expected(self) -> str:
        if self._state == _STRING:
            return "unterminated " + ("object key" if self._is_key else "string")
        if self._state == _LITERAL:
            return f"incomplete literal {self._lit!r}"
        return ("unterminated " + ("object" if self._stack[-1].is_dict else "array")
                if self._stack else "no JSON value")  # fmt: skip


# the state handlers by state number (unbound, so a parser holds no reference cycle)
_STEPS: Final[tuple[Callable[[PartialJSON, str, int], int], ...]] = (
    PartialJSON._value, PartialJSON._value, PartialJSON._after, PartialJSON._key,
    PartialJSON._key, PartialJSON._colon, PartialJSON._string, PartialJSON._number,
    PartialJSON._literal,
)  # fmt: skip
