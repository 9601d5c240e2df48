"""A compact set of ids for one batch run: 16 bytes per id, so a million ids cost ~16 MiB.

A batch must know which ids it has already seen (one output line per id) and, on resume,
which ids the output already holds. A Python ``set`` of strings costs ~90 bytes per id; this
keeps a 64-bit BLAKE2b digest of each id's JSON text in an open-addressing table instead.
Two different ids share a digest with probability ~n²/2⁶⁵ (3·10⁻⁸ for a million ids).
"""

from __future__ import annotations

import hashlib
from array import array

__all__ = ["IdSet", "id_key"]

_EMPTY = 0


def id_key(text: str) -> int:
    """The 64-bit digest of an id's canonical JSON text (never 0, the empty slot)."""
    digest = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
    return digest or 1


class IdSet:
    """A set of id digests in a flat ``array('Q')`` (linear probing, load factor <= 1/2)."""

    __slots__ = ("_mask", "_slots", "_used")

    def __init__(self) -> None:
        self._slots = array("Q", bytes(8 * 1024))
        self._mask = 1023
        self._used = 0

    def __len__(self) -> int:
        return self._used

    def __contains__(self, key: int) -> bool:
        slots, mask = self._slots, self._mask
        i = key & mask
        while True:
            value = slots[i]
            if value == key:
                return True
            if value == _EMPTY:
                return False
            i = (i + 1) & mask

    def add(self, key: int) -> bool:
        """Add ``key``; False when it was already there."""
        slots, mask = self._slots, self._mask
        i = key & mask
        while True:
            value = slots[i]
            if value == key:
                return False
            if value == _EMPTY:
                break
            i = (i + 1) & mask
        slots[i] = key
        self._used += 1
        if self._used * 2 > mask:
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("Q", bytes(16 * len(old)))
        self._mask = 2 * len(old) - 1
        self._used = 0
        for value in old:
            if value != _EMPTY:
                self.add(value)
