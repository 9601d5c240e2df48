"""What the Anthropic Messages API rejects, for ``kairos serve --strict`` and the testing
doubles' ``strict=True``: ``check(body, model, preset)`` gives ``(status, message)`` or None.

Rules and messages as the API gives them ("Extended thinking": thinking with tool use,
preserving thinking blocks; "Vision"; "PDF support"):

* with thinking on, the last assistant turn of a tool loop must start with its ``thinking`` or
  ``redacted_thinking`` block;
* a thinking block needs its ``signature``, unmodified: a signature the emulator made must still
  match its block's text (``providers._frames.signature_for``);
* a forced ``tool_choice`` and a ``max_tokens`` not above the thinking budget are refused with
  thinking on;
* images must be JPEG, PNG, GIF or WebP; a base64 document must be a PDF; there are no audio
  blocks.
"""

from __future__ import annotations

from typing import Any

from .._frames import emulated, signature_for
from .parts import IMAGE_TYPES

__all__ = ["check", "signature_for"]

_THINKING = ("thinking", "redacted_thinking")
_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
_BLOCK_TYPES = frozenset(
    "text image document tool_use tool_result thinking redacted_thinking server_tool_use "  # noqa: SIM905
    "web_search_tool_result web_fetch_tool_result search_result container_upload".split()
)


def _blocks(message: Any) -> list[Any]:
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, list) else []


def _loop_turn(messages: list[Any]) -> int | None:
    """The index of the last assistant turn, when it called tools whose results follow."""
    for i in range(len(messages) - 1, -1, -1):
        m = messages[i]
        if isinstance(m, dict) and m.get("role") == "assistant":
            calls = any(b.get("type") == "tool_use" for b in _blocks(m) if isinstance(b, dict))
            return i if calls and i + 1 < len(messages) else None
    return None


def _thinking_rules(body: dict[str, Any], messages: list[Any]) -> str | None:
    thinking = body.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "adaptive"):
        return None
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
        return "Thinking may not be enabled when tool_choice forces tool use."
    budget, most = thinking.get("budget_tokens"), body.get("max_tokens")
    if isinstance(budget, int) and isinstance(most, int) and most <= budget:
        return "`max_tokens` must be greater than `thinking.budget_tokens`."
    i = _loop_turn(messages)
    if i is None:
        return None
    first = _blocks(messages[i])[0]
    kind = first.get("type") if isinstance(first, dict) else None
    if kind in _THINKING:
        return None
    return (
        f"messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
        f"`{kind}`. When `thinking` is enabled, a final `assistant` message must start with a "
        "thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). "
        "We recommend you include thinking blocks from previous turns. To avoid this "
        f"requirement, disable `thinking`. Please consult our documentation at {_DOCS}"
    )


def _source(block: dict[str, Any], where: str) -> str | None:
    """The media type rules of a base64 image or document source."""
    source = block.get("source")
    if not isinstance(source, dict) or source.get("type") != "base64":
        return None
    media_type = source.get("media_type")
    if block.get("type") == "image" and media_type not in IMAGE_TYPES:
        allowed = ", ".join(f"'{t}'" for t in IMAGE_TYPES)
        return f"{where}.source.base64.media_type: Input should be {allowed}"
    if block.get("type") == "document" and media_type != "application/pdf":
        return f"{where}.source.base64.media_type: Input should be 'application/pdf'"
    return None


def _signature(block: dict[str, Any], where: str) -> str | None:
    sig = block.get("signature")
    if not isinstance(sig, str) or not sig:
        return f"{where}.signature: Field required"
    if emulated(sig) and sig != signature_for(str(block.get("thinking", ""))):
        return f"{where}: Invalid `signature` in `thinking` block"
    return None


def _block(block: Any, where: str) -> str | None:
    if not isinstance(block, dict):
        return None
    kind = block.get("type")
    if kind not in _BLOCK_TYPES:
        return f"{where}: Input tag '{kind}' found using 'type' does not match any expected tag"
    if kind in ("image", "document"):
        return _source(block, where)
    if kind == "thinking":
        return _signature(block, where)
    inner = block.get("content") if kind == "tool_result" else None
    for j, item in enumerate(inner if isinstance(inner, list) else []):
        found = _block(item, f"{where}.content.{j}")
        if found:
            return found
    return None


def check(body: dict[str, Any], model: str, preset: str | None = None) -> tuple[int, str] | None:
    messages = body.get("messages")
    messages = messages if isinstance(messages, list) else []
    for i, m in enumerate(messages):
        for j, block in enumerate(_blocks(m)):
            found = _block(block, f"messages.{i}.content.{j}")
            if found:
                return 400, found
    found = _thinking_rules(body, messages)
    return None if found is None else (400, found)
