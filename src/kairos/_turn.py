"""The ordered assistant turn: which parts an answer had, in which order (pure, no I/O).

The accumulator keeps every text piece in one list (``content``); this module records only
where the turn changes course -- a reasoning block opens, a tool call starts, a provider part
or a refusal arrives, a wire starts a new text part -- as items that point into that list. A
text-only stream never touches it, so its per-chunk cost is unchanged. :meth:`Turn.parts`
turns the items into the public parts (``ChatResponse.parts``), with each reasoning block and
provider part stamped with the provider and wire that made it (the cross-provider rule in
:mod:`kairos.llm`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from ._codec import PartDelta
from .llm import Citation, Part, ProviderPart, ReasoningBlock, Refusal, TextPart, ToolCall

__all__ = ["Turn"]


class _Text:
    """Text pieces ``content[start:end]`` forming one text part."""

    __slots__ = ("citations", "data", "end", "start")

    def __init__(self, start: int, end: int, data: Any, citations: list[Citation]) -> None:
        self.start = start
        self.end = end
        self.data = data
        self.citations = citations


class _Block:
    """A reasoning block being received."""

    __slots__ = ("closed", "data", "id", "pieces", "provider_data", "signature")

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.signature: str | None = None
        self.data: str | None = None
        self.id: str | None = None
        self.provider_data: Mapping[str, Any] | None = None
        self.closed = False


class _Refusal:
    __slots__ = ("pieces",)

    def __init__(self) -> None:
        self.pieces: list[str] = []


class Turn:
    """The items of one answer. ``content`` is the accumulator's list of text pieces."""

    def __init__(self, provider: str, wire: str, content: list[str]) -> None:
        self.provider = provider
        self.wire = wire
        self.content = content
        self.items: list[Any] = []  # _Text | _Block | _Refusal | ProviderPart | the calls
        self.seen = 0  # text pieces already placed in an item
        self.block: _Block | None = None  # the open reasoning block
        self.text_data: Any = None  # provider data of the text part in progress
        self.text_citations: list[Citation] = []
        self.answer_citations: list[tuple[Citation, bool]] = []  # (citation, offsets in bytes)
        self.refusal: list[str] = []

    # -- recording -------------------------------------------------------------------------
    def sync(self) -> None:
        """Close the text part in progress (the text received since the last item)."""
        end = len(self.content)
        if end > self.seen or self.text_data is not None:
            self.items.append(_Text(self.seen, end, self.text_data, self.text_citations))
            self.text_data, self.text_citations = None, []
        self.seen = end

    def reasoning(self, text: str) -> None:
        """A reasoning piece: it joins the open block unless something came in between."""
        block = self.block
        if block is None or not self._continues(block):
            block = self._open()
        block.pieces.append(text)

    def _continues(self, block: _Block | None) -> bool:
        """Whether the next reasoning piece joins ``block``: still open, the last item, and
        no text received after it."""
        if block is None or block.closed or self.items[-1] is not block:
            return False
        return not self._text_since()

    def call(self, call: Any) -> None:
        """A new tool call (the accumulator's own call object, built when read)."""
        self.sync()
        self.items.append(call)

    def event(self, ev: PartDelta) -> None:
        """A part event, after the accumulator has put its text (if any) in ``content``."""
        kind = ev.kind
        if kind == "reasoning":
            self._reasoning(ev)
        elif kind == "signature":
            block = self.block or self._open()
            block.signature = (block.signature or "") + ev.text
        elif kind == "citation" and ev.citation is not None:
            self.text_citations.append(ev.citation)
        elif kind == "answer_citation" and ev.citation is not None:
            self.answer_citations.append((ev.citation, ev.data == "utf-8"))
        elif kind == "refusal":
            self._refusal(ev.text)
        elif kind == "part" and ev.raw is not None:
            self.sync()
            self.items.append(ProviderPart(self.provider, self.wire, ev.raw))
        elif kind == "reasoning_data":
            block = self._last_block() or self._open()
            block.provider_data = ev.provider_data
        elif kind == "text_start":
            self.sync()
            self.text_data = ev.provider_data  # the new part's own data (an item id...)
        elif kind == "text_data" and self._text_since():
            self.text_data = ev.provider_data  # the finished part's data, the part stays open

    def text(self, ev: PartDelta, before: int) -> None:
        """A ``"text"`` event whose text (if any) was appended at ``content[before]``: with
        ``provider_data`` it is a part of its own (earlier text is closed first)."""
        if ev.provider_data is None:
            return  # an ordered piece of the text in progress
        if before > self.seen:
            self.items.append(_Text(self.seen, before, self.text_data, self.text_citations))
            self.text_data, self.text_citations = None, []
            self.seen = before
        self.text_data = ev.provider_data
        self.sync()

    def _text_since(self) -> bool:
        return len(self.content) > self.seen

    def _open(self) -> _Block:
        self.sync()
        block = self.block = _Block()
        self.items.append(block)
        return block

    def _block_with(self, id: str | None) -> _Block | None:
        """The block received earlier with this id (a wire whose blocks end out of order)."""
        if id is None:
            return None
        return next((i for i in reversed(self.items) if isinstance(i, _Block) and i.id == id), None)

    def _last_block(self) -> _Block | None:
        return next((i for i in reversed(self.items) if isinstance(i, _Block)), None)

    def _reasoning(self, ev: PartDelta) -> None:
        block = self.block
        other = block is not None and ev.id is not None and block.id not in (None, ev.id)
        if ev.new or other or not self._continues(block):
            block = (None if ev.new else self._block_with(ev.id)) or self._open()
        assert block is not None
        if ev.text:
            block.pieces.append(ev.text)
        if ev.signature is not None:
            block.signature = ev.signature
        if ev.data is not None:
            block.data = ev.data
        if ev.id is not None:
            block.id = ev.id
        if ev.provider_data is not None:
            block.provider_data = ev.provider_data
        block.closed = ev.close

    def _refusal(self, text: str) -> None:
        self.refusal.append(text)
        last = self.items[-1] if self.items else None
        if not isinstance(last, _Refusal) or self._text_since():
            self.sync()
            last = _Refusal()
            self.items.append(last)
        last.pieces.append(text)

    # -- reading ---------------------------------------------------------------------------
    def parts(self, build_call: Callable[[Any], ToolCall]) -> tuple[Part, ...]:
        """The public parts, in order. Empty when the turn is just its text followed by its
        tool calls (``ChatResponse.to_message`` rebuilds that)."""
        items = list(self.items)
        if len(self.content) > self.seen or self.text_data is not None:
            items.append(_Text(self.seen, len(self.content), self.text_data, self.text_citations))
        if _plain(items):
            return ()
        out: list[Part] = []
        offset = 0
        for item in items:
            if isinstance(item, _Text):
                text = "".join(self.content[item.start : item.end])
                end = offset + len(text)
                cites = tuple(replace(c, start=offset, end=end) for c in item.citations)
                out.append(TextPart(text, cites, item.data))
                offset += len(text)
            elif isinstance(item, _Block):
                out.append(self._block_part(item))
            elif isinstance(item, _Refusal):
                out.append(Refusal("".join(item.pieces)))
            elif isinstance(item, ProviderPart):
                out.append(item)
            else:
                out.append(build_call(item))
        return tuple(out)

    def _block_part(self, b: _Block) -> ReasoningBlock:
        return ReasoningBlock(
            "".join(b.pieces),
            b.signature,
            b.data,
            b.id,
            self.provider,
            self.wire,
            b.provider_data,
        )

    def citations(self, parts: tuple[Part, ...]) -> tuple[Citation, ...]:
        """Every citation: those of the text parts (with their spans), then the answer's
        (offsets a wire counts in UTF-8 bytes become character offsets)."""
        out = [c for p in parts if isinstance(p, TextPart) for c in p.citations]
        if not self.answer_citations:
            return tuple(out)
        encoded = (
            "".join(self.content).encode() if any(b for _, b in self.answer_citations) else b""
        )
        for cite, in_bytes in self.answer_citations:
            if in_bytes:
                cite = replace(
                    cite, start=_chars(encoded, cite.start), end=_chars(encoded, cite.end)
                )
            out.append(cite)
        return tuple(out)


def _plain(items: list[Any]) -> bool:
    """True for "at most one plain text part, then only tool calls"."""
    texts = 0
    for i, item in enumerate(items):
        if isinstance(item, _Text):
            if item.data is not None or item.citations or i != 0:
                return False
            texts += 1
        elif isinstance(item, _Block | _Refusal | ProviderPart):
            return False
    return texts <= 1


def _chars(encoded: bytes, offset: int | None) -> int | None:
    """A UTF-8 byte offset of ``encoded`` as a character offset."""
    if offset is None:
        return None
    return len(encoded[:offset].decode("utf-8", "ignore"))
