"""What Chat Completions servers reject, for ``kairos serve --strict`` and the testing doubles'
``strict=True``: ``check(body, model, preset)`` gives ``(status, message)`` or None.

* The preset rows' round-trip rule, as data (``reasoning_echo`` in ``providers/_presets.py``):
  for a provider whose rule is ``"tool_calls"`` (DeepSeek, thinking on by default), every
  assistant message with ``tool_calls`` must carry ``reasoning_content`` (DeepSeek "Thinking
  Mode", "Tool calls": otherwise a 400). The provider is the double's preset, or for the
  emulator the preset whose ``models`` patterns match the request's model.
* Content parts (OpenAI API reference, "Images and vision", "File inputs", "Audio"): an image
  URL is http(s) or a ``data:`` URL of PNG, JPEG, GIF or WebP; ``input_audio.format`` is
  ``wav`` or ``mp3``; ``file.file_data`` is a PDF data URL; media only in user messages.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from .._presets import PRESETS
from .parts import echo_mode

__all__ = ["check"]

_IMAGE_URL = re.compile(r"(https?://|data:image/(png|jpeg|gif|webp);base64,)")
_DEEPSEEK_DOCS = "https://api-docs.deepseek.com/guides/thinking_mode#tool-calls"


def _rule(model: str, preset: str | None) -> str:
    """The reasoning echo rule that applies to this request."""
    if preset is None:
        for row in PRESETS.values():
            if row.wire == "openai-chat" and any(fnmatch.fnmatchcase(model, p) for p in row.models):
                preset = row.name
                break
    found = PRESETS.get(preset or "")
    return echo_mode(found.options.get("reasoning_echo", "none"), model) if found else "none"


def _tool_turns(
    body: dict[str, Any], messages: list[Any], model: str, preset: str | None
) -> str | None:
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "disabled":
        return None
    if _rule(model, preset) != "tool_calls":
        return None
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") != "assistant" or not m.get("tool_calls"):
            continue
        if not isinstance(m.get("reasoning_content"), str):
            return (
                f"Missing `reasoning_content` field in the assistant message at message index "
                f"{i}. For more information, please refer to {_DEEPSEEK_DOCS}"
            )
    return None


def _part(part: Any, where: str, role: Any) -> str | None:
    if not isinstance(part, dict):
        return None
    kind = part.get("type")
    if kind != "text" and role != "user":
        return f"Invalid '{where}.type': '{kind}' is only allowed in user messages."
    if kind == "image_url":
        url = str((part.get("image_url") or {}).get("url", ""))
        if not _IMAGE_URL.match(url):
            return (
                f"Invalid '{where}.image_url.url'. Expected a base64-encoded data URL with an "
                "image MIME type (e.g. 'data:image/png;base64,...') or an http(s) URL."
            )
    if kind == "input_audio":
        fmt = (part.get("input_audio") or {}).get("format")
        if fmt not in ("wav", "mp3"):
            return f"Invalid '{where}.input_audio.format': expected 'wav' or 'mp3', got {fmt!r}."
    if kind == "file":
        data = str((part.get("file") or {}).get("file_data", ""))
        if not data.startswith("data:application/pdf;base64,"):
            return f"Invalid '{where}.file.file_data': expected a PDF as a base64 data URL."
    return None


def check(body: dict[str, Any], model: str, preset: str | None = None) -> tuple[int, str] | None:
    messages = body.get("messages")
    messages = messages if isinstance(messages, list) else []
    for i, m in enumerate(messages):
        content = m.get("content") if isinstance(m, dict) else None
        for j, part in enumerate(content if isinstance(content, list) else []):
            found = _part(part, f"messages[{i}].content[{j}]", m.get("role"))
            if found:
                return 400, found
    found = _tool_turns(body, messages, model, preset)
    return None if found is None else (400, found)
