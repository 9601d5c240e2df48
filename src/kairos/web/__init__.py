"""kairos.web: kairos streams to the browser, in the Vercel AI SDK UI message stream protocol.

A page using the AI SDK's ``useChat`` (or any client of the protocol) gets every kairos stream,
sync or async, as it streams: text, reasoning, tool calls, the one-line error of a failure, and
what kairos measured (TTFT, tokens, chunks) as ``messageMetadata`` on ``finish``::

    from fastapi import FastAPI, Request
    from fastapi.responses import PlainTextResponse

    import kairos
    from kairos.web import BadChatRequest, UIMessageStreamResponse, read_chat_request

    app = FastAPI()
    llm = kairos.async_provider("openai/gpt-4o-mini")

    @app.post("/api/chat")
    async def chat(request: Request):
        try:
            req = read_chat_request(await request.json())
        except BadChatRequest as exc:
            return PlainTextResponse(str(exc), status_code=exc.http_status)
        return UIMessageStreamResponse(llm.chat_stream(req))

When the browser goes away (the fetch is aborted, the tab closed) the provider stream is closed
at once. Without Starlette, :func:`ui_message_stream` gives the same bytes as an async iterator
for any ASGI framework (send :data:`HEADERS` with it); :class:`PartEncoder` maps one chunk to
protocol parts for anything else. ``chat_app(provider)`` is the small chat page of
``kairos web`` as a Starlette app.

Protocol sources (read in the ``ai`` npm package, version 6.0.326, the parser ``useChat`` runs):
``src/ui-message-stream/ui-message-chunks.ts`` (``uiMessageChunkSchema``: every part type and its
fields, the ``finishReason`` values, ``messageMetadata`` on ``start`` / ``finish``),
``src/ui-message-stream/ui-message-stream-headers.ts`` (``UI_MESSAGE_STREAM_HEADERS``, including
``x-vercel-ai-ui-message-stream: v1``), ``src/ui-message-stream/json-to-sse-transform-stream.ts``
(``data: {json}`` events and the closing ``data: [DONE]``), ``src/ui/http-chat-transport.ts``
(the request body ``{id, messages, trigger, messageId}``; a non-2xx answer's text becomes the
error message) and ``src/ui/ui-messages.ts`` (UI message parts). The test suite runs the bytes
through that package's own parser where Node is present.

``import kairos.web`` does not import Starlette: the Starlette names
(:class:`UIMessageStreamResponse`, :func:`chat_app`) load on first use and need the ``web``
extra (``pip install 'kairos-llm[web]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ._protocol import DONE, HEADERS, PartEncoder, error_text, sse, stream_metadata
from ._request import BadChatRequest, read_chat_request
from ._stream import AsyncChunkStream, ChunkStream, Source, UIMessageStream, ui_message_stream

if TYPE_CHECKING:
    from ._app import chat_app
    from ._response import UIMessageStreamResponse

__all__ = [
    "DONE",
    "HEADERS",
    "AsyncChunkStream",
    "BadChatRequest",
    "ChunkStream",
    "PartEncoder",
    "Source",
    "UIMessageStream",
    "UIMessageStreamResponse",
    "chat_app",
    "error_text",
    "read_chat_request",
    "sse",
    "stream_metadata",
    "ui_message_stream",
]

_NEEDS_EXTRA = {"UIMessageStreamResponse": "._response", "chat_app": "._app"}


def __getattr__(name: str) -> Any:
    module = _NEEDS_EXTRA.get(name)
    if module is None:
        raise AttributeError(f"module 'kairos.web' has no attribute {name!r}")
    from importlib import import_module

    try:
        value = getattr(import_module(module, __name__), name)
    except ImportError as exc:
        missing = (exc.name or "starlette").split(".")[0]
        raise ConfigurationError(
            f"kairos.web.{name} needs {missing}: pip install 'kairos-llm[web]'"
        ) from None
    globals()[name] = value
    return value
