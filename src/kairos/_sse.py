"""Server-sent events framing: a pure push decoder, exact to the WHATWG rules.

``feed(bytes)`` returns the events completed by those bytes; ``flush()`` is called at the end of
the body. Lines end at CR, LF or CRLF (a CR at the end of one read waits to see whether the next
read starts with its LF); a leading UTF-8 BOM is dropped; ``:`` lines are comments; ``data``
lines join with ``\\n``; one space after the colon is removed if present; ``id`` and ``retry``
are tracked; an event without any ``data`` line is not dispatched. Lines are decoded only once
complete, so a UTF-8 character split across reads comes out whole (invalid bytes become U+FFFD,
as the spec says).

One deliberate leniency: at the end of the body, an event whose lines all ended but whose blank
dispatch line never came is still dispatched (servers that drop the last blank line are common).
An unterminated last line is dropped, as the spec says, so a truncated JSON line never parses.
"""

from __future__ import annotations

from .errors import ProtocolError

__all__ = ["SSEDecoder", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"


class ServerSentEvent:
    __slots__ = ("data", "event", "id", "retry")

    def __init__(self, event: str, data: str, id: str = "", retry: int | None = None) -> None:
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry

    def __repr__(self) -> str:
        return f"ServerSentEvent(event={self.event!r}, data={self.data!r}, id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (self.event, self.data, self.id, self.retry) == (
            other.event,
            other.data,
            other.id,
            other.retry,
        )

    __hash__ = None  # type: ignore[assignment]


class SSEDecoder:
    def __init__(self, max_event_bytes: int = 32 * 1024 * 1024) -> None:
        self._max = max_event_bytes
        self._line = bytearray()  # an unterminated line carried over between reads
        self._cr = False  # the previous read ended with CR
        self._start = True  # still looking for a BOM
        self._data: list[str] = []
        self._size = 0  # bytes held for the current event
        self._event = ""
        self._id = ""  # the last event id persists across events
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        one = self.one(chunk)
        if one is not None:
            return [ServerSentEvent(one[0], one[1], self._id, self._retry)]
        if self._start:
            chunk = self._strip_bom(chunk)
            if not chunk:
                return []
        if self._cr:
            self._cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._cr = chunk[-1:] == b"\r"
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        out: list[ServerSentEvent] = []
        line = self._line
        if line:
            cut = chunk.find(b"\n")
            if cut < 0:
                line += chunk
                self._check(len(line))
                return out
            line += chunk[:cut]
            self._process(bytes(line), out)
            line.clear()
            chunk = chunk[cut + 1 :]
        lines = chunk.split(b"\n")
        rest = lines.pop()
        self._lines(lines, out)
        if rest:
            line += rest
            self._check(len(line))
        return out

    def one(self, chunk: bytes) -> tuple[str, str] | None:
        """``(event, data)`` if ``chunk`` is exactly one whole event and nothing is pending
        (the way servers send them): an optional ``event: X`` line, one ``data: Y`` line and
        the blank line, all ending in LF or all in CRLF. Else None and nothing changed (then
        ``feed`` takes the chunk, with the same result)."""
        if self._line or self._start or self._cr or self._data:
            return None
        if chunk[-2:] == b"\n\n":
            n = 1
        elif chunk[-4:] == b"\r\n\r\n":
            n = 2
        else:
            return None
        end = len(chunk) - 2 * n  # where the data line ends
        start, event = 0, self._event
        if chunk[:7] == b"event: ":
            start = chunk.find(b"\n") + 1
            stop = start - n
            if (n == 2 and chunk[stop] != 0x0D) or chunk.find(b"\r", 0, stop) >= 0:
                return None
            event = chunk[7:stop].decode("utf-8", "replace")
        if (
            chunk[start : start + 6] != b"data: "
            or chunk.find(b"\n", start, end) >= 0
            or chunk.find(b"\r", start, end) >= 0
            or self._size + end - start > self._max + 5
        ):
            return None
        self._event = ""
        self._size = 0
        return event or "message", chunk[start + 6 : end].decode("utf-8", "replace")

    def flush(self) -> list[ServerSentEvent]:
        """End of body: drop an unterminated line, dispatch a pending event (see module doc)."""
        self._line.clear()
        self._cr = False
        out: list[ServerSentEvent] = []
        self._process(b"", out)
        return out

    def _strip_bom(self, chunk: bytes) -> bytes:
        pending = bytes(self._line) + chunk
        if len(pending) < len(_BOM) and _BOM.startswith(pending):
            self._line[:] = pending  # wait for more bytes to decide
            return b""
        self._line.clear()
        self._start = False
        return pending[3:] if pending.startswith(_BOM) else pending

    def _check(self, pending: int) -> None:
        if self._size + pending > self._max:
            size, self._size = self._size + pending, 0
            self._data.clear()
            self._line.clear()
            raise ProtocolError(
                f"server-sent event larger than the {self._max}-byte limit ({size}+)"
            )

    def _lines(self, lines: list[bytes], out: list[ServerSentEvent]) -> None:
        """``_process`` for each line, with the common lines (``data: ``, ``event: ``, blank)
        handled inline: this loop runs once per line of every stream."""
        process, limit = self._process, self._max + 5
        for raw in lines:
            if raw[:6] == b"data: " and self._size + len(raw) <= limit:
                self._size += len(raw) - 5
                self._data.append(raw[6:].decode("utf-8", "replace"))
            elif not raw:
                data = self._data
                if data:
                    text = data[0] if len(data) == 1 else "\n".join(data)
                    event = self._event or "message"
                    out.append(ServerSentEvent(event, text, self._id, self._retry))
                    self._data = []
                self._event = ""
                self._size = 0
            elif raw[:7] == b"event: ":
                self._event = raw[7:].decode("utf-8", "replace")
            else:
                process(raw, out)

    def _process(self, line: bytes, out: list[ServerSentEvent]) -> None:
        if not line:
            if self._data:
                data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
                out.append(ServerSentEvent(self._event or "message", data, self._id, self._retry))
                self._data = []
            self._event = ""
            self._size = 0
            return
        if line[0] == 0x3A:  # ':' comment
            return
        colon = line.find(b":")
        if colon < 0:
            name, value = line, b""
        else:
            name, value = line[:colon], line[colon + 1 :]
            if value[:1] == b" ":
                value = value[1:]
        if name == b"data":
            self._size += len(value) + 1
            self._check(0)
            self._data.append(value.decode("utf-8", "replace"))
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\0" not in value:
                self._id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)
