"""The Starlette app of ``kairos serve``: a thin host over the pure :class:`Emulator` core.

Every request goes to :meth:`Emulator.handle`; this module only reads the request (at most the
emulator's ``max_body`` bytes: past it, :meth:`Emulator.too_large`) and writes the answer's
pieces, sleeping (``asyncio.sleep``) on the float pauses between them. Needs the
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


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None past ``limit`` bytes (a declared length is refused unread)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > limit:
            return None
    return bytes(body)


def make_app(emulator: Emulator, log: Callable[[str], None] | None = None) -> Starlette:
    """An ASGI app answering every path from ``emulator``; ``log`` gets one line per request."""

    async def endpoint(request: Request) -> Response:
        body = await _bounded_body(request, emulator.max_body)
        if body is None:
            answer = emulator.too_large(request.method, request.url.path, request.url.query)
        else:
            answer = emulator.handle(
                request.method, request.url.path, request.url.query, request.headers, body
            )
        if log is not None:
            log(f"{request.method} {request.url.path} -> {answer.status}")
        return _response(answer)

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])
