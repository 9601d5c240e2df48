"""The Gemini renderer: a scripted reply as ``streamGenerateContent?alt=sse`` bytes.

Shapes from the recorded bodies in ``tests/providers/gemini/fixtures``: ``data:`` lines framed
with CRLF, each a whole ``GenerateContentResponse``; parallel calls in one chunk; the last
chunk carries ``finishReason`` and ``usageMetadata``. Errors: ``google.rpc.Status``
``{"error": {code, message, status}}`` (a bad key: 400 INVALID_ARGUMENT with an ``ErrorInfo``
reason ``API_KEY_INVALID``), as the HTTP body or as a data line.

Thinking: thought parts (``thought: true``, with a signed piece's ``thoughtSignature``); like
Gemini 3, the first function call of a reply is signed when the model is a ``gemini-3`` one or
the reply has reasoning (with the emulator's signature, ``_frames.signature_for``). A refusal is the
``SAFETY`` finish reason with no text; citations are the last chunk's ``groundingMetadata``
(``groundingChunks`` and ``groundingSupports`` whose segments count UTF-8 bytes).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..._replies import Call, Cite, Fail, Pause, Piece, Reasoning, Text
from ...llm import Usage
from .._frames import KIND_BY_STATUS, Ctx, Frame, merged, signature_for, spans, sse, wire_finish

_FINISH = {
    "stop": "STOP",
    "tool_calls": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
}


def _signs(ctx: Ctx) -> bool:
    return ctx.model.startswith("gemini-3") or any(
        isinstance(p, Reasoning) for p in ctx.reply.pieces
    )


def _part(piece: Piece, sign: bool = False) -> dict[str, Any] | None:
    """A piece as a part (None: pieces Gemini has no part for)."""
    if isinstance(piece, Text):
        return {"text": piece.text}
    if isinstance(piece, Reasoning):
        out: dict[str, Any] = {"text": piece.text, "thought": True}
        if piece.signature:
            out["thoughtSignature"] = piece.signature
        return out
    if not isinstance(piece, Call):
        return None  # a refusal is a finish reason, citations go in groundingMetadata
    call: dict[str, Any] = {"name": piece.name, "args": piece.arguments_object()}
    if piece.id is not None:
        call["id"] = piece.id
    part: dict[str, Any] = {"functionCall": call}
    if sign:
        part["thoughtSignature"] = signature_for(piece.name + piece.arguments_json())
    return part


def _grounding(pieces: Any) -> dict[str, Any] | None:
    cited = spans(pieces, utf8=True)
    cites = [(p, cited[i]) for i, p in enumerate(pieces) if isinstance(p, Cite)]
    if not cites:
        return None
    urls = list(dict.fromkeys(c.url for c, _ in cites))
    titles = {c.url: c.title for c, _ in cites}
    chunks = [{"web": {"uri": u, "title": titles[u] or u}} for u in urls]
    supports = [
        {
            "segment": {"startIndex": start, "endIndex": end, "text": text},
            "groundingChunkIndices": [urls.index(c.url)],
        }
        for c, (start, end, text) in cites
    ]
    return {"groundingChunks": chunks, "groundingSupports": supports}


def _usage_metadata(u: Usage) -> dict[str, Any]:
    """Gemini's rule (as in the recorded bodies): ``candidatesTokenCount`` excludes thoughts,
    ``thoughtsTokenCount`` counts them, total = prompt + candidates + thoughts. kairos'
    completion count includes reasoning, so candidates = completion - reasoning."""
    thoughts = u.reasoning_tokens or 0
    candidates = max(u.completion_tokens - thoughts, 0)
    meta: dict[str, Any] = {
        "promptTokenCount": u.prompt_tokens,
        "candidatesTokenCount": candidates,
        "totalTokenCount": u.prompt_tokens + candidates + thoughts,
    }
    if u.cached_tokens is not None:
        meta["cachedContentTokenCount"] = u.cached_tokens
    if u.reasoning_tokens is not None:
        meta["thoughtsTokenCount"] = u.reasoning_tokens
    return meta


def _chunk(ctx: Ctx, parts: list[dict[str, Any]], final: bool) -> dict[str, Any]:
    cand: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    out: dict[str, Any] = {"candidates": [cand]}
    if final:
        cand["finishReason"] = wire_finish(ctx.reply.resolved_finish(), _FINISH)
        grounding = _grounding(ctx.reply.pieces)
        if grounding is not None:
            cand["groundingMetadata"] = grounding
        out["usageMetadata"] = _usage_metadata(ctx.usage)
    cand["index"] = 0
    out["modelVersion"] = ctx.model
    out["responseId"] = ctx.ident("", 22)
    return out


def _sse(obj: Any) -> bytes:
    return sse(obj, eol=b"\r\n")


def stream(ctx: Ctx) -> Iterator[Frame]:
    held: list[dict[str, Any]] | None = None  # parts of the chunk not sent yet
    held_calls = False
    sign = _signs(ctx)
    for piece in ctx.reply.pieces:
        if isinstance(piece, Pause | Fail):
            if held is not None:
                yield _sse(_chunk(ctx, held, False))
                held = None
            if isinstance(piece, Fail):
                yield _sse(error_object(piece, True))
                return
            yield float(piece.seconds)
            continue
        part = _part(piece, sign and isinstance(piece, Call))
        if part is None:
            continue
        if isinstance(piece, Call):
            sign = False  # the first call of the reply is signed
        if isinstance(piece, Call) and held is not None and held_calls:
            held.append(part)  # parallel calls arrive in one chunk
            continue
        if held is not None:
            yield _sse(_chunk(ctx, held, False))
        held, held_calls = [part], isinstance(piece, Call)
    yield _sse(_chunk(ctx, held if held is not None else [{"text": ""}], True))


def body(ctx: Ctx) -> dict[str, Any]:
    parts, sign = [], _signs(ctx)
    for p in merged(ctx.reply.pieces, signed_apart=True):
        part = _part(p, sign and isinstance(p, Call))
        if part is not None:
            parts.append(part)
            sign = sign and not isinstance(p, Call)
    return _chunk(ctx, parts or [{"text": ""}], True)


# google.rpc.Status: (code, status name)
_ERRORS = {
    "overloaded": (503, "UNAVAILABLE"),
    "rate_limit": (429, "RESOURCE_EXHAUSTED"),
    "server": (500, "INTERNAL"),
    "invalid_request": (400, "INVALID_ARGUMENT"),
    "authentication": (400, "INVALID_ARGUMENT"),
    "context_length": (400, "INVALID_ARGUMENT"),
}
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error_object(fail: Fail, in_band: bool) -> dict[str, Any]:
    number, name = _ERRORS[fail.kind]
    info: dict[str, Any] = {"code": number, "message": fail.message, "status": name}
    if fail.kind == "authentication":
        info["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
            }
        ]
    return {"error": info}


def error_status(kind: str) -> int:
    return _ERRORS[kind][0]


def http_error_body(status: int, message: str) -> dict[str, Any]:
    kind = KIND_BY_STATUS.get(status)
    if kind is not None:
        return error_object(Fail(kind, message), False)
    name = _STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")
    return {"error": {"code": status, "message": message, "status": name}}
