"""Chat Completions messages for message parts, both ways of the round trip.

Request side (OpenAI API reference, "Chat Completions": message content parts; "Images and
vision"; "File inputs"; "Audio"): text parts ``{type: text, text}``; images
``{type: image_url, image_url: {url (https or data URL), detail?}}``; PDF files
``{type: file, file: {file_data: data URL, filename}}``; audio ``{type: input_audio,
input_audio: {data, format: wav|mp3}}``. A plain-text document is sent as a text part; other
documents, document and audio URLs (the API takes their bytes) and audio other than WAV/MP3 are
a :class:`~kairos.ConfigurationError`. Assistant turns: ``content`` (``null`` when the turn has
only calls or a refusal), ``refusal``, ``tool_calls``, and the reasoning each preset row asks
for (:func:`reasoning_fields`). Tool results take text only.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

from ...errors import ConfigurationError
from ...llm import Audio, Document, Image, Message, Part, ReasoningBlock, Refusal, Role, TextPart

__all__ = ["WIRE_KEY", "echo_mode", "message"]

WIRE_KEY = "openai-chat"  # the key of this wire's provider_data
ECHO_MODES = ("none", "tool_calls", "always", "details")


def _refuse(provider: str, part: Any, why: str) -> ConfigurationError:
    what = part.describe() if hasattr(part, "describe") else type(part).__name__
    return ConfigurationError(f"{provider}: cannot send {what}: {why}")


def _media(provider: str, part: Part) -> dict[str, Any]:
    if isinstance(part, Image):
        url = part.url if part.url is not None else part.data_url()
        image: dict[str, Any] = {"url": url}
        if part.detail is not None:
            image["detail"] = part.detail
        return {"type": "image_url", "image_url": image}
    if isinstance(part, Document):
        if part.url is not None:
            raise _refuse(provider, part, "Chat Completions takes a file's bytes, not a URL")
        if part.is_text:
            return {"type": "text", "text": part.text()}
        if part.media_type != "application/pdf":
            raise _refuse(provider, part, "Chat Completions takes PDF and plain-text files")
        name = part.filename or "document.pdf"
        return {"type": "file", "file": {"file_data": part.data_url(), "filename": name}}
    if isinstance(part, Audio):
        if part.url is not None or part.format is None:
            raise _refuse(provider, part, "Chat Completions takes WAV or MP3 bytes")
        return {
            "type": "input_audio",
            "input_audio": {"data": part.base64(), "format": part.format},
        }
    raise _refuse(provider, part, "not a user content part")


def _user_content(provider: str, m: Message) -> str | list[dict[str, Any]]:
    if not m.parts:
        return m.content
    if all(isinstance(p, TextPart) for p in m.parts):
        return m.content
    return [
        {"type": "text", "text": p.text} if isinstance(p, TextPart) else _media(provider, p)
        for p in m.parts
    ]


def _tool_result(provider: str, m: Message) -> dict[str, Any]:
    for part in m.parts:
        if not isinstance(part, TextPart):
            raise _refuse(provider, part, "a Chat Completions tool result takes text only")
    return {"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content}


def echo_mode(rule: Any, model: str) -> str:
    """Which reasoning a preset sends back (its ``reasoning_echo`` option): a mode, or
    ``(model pattern, mode)`` rows where the first pattern matching ``model`` wins."""
    if isinstance(rule, str):
        return rule
    if isinstance(rule, Sequence):
        for pattern, mode in rule:
            if fnmatch.fnmatchcase(model, pattern):
                return str(mode)
    return "none"


def reasoning_fields(m: Message, mode: str, provider: str, has_calls: bool) -> dict[str, Any]:
    """The reasoning fields of an assistant message under a preset's echo ``mode``: only
    blocks this provider made are sent back (the cross-provider rule of :mod:`kairos.llm`)."""
    own = [p for p in m.parts if isinstance(p, ReasoningBlock) and p.made_by(provider, WIRE_KEY)]
    text = "".join(b.text for b in own)
    if mode == "tool_calls" and has_calls:
        return {"reasoning_content": text}  # required on every tool-call turn, even empty
    if mode == "always" and own:
        return {"reasoning_content": text}
    if mode == "details":
        details = [d for b in own for d in _details(b.provider_data)]
        if details:
            return {"reasoning_details": details}
    return {}


def _details(data: Mapping[str, Any] | None) -> list[Any]:
    mine = (data or {}).get(WIRE_KEY)
    found = mine.get("reasoning_details") if isinstance(mine, Mapping) else None
    return list(found) if isinstance(found, list) else []


def message(m: Message, provider: str, echo: str) -> dict[str, Any]:
    """One message of the ``messages`` list."""
    if m.role is Role.TOOL:
        return _tool_result(provider, m)
    if m.role is not Role.ASSISTANT:
        return {"role": m.role.value, "content": _user_content(provider, m)}
    for part in m.parts:
        if isinstance(part, Image | Document | Audio):
            raise _refuse(provider, part, "an assistant turn holds no media")
    refusal = "".join(p.text for p in m.parts if isinstance(p, Refusal))
    out: dict[str, Any] = {"role": "assistant", "content": m.content}
    if (m.tool_calls or refusal) and not m.content:
        out["content"] = None
    if refusal:
        out["refusal"] = refusal
    if m.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in m.tool_calls
        ]
    if echo != "none":
        out.update(reasoning_fields(m, echo, provider, bool(m.tool_calls)))
    return out
