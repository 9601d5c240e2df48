"""The pure fold: codec deltas in, caller chunks out, and the final response.

Text and tool-argument pieces are kept as lists and joined once when read, so total work is
linear in the stream length whatever its size; each chunk's ``tool_calls`` view costs O(1) to
make and is built when read (see :class:`_Calls`), so thousands of parallel calls stay linear.
Tool calls are matched by ``index`` when the wire gives one and by ``id`` otherwise; a delta
with a known index but a different, non-empty id starts a new call (some compatible servers
reuse index 0 for parallel calls). The ordered
assistant turn (reasoning blocks, refusals, provider parts, where each began) is recorded by
``_turn`` from the deltas that carry more than text.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from ._codec import Delta, PartDelta, ToolDelta
from ._turn import Turn
from .llm import ChatResponse, FinishReason, StreamChunk, ToolCall, Usage

__all__ = ["Accumulator"]


class _Call:
    __slots__ = ("data", "head_seqs", "heads", "id", "index", "name", "parts", "seqs")

    def __init__(self, id: str, name: str, index: int) -> None:
        self.id = id
        self.name = name
        self.index = index  # position in Accumulator.calls
        self.data: Mapping[str, Any] | None = None
        self.parts: list[str] = []
        self.seqs: list[int] = []  # the position in the change log of each part
        self.heads: list[tuple[str, str, Mapping[str, Any] | None]] = []  # id, name, data
        self.head_seqs: list[int] = []  # ... as they changed, at these log positions

    def note(self, seq: int) -> None:
        """Record id, name and data as of change ``seq`` if they changed."""
        head = (self.id, self.name, self.data)
        if not self.heads or self.heads[-1] != head:
            self.heads.append(head)
            self.head_seqs.append(seq)

    def build(self) -> ToolCall:
        """The call as it is now (the final turn's parts)."""
        return ToolCall(self.id, self.name, "".join(self.parts) or "{}", self.data)

    def at(self, upto: int) -> ToolCall:
        """The call as it was before change number ``upto``."""
        parts = self.parts
        if parts and self.seqs[-1] >= upto:
            parts = parts[: bisect_left(self.seqs, upto)]
        heads = self.heads
        head = (
            heads[-1] if self.head_seqs[-1] < upto else heads[bisect_left(self.head_seqs, upto) - 1]
        )
        return ToolCall(head[0], head[1], "".join(parts) or "{}", head[2])


class _Calls:
    """Every chunk's ``tool_calls`` as of that chunk, in linear time and memory.

    Each tool delta appends the index of the call it changed to a change log; a chunk keeps only
    two numbers (the log length and the number of calls when it was made), so making a chunk is
    O(1) whatever the number of calls. Reading a chunk's calls brings one cached list up to that
    chunk by rebuilding only the calls changed since the previous read, then copies it into a
    tuple (a C-level copy): reading chunks in stream order costs O(changes) Python work overall.
    Reading an older chunk after a newer one rebuilds the list once."""

    __slots__ = ("built", "calls", "log", "upto")

    def __init__(self) -> None:
        self.calls: list[_Call] = []
        self.log: list[int] = []  # per tool delta: the index of the call it changed
        self.built: list[ToolCall | None] = []  # the calls as of change number ``upto``
        self.upto = 0

    def changed(self, call: _Call) -> int:
        """Log a change to ``call``; returns its position in the log."""
        self.log.append(call.index)
        return len(self.log) - 1

    def view(self) -> Callable[[], tuple[ToolCall, ...]]:
        """The calls as of now, built when read."""
        return partial(self.at, len(self.log), len(self.calls))

    def at(self, upto: int, count: int) -> tuple[ToolCall, ...]:
        built, calls = self.built, self.calls
        if upto < self.upto:  # an older chunk, read after a newer one
            built.clear()
            self.upto = 0
        if self.upto == 0:
            changed: Iterable[int] = range(count)
        else:
            changed = set(self.log[self.upto : upto])
        if len(built) < count:
            built.extend([None] * (count - len(built)))
        for i in changed:
            if i < count:
                built[i] = calls[i].at(upto)
        self.upto = upto
        return tuple(built if len(built) == count else built[:count])  # type: ignore[arg-type]


class Accumulator:
    def __init__(self, provider: str = "", wire: str = "") -> None:
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self._calls = _Calls()
        self.calls = self._calls.calls
        self._by_index: dict[int, _Call] = {}
        self._by_id: dict[str, _Call] = {}
        self.usage: Usage | None = None
        self.raw_finish: str | None = None
        self.model: str | None = None
        self.content_length = 0
        self.turn = Turn(provider, wire, self.content)

    def add(self, d: Delta) -> StreamChunk | None:
        """Fold one delta; return the chunk the caller sees, or None if nothing is visible."""
        if d.usage is not None:
            self.usage = d.usage
        if d.finish is not None:
            self.raw_finish = d.finish
        if d.model:
            self.model = d.model
        content, reasoning, tools = d.content, d.reasoning, d.tools
        if tools:
            return self._items(content, reasoning, tools)
        if not (content or reasoning):
            return None
        if reasoning:  # before the text of the same delta (a whole message in one delta)
            self.reasoning.append(reasoning)
            self.turn.reasoning(reasoning)
        if content:
            self.content.append(content)
            self.content_length += len(content)
        return StreamChunk(content, reasoning, self._calls.view() if self.calls else ())

    def _items(
        self, content: str, reasoning: str, items: Sequence[ToolDelta | PartDelta]
    ) -> StreamChunk | None:
        """A delta with tool-call pieces or part events (never the text-only hot path)."""
        texts, thoughts, refusals = [content], [reasoning], []
        if reasoning:
            self.reasoning.append(reasoning)
            self.turn.reasoning(reasoning)
        if content:
            self.content.append(content)
            self.content_length += len(content)
        calls = False
        for item in items:
            if isinstance(item, ToolDelta):
                calls = self._tool(item) or calls
            elif item.kind == "text":
                before = len(self.content)
                if item.text:
                    self.content.append(item.text)
                    self.content_length += len(item.text)
                    texts.append(item.text)
                self.turn.text(item, before)
            else:
                if item.kind == "reasoning" and item.text:
                    self.reasoning.append(item.text)
                    thoughts.append(item.text)
                elif item.kind == "refusal" and item.text:
                    refusals.append(item.text)
                self.turn.event(item)
        text, thought, refusal = "".join(texts), "".join(thoughts), "".join(refusals)
        if not (text or thought or refusal or calls):
            return None
        snapshot = self._calls.view() if self.calls else ()
        return StreamChunk(text, thought, snapshot, refusal=refusal)

    def _tool(self, td: ToolDelta) -> bool:
        """Fold one tool-call piece; False when it only set a known call's data (nothing for
        the caller to see: a Responses call item's final status)."""
        call = None
        if td.index is not None:
            call = self._by_index.get(td.index)
            if call is not None and td.id and call.id and td.id != call.id:
                call = None  # same index, new id: a new call
        if call is None and td.id:
            call = self._by_id.get(td.id)
        if call is None and td.index is None and not td.id and self.calls:
            call = self.calls[-1]  # continuation without index or id
        visible = call is None or td.data is None or bool(td.arguments or td.id or td.name)
        if call is None:
            call = _Call(td.id or "", td.name or "", len(self.calls))
            self.calls.append(call)
            self.turn.call(call)
            if td.id:
                self._by_id[td.id] = call
        if td.index is not None:
            self._by_index[td.index] = call
        if td.id and not call.id:
            call.id = td.id
            self._by_id[td.id] = call
        if td.name and not call.name:
            call.name = td.name
        if td.data is not None:
            call.data = td.data
        seq = self._calls.changed(call)
        call.note(seq)
        if td.arguments:
            call.parts.append(td.arguments)
            call.seqs.append(seq)
        return visible

    def tool_calls(self) -> tuple[ToolCall, ...]:
        return self._calls.view()()

    @property
    def refused(self) -> bool:
        return bool(self.turn.refusal)

    def response(
        self, finish_reason: FinishReason | None, raw_finish: str | None = None, obj: Any = None
    ) -> ChatResponse:
        turn = self.turn
        parts = turn.parts(_Call.build)
        return ChatResponse(
            content="".join(self.content),
            reasoning="".join(self.reasoning) if self.reasoning else None,
            tool_calls=self.tool_calls(),
            usage=self.usage,
            finish_reason=finish_reason,
            raw_finish_reason=raw_finish if raw_finish is not None else self.raw_finish,
            model=self.model,
            refusal="".join(turn.refusal) if turn.refusal else None,
            citations=turn.citations(parts),
            parts=parts,
            object=obj,
        )
