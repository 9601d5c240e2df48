"""Gemini parts for message parts, both ways of the round trip.

Request side (Gemini API reference, "Content" / "Part"; "Image understanding"; "Document
understanding"; "Audio understanding"; "Thought signatures"): text ``{text}``; bytes as
``{inlineData: {mimeType, data}}`` (standard base64, no ``data:`` prefix); a URL as
``{fileData: {mimeType, fileUri}}`` (the media type must be known). In a model turn each part is
written back as it arrived: a ``thoughtSignature`` stays on the part it came on (text, thought
and function-call parts), a reasoning block is a ``thought: true`` part, code-execution parts
are sent as received; another provider's reasoning and parts are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    TextPart,
    ToolCall,
)
from .._base import call_arguments

__all__ = ["GENERATED_ID_PREFIX", "WIRE_KEY", "call_part", "model_parts", "user_parts"]

GENERATED_ID_PREFIX = "kcall_"
WIRE_KEY = "gemini"  # the key of this wire's provider_data


def _refuse(provider: str, part: Any, why: str) -> ConfigurationError:
    what = part.describe() if hasattr(part, "describe") else type(part).__name__
    return ConfigurationError(f"{provider}: cannot send {what}: {why}")


def signature_of(data: Mapping[str, Any] | None) -> str | None:
    mine = (data or {}).get(WIRE_KEY)
    sig = mine.get("thoughtSignature") if isinstance(mine, Mapping) else None
    return sig if isinstance(sig, str) and sig else None


def _media(provider: str, part: Image | Document | Audio) -> dict[str, Any]:
    if part.url is None:
        return {"inlineData": {"mimeType": part.media_type, "data": part.base64()}}
    if part.media_type.endswith("/*"):
        raise _refuse(provider, part, "Gemini needs its media type (pass media_type=)")
    return {"fileData": {"mimeType": part.media_type, "fileUri": part.url}}


def user_parts(provider: str, m: Message) -> list[dict[str, Any]]:
    """The parts of a user turn."""
    if not m.parts:
        return [{"text": m.content}]
    out: list[dict[str, Any]] = []
    for p in m.parts:
        if isinstance(p, TextPart):
            out.append({"text": p.text})
        elif isinstance(p, Image | Document | Audio):
            out.append(_media(provider, p))
        else:
            raise _refuse(provider, p, "not a user content part")
    return out


def call_part(provider: str, c: ToolCall) -> dict[str, Any]:
    call: dict[str, Any] = {"name": c.name, "args": call_arguments(c, provider)}
    if c.id and not c.id.startswith(GENERATED_ID_PREFIX):
        call["id"] = c.id
    part: dict[str, Any] = {"functionCall": call}
    sig = signature_of(c.provider_data)
    if sig is not None:
        part["thoughtSignature"] = sig
    return part


def _text(part: TextPart) -> dict[str, Any] | None:
    sig = signature_of(part.provider_data)
    if not part.text and sig is None:
        return None
    out: dict[str, Any] = {"text": part.text}
    if sig is not None:
        out["thoughtSignature"] = sig
    return out


def _model_part(provider: str, p: Part) -> dict[str, Any] | None:
    if isinstance(p, TextPart):
        return _text(p)
    if isinstance(p, Refusal):
        return {"text": p.text}
    if isinstance(p, ToolCall):
        return call_part(provider, p)
    if isinstance(p, ReasoningBlock | ProviderPart):
        if not p.made_by(provider, WIRE_KEY):
            return None  # another provider's reasoning or part
        if isinstance(p, ProviderPart):
            return dict(p.data)
        out: dict[str, Any] = {"text": p.text, "thought": True}
        if p.signature:
            out["thoughtSignature"] = p.signature
        return out
    raise _refuse(provider, p, "a model turn holds no media")


def model_parts(provider: str, m: Message) -> list[dict[str, Any]]:
    """The parts of a model turn, in the order the model made them."""
    if not m.parts:
        head = [{"text": m.content}] if m.content else []
        return head + [call_part(provider, c) for c in m.tool_calls]
    found = (_model_part(provider, p) for p in m.parts)
    return [part for part in found if part is not None]
