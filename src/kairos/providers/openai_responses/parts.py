"""Responses input items for message parts, the request side of the round trip.

Facts from the OpenAI API reference ("Responses: create", input item and content types; "Images
and vision"; "File inputs"; "Reasoning": "Encrypted reasoning items"; "Function calling"):

* User content parts: ``input_text``; ``input_image`` with ``image_url`` (an https URL or a
  ``data:`` URL) and ``detail`` (required by the API's schema: the image's ``detail``, else
  ``auto``); ``input_file`` with ``file_data`` (a PDF as a ``data:`` URL) and ``filename``, or
  ``file_url`` for a document URL. A plain-text document is an ``input_text`` part. Audio and
  other document types are a :class:`~kairos.ConfigurationError` (no input content type takes
  them).
* Tool results: ``function_call_output`` keyed by ``call_id``; its ``output`` is the text, or a
  list of ``input_text`` / ``input_image`` / ``input_file`` parts when the result holds media.
  The wire has no error flag: a failed call's text is sent as it is.
* Assistant turns, in their order: this provider's reasoning blocks as ``reasoning`` items
  (``id``, the ``summary`` and ``content`` as received, ``encrypted_content``); its text as
  ``message`` items (id, status, phase and the ``output_text`` parts with their annotations, as
  received; consecutive text parts of one item are one item again); its server-tool items as
  received; tool calls as ``function_call`` items (``call_id``, ``name``, ``arguments``, and the
  item's ``id`` and ``status`` when this wire made the call). Text without this wire's data
  (another provider's, or a message built by hand) and a refusal are plain assistant messages
  (``{type: message, role: assistant, content: text}``): an output ``refusal`` part needs the
  item id the contract does not keep for it.
* With ``store: false`` (kairos' default) the API keeps no items: a reasoning item without
  ``encrypted_content`` is answered 404 ("Items are not persisted when `store` is set to
  `false`"), so such a block is left out unless the request stores (``extras={"store":
  True}``). Ask for the encrypted content with ``ChatRequest.reasoning`` (``request.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ...errors import ConfigurationError
from ...llm import (
    Audio,
    Document,
    Image,
    Message,
    Part,
    ProviderPart,
    ReasoningBlock,
    Refusal,
    Role,
    TextPart,
    ToolCall,
)

__all__ = ["WIRE_KEY", "input_items"]

WIRE_KEY = "openai-responses"  # the key of this wire's provider data


def _refuse(provider: str, part: Any, why: str) -> ConfigurationError:
    what = part.describe() if hasattr(part, "describe") else type(part).__name__
    return ConfigurationError(f"{provider}: cannot send {what}: {why}")


def _content(provider: str, part: Part) -> dict[str, Any]:
    """One user (or tool result) content part."""
    if isinstance(part, TextPart):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, Image):
        url = part.url if part.url is not None else part.data_url()
        return {"type": "input_image", "image_url": url, "detail": part.detail or "auto"}
    if isinstance(part, Document):
        if part.url is not None:
            return {"type": "input_file", "file_url": part.url}
        if part.is_text:
            return {"type": "input_text", "text": part.text()}
        if part.media_type != "application/pdf":
            raise _refuse(provider, part, "the Responses API takes PDF and plain-text files")
        name = part.filename or "document.pdf"
        return {"type": "input_file", "file_data": part.data_url(), "filename": name}
    if isinstance(part, Audio):
        raise _refuse(provider, part, "the Responses API takes no audio input")
    raise _refuse(provider, part, "not a user content part")


def _user(provider: str, m: Message) -> dict[str, Any]:
    parts = m.parts or (TextPart(m.content),)
    content = [_content(provider, p) for p in parts]
    return {"type": "message", "role": m.role.value, "content": content}


def _tool_result(provider: str, m: Message) -> dict[str, Any]:
    output: Any = m.content
    if any(not isinstance(p, TextPart) for p in m.parts):
        output = [_content(provider, p) for p in m.parts]
    return {"type": "function_call_output", "call_id": m.tool_call_id or "", "output": output}


def _mine(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    found = (data or {}).get(WIRE_KEY)
    return found if isinstance(found, dict) else None


def _reasoning(block: ReasoningBlock) -> dict[str, Any]:
    """A reasoning item: as received (summary and content from the block's data), else built
    from the block's text."""
    item: dict[str, Any] = {"type": "reasoning", "id": block.id or ""}
    summary = [{"type": "summary_text", "text": block.text}] if block.text else []
    item.update(_mine(block.provider_data) or {"summary": summary})
    if block.data is not None:
        item["encrypted_content"] = block.data
    return item


def _call(call: ToolCall) -> dict[str, Any]:
    item = {"type": "function_call", "call_id": call.id, "name": call.name}
    item["arguments"] = call.arguments
    mine = _mine(call.provider_data) or {}
    item.update({k: mine[k] for k in ("id", "status") if isinstance(mine.get(k), str)})
    return item


def _message(texts: list[TextPart]) -> dict[str, Any]:
    """One output message item from consecutive text parts of this wire (one item id)."""
    last = _mine(texts[-1].provider_data) or {}
    item = dict(last.get("item") or {})
    content = []
    for t in texts:
        part = dict((_mine(t.provider_data) or {}).get("part") or {"type": "output_text"})
        part["text"] = t.text
        part.setdefault("annotations", [])
        content.append(part)
    return {**item, "type": "message", "role": "assistant", "content": content}


def _item_id(part: Part) -> str | None:
    """The message item id of a text part this wire made (None for any other part)."""
    mine = _mine(part.provider_data) if isinstance(part, TextPart) else None
    item = (mine or {}).get("item")
    return item.get("id") if isinstance(item, dict) else None


def _same_item(parts: Sequence[Part], own: str) -> list[TextPart]:
    """The text parts at the start of ``parts`` that belong to message item ``own``."""
    group = []
    for part in parts:
        if not isinstance(part, TextPart) or _item_id(part) != own:
            break
        group.append(part)
    return group


def _assistant(provider: str, m: Message, store: bool) -> Iterator[dict[str, Any]]:
    """The items of an assistant turn, in order (see the module docstring)."""
    parts = m.ordered_parts()
    i = 0
    while i < len(parts):
        part = parts[i]
        i += 1
        own = _item_id(part)
        if own is not None:  # this wire's message item, with its text parts that follow
            group = _same_item(parts[i - 1 :], own)
            i += len(group) - 1
            yield _message(group)
        elif isinstance(part, TextPart | Refusal):
            if part.text:
                yield {"type": "message", "role": "assistant", "content": part.text}
        elif isinstance(part, ToolCall):
            yield _call(part)
        elif isinstance(part, ReasoningBlock | ProviderPart):
            if not part.made_by(provider, WIRE_KEY):
                continue  # another provider's reasoning or server-side item
            if isinstance(part, ProviderPart):
                yield dict(part.data)
            elif part.data is not None or store:
                yield _reasoning(part)
        else:
            raise _refuse(provider, part, "an assistant turn holds no media")


def input_items(
    messages: Sequence[Message], provider: str = "", store: bool = False
) -> list[dict[str, Any]]:
    """The conversation as input items (system messages go to ``instructions``)."""
    items: list[dict[str, Any]] = []
    for m in messages:
        if m.role is Role.SYSTEM:
            continue
        if m.role is Role.TOOL:
            items.append(_tool_result(provider, m))
        elif m.role is Role.USER:
            items.append(_user(provider, m))
        else:
            items += _assistant(provider, m, store)
    return items
