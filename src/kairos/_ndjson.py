"""Newline-delimited JSON framing: a pure push decoder.

``feed(bytes)`` returns the complete, non-blank lines (as bytes, ready for ``json.loads``, which
reads UTF-8 itself, so a character split across reads comes out whole). Lines end at LF; a CR
before the LF is dropped. ``flush()`` returns a final line that had no newline: NDJSON servers
often omit the last one, and the codec still checks the line is valid JSON.
"""

from __future__ import annotations

from .errors import ProtocolError

__all__ = ["NDJSONDecoder"]


class NDJSONDecoder:
    def __init__(self, max_line_bytes: int = 32 * 1024 * 1024) -> None:
        self._max = max_line_bytes
        self._line = bytearray()

    def one(self, chunk: bytes) -> tuple[str, bytes] | None:
        """``("", line)`` if ``chunk`` is exactly one whole non-blank line and nothing is
        pending (servers send one line per read); else None and nothing changed."""
        if self._line or chunk[-1:] != b"\n" or chunk.count(b"\n") != 1 or len(chunk) > self._max:
            return None
        one = chunk[:-1].rstrip(b"\r")
        return ("", one) if one and not one.isspace() else None

    def feed(self, chunk: bytes) -> list[bytes]:
        line = self._line
        if b"\n" not in chunk:
            line += chunk
            self._check()
            return []
        if line:
            line += chunk
            chunk = bytes(line)
            line.clear()
        if chunk[-1:] == b"\n" and chunk.count(b"\n") == 1 and len(chunk) <= self._max:
            one = chunk[:-1].rstrip(b"\r")  # hot: exactly one whole line (one per read)
            return [one] if one and not one.isspace() else []
        parts = chunk.split(b"\n")
        rest = parts.pop()
        if rest:
            line += rest
            self._check()
        longest = max(map(len, parts))  # a whole line in one read counts too
        if longest > self._max:
            raise ProtocolError(f"NDJSON line larger than the {self._max}-byte limit ({longest})")
        return [p for p in (p.rstrip(b"\r") for p in parts) if p and not p.isspace()]

    def flush(self) -> list[bytes]:
        tail = bytes(self._line).strip()
        self._line.clear()
        return [tail] if tail else []

    def _check(self) -> None:
        if len(self._line) > self._max:
            size = len(self._line)
            self._line.clear()
            raise ProtocolError(f"NDJSON line larger than the {self._max}-byte limit ({size}+)")
