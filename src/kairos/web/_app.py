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
    routes = _Routes(provider, label, system, log, options)
    app = Starlette(
        routes=[
            Route("/", routes.page),
            Route("/static/{name}", routes.static),
            Route("/api/info", routes.info),
            Route("/api/chat", routes.chat, methods=["POST"]),
        ]
    )
    app.state.stop_streams = routes.stop_streams
    return app


class _Routes:
    """The app's handlers, and the replies still streaming (so they can be stopped)."""

    def __init__(
        self,
        provider: Any,
        label: str,
        system: str | None,
        log: Callable[[str], None] | None,
        options: dict[str, Any],
    ) -> None:
        self.provider, self.label, self.system, self.log = provider, label, system, log
        self.options = options
        self.assets = _assets()
        self.opens_async = inspect.iscoroutinefunction(getattr(provider, "chat_stream", None))
        self.live: weakref.WeakSet[UIMessageStream] = weakref.WeakSet()
        self.lock = threading.Lock()

    def stop_streams(self, reason: str) -> None:
        with self.lock:
            streams = list(self.live)
        for ui in streams:
            ui.cancel(reason)

    def note(self, request: Request, status: int) -> None:
        if self.log is not None:
            self.log(f"{request.method} {request.url.path} -> {status}")

    async def page(self, request: Request) -> Response:
        return Response(self.assets["index.html"], media_type=_TYPES["html"])

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in self.assets:
            return PlainTextResponse("not found", status_code=404)
        return Response(self.assets[name], media_type=_TYPES[name.rsplit(".", 1)[1]])

    async def info(self, request: Request) -> Response:
        return JSONResponse({"label": self.label})

    async def chat(self, request: Request) -> Response:
        try:
            req = read_chat_request(await request.body(), system=self.system, **self.options)
        except BadChatRequest as exc:
            self.note(request, exc.http_status)
            return PlainTextResponse(str(exc), status_code=exc.http_status)
        self.note(request, 200)
        if self.opens_async:
            response = UIMessageStreamResponse(self.provider.chat_stream(req))
        else:
            response = UIMessageStreamResponse(functools.partial(self.provider.chat_stream, req))
        with self.lock:
            self.live.add(response.ui_stream)
        return response
