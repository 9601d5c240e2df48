"""The Starlette app of ``kairos serve``: a thin host over the pure :class:`Emulator` core.

Every request goes to :meth:`Emulator.handle`; this module only reads the request and writes the
answer's pieces, sleeping (``asyncio.sleep``) on the float pauses between them. Needs the
``serve`` extra (Starlette); the core does not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ._emulator import Answer, Emulator, Piece

__all__ = ["make_app"]


async def _pieces(pieces: list[Piece]) -> AsyncIterator[bytes]:
    for piece in pieces:
        if isinstance(piece, float):
            await asyncio.sleep(piece)
        elif piece:
            yield piece


def _response(answer: Answer) -> Response:
    if answer.stream or any(isinstance(p, float) for p in answer.pieces):
        return StreamingResponse(
            _pieces(answer.pieces), status_code=answer.status, headers=answer.headers
        )
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


def make_app(emulator: Emulator, log: Callable[[str], None] | None = None) -> Starlette:
    """An ASGI app answering every path from ``emulator``; ``log`` gets one line per request."""

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        answer = emulator.handle(
            request.method, request.url.path, request.url.query, request.headers, body
        )
        if log is not None:
            log(f"{request.method} {request.url.path} -> {answer.status}")
        return _response(answer)

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])
