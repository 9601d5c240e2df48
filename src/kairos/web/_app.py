"""``chat_app(provider)``: the chat page of ``kairos web`` and its ``POST /api/chat`` (Starlette).

The page (``static/``: HTML, CSS and plain JavaScript, no build step, nothing from a CDN) posts
the ``useChat`` body to ``/api/chat`` and reads the UI message stream back, so any ``useChat``
front end can use the same endpoint.
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from collections.abc import Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ._request import BadChatRequest, read_chat_request
from ._response import UIMessageStreamResponse
from ._stream import UIMessageStream

__all__ = ["chat_app"]

_TYPES = {
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
}
ASSETS = ("index.html", "chat.css", "chat.js")


def _assets() -> dict[str, bytes]:
    folder = resources.files("kairos.web") / "static"
    return {name: (folder / name).read_bytes() for name in ASSETS}


def chat_app(
    provider: Any,
    *,
    label: str = "",
    system: str | None = None,
    log: Callable[[str], None] | None = None,
    **options: Any,
) -> Starlette:
    """A Starlette app serving the chat page at ``/`` and streaming ``provider``'s replies at
    ``POST /api/chat``. ``provider`` is a kairos provider, sync (each stream is opened and read
    in a worker thread) or async. ``label`` is shown on the page (``GET /api/info``);
    ``system`` and ``options`` (``model``, ``temperature``, ...) go into every request; ``log``
    gets one line per request. ``app.state.stop_streams(reason)`` (from any thread) ends every
    reply still streaming with ``reason`` as its error, e.g. before the server shuts down."""
    assets = _assets()
    opens_async = inspect.iscoroutinefunction(getattr(provider, "chat_stream", None))
    live: weakref.WeakSet[UIMessageStream] = weakref.WeakSet()
    lock = threading.Lock()

    def stop_streams(reason: str) -> None:
        with lock:
            streams = list(live)
        for ui in streams:
            ui.cancel(reason)

    def note(request: Request, status: int) -> None:
        if log is not None:
            log(f"{request.method} {request.url.path} -> {status}")

    async def page(request: Request) -> Response:
        return Response(assets["index.html"], media_type=_TYPES["html"])

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in assets:
            return PlainTextResponse("not found", status_code=404)
        return Response(assets[name], media_type=_TYPES[name.rsplit(".", 1)[1]])

    async def info(request: Request) -> Response:
        return JSONResponse({"label": label})

    async def chat(request: Request) -> Response:
        try:
            req = read_chat_request(await request.body(), system=system, **options)
        except BadChatRequest as exc:
            note(request, exc.http_status)
            return PlainTextResponse(str(exc), status_code=exc.http_status)
        note(request, 200)
        if opens_async:
            response = UIMessageStreamResponse(provider.chat_stream(req))
        else:
            response = UIMessageStreamResponse(functools.partial(provider.chat_stream, req))
        with lock:
            live.add(response.ui_stream)
        return response

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/static/{name}", static),
            Route("/api/info", info),
            Route("/api/chat", chat, methods=["POST"]),
        ]
    )
    app.state.stop_streams = stop_streams
    return app
