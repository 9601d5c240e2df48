"""Ollama ``/api/chat`` messages for message parts, both ways of the round trip.

From ``docs/api.md`` ("Chat request (with images)", "Chat request (with tools)", thinking) and
the official ``ollama`` client's ``Message``: a message has ``content`` (a string), ``images``
(base64 strings, no ``data:`` prefix), ``thinking`` and ``tool_calls``
(``{function: {name, arguments: object}}``); tool results are ``{role: tool, content,
tool_name}``. Ollama takes images only, as bytes: a URL, a document or audio is a
:class:`~kairos.ConfigurationError`. An assistant turn carries back its ``thinking`` when this
provider made it (the cross-provider rule of :mod:`kairos.llm`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import ConfigurationError
from ...llm import Image, Message, ReasoningBlock, Refusal, Role, TextPart, ToolCall
from .._base import call_arguments

__all__ = ["WIRE_KEY", "messages"]

WIRE_KEY = "ollama-chat"


def _refuse(provider: str, part: Any, why: str) -> ConfigurationError:
    what = part.describe() if hasattr(part, "describe") else type(part).__name__
    return ConfigurationError(f"{provider}: cannot send {what}: {why}")


def _call(provider: str, c: ToolCall) -> dict[str, Any]:
    out: dict[str, Any] = {"function": {"name": c.name, "arguments": call_arguments(c, provider)}}
    if c.id:
        out["id"] = c.id  # newer servers echo ids; older ones ignore unknown fields
    return out


def _images(provider: str, m: Message) -> list[str]:
    images = []
    for p in m.parts:
        if isinstance(p, TextPart | ReasoningBlock | ToolCall | Refusal):
            continue
        if not isinstance(p, Image):
            raise _refuse(provider, p, "Ollama takes images only")
        if p.url is not None:
            raise _refuse(provider, p, "Ollama takes image bytes, not a URL")
        images.append(p.base64())
    return images


def _message(provider: str, m: Message, names: dict[str, str]) -> dict[str, Any]:
    if m.role is Role.TOOL:
        _images_refused(provider, m)
        item: dict[str, Any] = {"role": "tool", "content": m.content}
        name = m.name or names.get(m.tool_call_id or "")
        if name:
            item["tool_name"] = name
        return item
    refusal = "".join(p.text for p in m.parts if isinstance(p, Refusal))
    item = {"role": m.role.value, "content": m.content or refusal}
    images = _images(provider, m)
    if images:
        if m.role is Role.ASSISTANT:
            raise _refuse(provider, m.parts[0], "an assistant turn holds no images")
        item["images"] = images
    if m.role is Role.ASSISTANT:
        own = [
            p.text
            for p in m.parts
            if isinstance(p, ReasoningBlock) and p.made_by(provider, WIRE_KEY) and p.text
        ]
        if own:
            item["thinking"] = "".join(own)
        if m.tool_calls:
            item["tool_calls"] = [_call(provider, c) for c in m.tool_calls]
            names.update((c.id, c.name) for c in m.tool_calls if c.id)
    return item


def _images_refused(provider: str, m: Message) -> None:
    for p in m.parts:
        if not isinstance(p, TextPart):
            raise _refuse(provider, p, "an Ollama tool result takes text only")


def messages(provider: str, items: Sequence[Message]) -> list[dict[str, Any]]:
    names: dict[str, str] = {}  # tool-call id -> function name, for results without a name
    return [_message(provider, m, names) for m in items]
