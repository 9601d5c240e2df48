"""Finished Responses output items -> the ordered turn's part events (never the hot path).

A finished item (``response.output_item.done``, or an item of the final response object that
never streamed) completes what its events streamed, or gives all of it:

* ``message``: each ``output_text`` part is a text part whose provider data is the item and the
  part as received, without the text (``{"item": {id, status, role, phase...}, "part":
  {annotations, logprobs...}}``), so the next turn sends the item back as it came; ``refusal``
  parts are the turn's refusal; ``url_citation`` annotations are the answer's citations, their
  ``start_index``/``end_index`` (characters of the part's text) moved to offsets in the whole
  answer's content.
* ``reasoning``: a reasoning block: the summary text (or the raw ``reasoning_text``) as its
  text, ``encrypted_content`` as its data, the item id as its id, and the rest of the item (its
  ``summary`` and ``content`` lists as received) as its provider data. The ``.done`` copy is
  the one kept: the ``.added`` copy may be incomplete.
* any other item but ``function_call`` (server-side tools: ``web_search_call``,
  ``code_interpreter_call``, ``mcp_call``...): a provider part, sent back as received.
"""

from __future__ import annotations

from typing import Any

from ..._codec import PartDelta
from ...llm import Citation
from .._base import as_dict, as_int, as_str
from .parts import WIRE_KEY

__all__ = ["message_events", "other_events", "reasoning_events", "text_data", "texts"]


def texts(parts: Any, kind: str) -> list[str]:
    """The ``text`` of each part of one type (``output_text``, ``summary_text``...)."""
    if not isinstance(parts, list):
        return []
    return [
        p["text"]
        for p in parts
        if isinstance(p, dict) and p.get("type") == kind and isinstance(p.get("text"), str)
    ]


def text_data(item: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """A text part's provider data: its item and its part as received, without the text."""
    meta = {k: v for k, v in item.items() if k != "content"}
    return {WIRE_KEY: {"item": meta, "part": {k: v for k, v in part.items() if k != "text"}}}


def _citations(part: dict[str, Any], offset: int) -> list[PartDelta]:
    notes = part.get("annotations")
    out = []
    for note in notes if isinstance(notes, list) else ():
        note = as_dict(note)
        start, end = as_int(note.get("start_index")), as_int(note.get("end_index"))
        if note.get("type") != "url_citation" or start is None or end is None:
            continue
        cite = Citation(
            url=as_str(note.get("url")),
            title=as_str(note.get("title")) or None,
            start=offset + start,
            end=offset + end,
            provider_data={WIRE_KEY: note},
        )
        out.append(PartDelta("answer_citation", citation=cite))
    return out


def _parts(item: dict[str, Any]) -> list[dict[str, Any]]:
    content = item.get("content")
    return [p for p in content if isinstance(p, dict)] if isinstance(content, list) else []


def message_events(
    item: dict[str, Any], start: int | None, streamed: bool
) -> tuple[list[PartDelta], int]:
    """The events of a finished message item and the characters of content it adds. ``start``:
    where the item's text began in the content (None when the text part in progress is not
    this item's: its data cannot be set then); ``streamed``: its content arrived as deltas."""
    parts = _parts(item)
    size = sum(len(p["text"]) for p in parts if _is_text(p))
    events: list[PartDelta] = []
    offset = start or 0
    for part in parts:
        if _is_text(part):
            if not streamed:
                events.append(PartDelta("text", part["text"], provider_data=text_data(item, part)))
            if start is not None:
                events += _citations(part, offset)
            offset += len(part["text"])
        elif part.get("type") == "refusal" and not streamed:
            refusal = as_str(part.get("refusal"))
            if refusal:
                events.append(PartDelta("refusal", refusal))
    if streamed and start is not None and parts and _is_text(parts[-1]):
        events.insert(0, PartDelta("text_data", provider_data=text_data(item, parts[-1])))
    return events, 0 if streamed else size


def _is_text(part: dict[str, Any]) -> bool:
    return part.get("type") == "output_text" and isinstance(part.get("text"), str)


def reasoning_events(item: dict[str, Any], streamed: bool) -> list[PartDelta]:
    """A finished reasoning item: completes the block its deltas made, or is a new block."""
    rest = {k: v for k, v in item.items() if k not in ("id", "type", "encrypted_content")}
    text = ""
    if not streamed:
        summary = texts(item.get("summary"), "summary_text")
        text = "".join(summary or texts(item.get("content"), "reasoning_text"))
    block = PartDelta(
        "reasoning",
        text,
        new=not streamed,
        id=as_str(item.get("id")),
        data=as_str(item.get("encrypted_content")),
        provider_data={WIRE_KEY: rest},
        close=True,
    )
    return [block]


def other_events(item: dict[str, Any]) -> list[PartDelta]:
    """A server-side item (web search, code interpreter, MCP...): a provider part."""
    return [PartDelta("part", raw=item)] if item.get("type") else []
