"""Anthropic content blocks for message parts, both ways of the round trip.

Request side (API reference, "Messages": content blocks; "Vision"; "PDF support"; "Extended
thinking"; "Tool use"): ``text``; ``image`` with ``source`` ``{type: base64, media_type, data}``
or ``{type: url, url}``; ``document`` with ``source`` base64 PDF, ``url`` or ``{type: text,
media_type: text/plain, data}``; ``thinking`` ``{thinking, signature}`` and
``redacted_thinking`` ``{data}`` sent back unmodified and in their original order;
``tool_use`` (with ``caller`` when the answer had one); ``tool_result`` with ``is_error`` and
text / image / document content; server-tool blocks (``server_tool_use``,
``web_search_tool_result``...) sent back as received. Only blocks this provider made are sent
back (the cross-provider rule of :mod:`kairos.llm`); audio is not accepted.
"""

from __future__ import annotations

from typing import Any

from ...errors import ConfigurationError
from ...llm import (
    Audio,
    Citation,
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
from .._base import call_arguments

__all__ = ["IMAGE_TYPES", "WIRE_KEY", "blocks", "citation"]

WIRE_KEY = "anthropic-messages"  # the key of this wire's provider_data
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")  # "Vision": supported formats


def _refuse(provider: str, part: Any, why: str) -> ConfigurationError:
    what = part.describe() if hasattr(part, "describe") else type(part).__name__
    return ConfigurationError(f"{provider}: cannot send {what}: {why}")


def _image(provider: str, img: Image) -> dict[str, Any]:
    if img.url is not None:
        return {"type": "image", "source": {"type": "url", "url": img.url}}
    if img.media_type not in IMAGE_TYPES:
        raise _refuse(provider, img, f"Anthropic takes {', '.join(IMAGE_TYPES)}")
    source = {"type": "base64", "media_type": img.media_type, "data": img.base64()}
    return {"type": "image", "source": source}


def _document(provider: str, doc: Document) -> dict[str, Any]:
    if doc.url is not None:
        source: dict[str, Any] = {"type": "url", "url": doc.url}
    elif doc.is_text:
        source = {"type": "text", "media_type": "text/plain", "data": doc.text()}
    elif doc.media_type == "application/pdf":
        source = {"type": "base64", "media_type": "application/pdf", "data": doc.base64()}
    else:
        raise _refuse(provider, doc, "Anthropic takes PDF and plain-text documents")
    out: dict[str, Any] = {"type": "document", "source": source}
    if doc.filename:
        out["title"] = doc.filename
    return out


def _tool_use(provider: str, call: ToolCall) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "tool_use", "id": call.id, "name": call.name}
    out["input"] = call_arguments(call, provider)
    mine = (call.provider_data or {}).get(WIRE_KEY)
    if isinstance(mine, dict) and isinstance(mine.get("caller"), dict):
        out["caller"] = mine["caller"]
    return out


def _text(part: TextPart) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "text", "text": part.text}
    raw = [(c.provider_data or {}).get(WIRE_KEY) for c in part.citations]
    if raw and all(isinstance(r, dict) for r in raw):
        out["citations"] = raw  # this wire's own citations, as received
    return out


def _reasoning(block: ReasoningBlock) -> dict[str, Any]:
    if block.redacted:
        return {"type": "redacted_thinking", "data": block.data}
    return {"type": "thinking", "thinking": block.text, "signature": block.signature or ""}


def _one(provider: str, part: Part, assistant: bool) -> dict[str, Any] | None:
    """One part as a block, or None for a part this provider must not receive."""
    if isinstance(part, TextPart):
        return _text(part)
    if isinstance(part, Refusal):
        return {"type": "text", "text": part.text}  # no refusal block: its text
    if isinstance(part, ToolCall):
        return _tool_use(provider, part)
    if isinstance(part, ReasoningBlock | ProviderPart):
        if not part.made_by(provider, WIRE_KEY):
            return None  # another provider's reasoning or server-side part
        return _reasoning(part) if isinstance(part, ReasoningBlock) else dict(part.data)
    if assistant:
        raise _refuse(provider, part, "an assistant turn holds no media")
    if isinstance(part, Image):
        return _image(provider, part)
    if isinstance(part, Document):
        return _document(provider, part)
    if isinstance(part, Audio):
        raise _refuse(provider, part, "Anthropic does not take audio")
    raise _refuse(provider, part, "unknown part")  # pragma: no cover - Message validates


def _tool_result(provider: str, m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "tool_result", "tool_use_id": m.tool_call_id or ""}
    if m.parts:
        content = [_one(provider, p, False) for p in m.parts]
        out["content"] = [b for b in content if b is not None]
    else:
        out["content"] = m.content
    if m.is_error:
        out["is_error"] = True
    return out


def blocks(provider: str, m: Message) -> list[dict[str, Any]]:
    """The content blocks of one message (tool results are ``tool_result`` blocks)."""
    if m.role is Role.TOOL:
        return [_tool_result(provider, m)]
    assistant = m.role is Role.ASSISTANT
    if not m.parts:
        out = [{"type": "text", "text": m.content}] if m.content else []
        return out + [_tool_use(provider, c) for c in m.tool_calls if assistant]
    found = (_one(provider, p, assistant) for p in m.parts)
    return [b for b in found if b is not None and not _empty_text(b)]


def _empty_text(block: dict[str, Any]) -> bool:
    return block.get("type") == "text" and not block.get("text") and "citations" not in block


def citation(raw: dict[str, Any]) -> Citation:
    """A ``citations`` entry (``web_search_result_location``, ``char_location``...) as a
    :class:`Citation`; the raw object is kept to be sent back."""
    url = raw.get("url")
    title = raw.get("title") or raw.get("document_title")
    cited = raw.get("cited_text")
    return Citation(
        url=url if isinstance(url, str) else None,
        title=title if isinstance(title, str) else None,
        cited_text=cited if isinstance(cited, str) else None,
        provider_data={WIRE_KEY: raw},
    )
