"""Snapshots of a :class:`kairos._partial_json.PartialJSON` parse: taken in O(depth), built on use.

A :class:`LazySnapshot` records, for each open container from the root down, the live container,
its length and the current key, plus the string being read (its pieces and its length). That is
enough to rebuild the value as it was, later: the parser only ever appends to an open list, adds
keys to an open object (a duplicate key makes it copy the object first), appends pieces to a
string, and never touches a container again once it is closed. So a stream can attach one to
every chunk for O(depth) and pay for building only the chunks whose value is read.
"""

from __future__ import annotations

from itertools import islice
from typing import Any, Final

__all__ = ["LazySnapshot"]

NOTHING: Final[Any] = object()  # "no visible value here" (None is a value)

# one open container: (the live list or dict, its length then, the current key then)
Level = tuple[Any, int, str]


class LazySnapshot:
    """The value parsed up to one moment, built on the first :meth:`value` call."""

    __slots__ = ("_levels", "_text", "_value")

    def __init__(
        self, levels: tuple[Level, ...], text: tuple[list[str], int] | None, value: Any = NOTHING
    ) -> None:
        self._levels: tuple[Level, ...] | None = levels if value is NOTHING else None
        self._text = text  # the open string: (its pieces, its length then)
        self._value = value

    def value(self) -> Any:
        """The snapshot (see ``kairos._partial_json``); the same object on every call.

        O(d + n + s) the first time (d open containers, n their entries, s the length of the
        string being read), O(1) after. Build it in the thread that feeds the parser (or once
        feeding stopped): it reads the parser's live containers.
        """
        levels = self._levels
        if levels is None:
            return self._value
        v = NOTHING
        if self._text is not None:
            v = _string(*self._text)
        for container, n, key in reversed(levels):
            if type(container) is dict:
                grew = len(container) != n
                c: Any = dict(islice(container.items(), n)) if grew else container.copy()
                if v is not NOTHING:
                    c[key] = v
            else:
                c = container[:n]
                if v is not NOTHING:
                    c.append(v)
            v = c
        self._value = None if v is NOTHING else v
        self._levels = self._text = None
        return self._value


def _string(pieces: list[str], n: int) -> str:
    """The first n characters of the pieces; folds them in place so later builds copy less."""
    s = pieces[0] if len(pieces) == 1 else "".join(pieces)
    if len(pieces) > 1:
        pieces[:] = [s]  # same characters: every snapshot of this string stays right
    return s if len(s) == n else s[:n]
