"""The ``useChat`` request body to a :class:`kairos.ChatRequest` (pure).

``useChat`` (its ``DefaultChatTransport``) posts ``{"id", "messages", "trigger", "messageId",
...body}`` where each message is a UI message ``{"id", "role", "parts": [...]}``. Read here:

* ``text`` parts: the message text (a user's parts joined by newlines, an assistant's run on);
* ``tool-<name>`` and ``dynamic-tool`` parts of an assistant message: its tool calls, and for
  those with ``state`` ``output-available`` / ``output-error`` the tool results after it; calls
  without a result are left out (providers reject a call that has no answer);
* ``step-start`` parts split an assistant message into one kairos message per step;
* ``reasoning``, ``source-*`` and ``data-*`` parts are not sent back to the model;
* ``file`` parts of a user message (``{mediaType, url, filename?}``, the URL a ``data:`` URL as
  ``useChat`` sends attachments, or an http(s) URL) become :class:`kairos.Image` (``image/*``),
  :class:`kairos.Document` (PDF and ``text/*``) or :class:`kairos.Audio` (``audio/*``) parts in
  order with the text; another media type or a broken data URL is a :class:`BadChatRequest`
  (HTTP 400), and a provider that cannot take a part refuses it before any request (a one-line
  error on the page): an attachment is never dropped silently;
* a tool part in state ``output-error`` is a failed tool result (``is_error``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._content import Audio, Document, Image
from ..errors import ConfigurationError
from ..llm import ChatRequest, Message, Part, Role, ToolCall

__all__ = ["BadChatRequest", "read_chat_request"]

_ROLES = {"system": Role.SYSTEM, "user": Role.USER, "assistant": Role.ASSISTANT}


class BadChatRequest(ConfigurationError):
    """The request body cannot be read as a chat: answer HTTP ``http_status`` (400) with
    ``str(err)`` as plain text, which ``useChat`` shows as its error message."""

    http_status = 400


def _fail(message: str) -> BadChatRequest:
    return BadChatRequest(f"bad chat request: {message}")


def read_chat_request(
    body: Mapping[str, Any] | str | bytes, *, system: str | None = None, **options: Any
) -> ChatRequest:
    """The :class:`kairos.ChatRequest` for a ``useChat`` body (parsed JSON, or its text).

    ``system`` is put first as a system message; ``options`` are the other ``ChatRequest``
    fields (``model``, ``tools``, ``temperature``, ``max_tokens``, ...). Raises
    :class:`BadChatRequest` (one line) for a body that is not a chat, or a ``file`` part."""
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError:
            raise _fail("the body is not JSON") from None
    if not isinstance(body, Mapping):
        raise _fail("the body is not a JSON object")
    ui_messages = body.get("messages")
    if not isinstance(ui_messages, list) or not ui_messages:
        raise _fail("'messages' must be a non-empty list")
    messages = [Message.system(system)] if system else []
    for n, ui in enumerate(ui_messages):
        messages += _message(ui, n)
    try:
        return ChatRequest(messages, **options)
    except TypeError as exc:
        raise ConfigurationError(f"read_chat_request: {exc}") from None


def _message(ui: Any, n: int) -> list[Message]:
    if not isinstance(ui, Mapping):
        raise _fail(f"message {n} is not an object")
    role = _ROLES.get(ui.get("role"))  # type: ignore[arg-type]
    if role is None:
        raise _fail(f"message {n} has role {ui.get('role')!r} (system, user or assistant)")
    parts = ui.get("parts")
    if parts is None and isinstance(ui.get("content"), str):
        parts = [{"type": "text", "text": ui["content"]}]  # the AI SDK 4 message shape
    if not isinstance(parts, list):
        raise _fail(f"message {n} has no 'parts' list")
    for part in parts:
        _check_part(part, n)
    if role is Role.ASSISTANT:
        return _assistant(parts)
    files = [_file(p, n) for p in parts if p["type"] == "file"]
    text = "\n".join(p["text"] for p in parts if p["type"] == "text")
    if files and role is Role.USER:
        return [Message.user(*([text] if text else []), *files)]
    return [Message(role, text)]


def _file(part: Mapping[str, Any], n: int) -> Part:
    """A UI ``file`` part as a kairos media part."""
    media, url = part.get("mediaType"), part.get("url")
    name = part.get("filename") if isinstance(part.get("filename"), str) else None
    if not isinstance(media, str) or not isinstance(url, str):
        raise _fail(f"message {n} attaches {name or 'a file'} without 'mediaType' and 'url'")
    kind = media.split("/")[0]
    cls: Any = {"image": Image, "audio": Audio}.get(kind)
    if cls is None and (media == "application/pdf" or kind == "text"):
        cls = Document
    if cls is None:
        raise _fail(f"message {n} attaches {name or media}: images, PDF, text and audio only")
    extra = {"filename": name} if cls is Document and name else {}
    if url.startswith(("http://", "https://")):
        made: Part = cls.from_url(url, media, **extra)
    else:
        data = _data_url(url, f"message {n} attaches {name or media}")
        made = cls.from_bytes(data, media, **extra)
    return made


def _data_url(url: str, what: str) -> bytes:
    head, comma, data = url.partition(",")
    if not head.startswith("data:") or not comma or not head.endswith(";base64"):
        raise _fail(f"{what}: its url is neither http(s) nor a base64 data: URL")
    try:
        return base64.b64decode(data, validate=True)
    except ValueError:
        raise _fail(f"{what}: its data: URL holds broken base64") from None


def _check_part(part: Any, n: int) -> None:
    if not isinstance(part, Mapping) or not isinstance(part.get("type"), str):
        raise _fail(f"message {n} has a part without a 'type'")
    kind = part["type"]
    if kind == "text" and not isinstance(part.get("text"), str):
        raise _fail(f"message {n} has a text part without 'text'")


def _assistant(parts: Sequence[Mapping[str, Any]]) -> list[Message]:
    """One message per step: the step's text and answered tool calls, then their results."""
    out: list[Message] = []
    text: list[str] = []
    calls: list[ToolCall] = []
    results: list[Message] = []

    def flush() -> None:
        if text or calls:
            out.append(Message.assistant("".join(text), calls))
            out.extend(results)
        text.clear()
        calls.clear()
        results.clear()

    for part in parts:
        kind = part["type"]
        if kind == "step-start":
            flush()
        elif kind == "text":
            text.append(part["text"])
        elif kind == "dynamic-tool" or kind.startswith("tool-"):
            answered = _tool(part)
            if answered is not None:
                calls.append(answered[0])
                results.append(answered[1])
    flush()
    return out


def _tool(part: Mapping[str, Any]) -> tuple[ToolCall, Message] | None:
    state = part.get("state")
    if state not in ("output-available", "output-error"):
        return None
    name = part.get("toolName") if part["type"] == "dynamic-tool" else part["type"][5:]
    call_id = part.get("toolCallId")
    if not isinstance(name, str) or not isinstance(call_id, str):
        raise _fail("a tool part has no 'toolCallId' or tool name")
    call = ToolCall(call_id, name, json.dumps(part.get("input", {}), ensure_ascii=False))
    if state == "output-error":
        return call, Message.tool(str(part.get("errorText", "")), call_id, name, is_error=True)
    output = part.get("output")
    result = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
    return call, Message.tool(result, call_id, name)
