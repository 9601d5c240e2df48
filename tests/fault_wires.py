"""The five providers' wire formats for the fault tests, built from recorded conformance bodies.

Each :class:`Wire` splits one recorded success body into framed events and knows the provider's
own shapes for what the faults need: a keep-alive that is not an event, an in-band error, HTTP
error bodies, a non-stream JSON answer. Error shapes come from each provider's API reference
("Errors" pages) or from recorded bodies in ``fixtures/conformance``, as noted per wire.

``text_of`` reads the caller-visible text out of events independently of kairos, so a test can
say what partial content a truncated stream must keep.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Any

import pytest

import kairos
from faults import Fault

CONFORMANCE = Path(__file__).parent / "fixtures" / "conformance"
MODES = ["sync", "async"]


def _json(obj: Any) -> bytes:
    return json.dumps(obj).encode()


@dataclass(frozen=True)
class Wire:
    name: str  # the preset used (also the test id)
    fmt: str  # the conformance folder
    case: str
    suffix: str  # appended to the server URL for the base URL
    ctype: str
    keepalive: bytes  # bytes a server sends to keep the connection alive; never an event
    inband_error: bytes  # a retryable error event (overload / rate limit / server error)
    inband_cls: type[kairos.APIStatusError]
    status_body: Callable[[int], dict[str, Any]]  # the provider's HTTP error body for a status
    context_body: dict[str, Any]  # its 400 "prompt too long" body
    context_cls: type[kairos.APIStatusError]  # what kairos can say from structured fields only
    answer: dict[str, Any]  # a complete non-stream answer with content "Hi there"
    trailer: int  # trailing events carrying the finish reason / end marker

    @property
    def body(self) -> bytes:
        folder = CONFORMANCE / self.fmt / self.case
        return next(folder.glob("response.*")).read_bytes()

    @property
    def expected(self) -> dict[str, Any]:
        case = json.loads((CONFORMANCE / self.fmt / self.case / "case.json").read_text())
        return dict(case["expected"])

    @property
    def sse(self) -> bool:
        return self.ctype == "text/event-stream"

    @property
    def events(self) -> list[bytes]:
        """The body's framed events, each with its delimiter."""
        if self.sse:
            parts = re.split(rb"(?:\r\n|\n){2}", self.body.strip())
            return [p + b"\n\n" for p in parts if p.strip()]
        return [line + b"\n" for line in self.body.splitlines() if line.strip()]

    @property
    def head(self) -> list[bytes]:
        """The events up to and including the first one with visible text."""
        events = self.events
        for n in range(1, len(events) + 1):
            if text_of(self, events[:n]):
                return events[:n]
        raise AssertionError(f"{self.name}: no content in {self.case}")

    @property
    def end(self) -> bytes:
        return self.events[-1]

    def reply(self, pieces: Iterable[Any], **kw: Any) -> Fault:
        return Fault(headers={"content-type": self.ctype}, pieces=pieces, **kw)


def _data(event: bytes) -> dict[str, Any] | None:
    lines = [ln for ln in event.splitlines() if ln.startswith(b"data:")]
    raw = b"\n".join(ln[5:].strip() for ln in lines) if lines else event.strip()
    try:
        obj = json.loads(raw)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def content_event(wire: Wire, text: str) -> bytes:
    """One event carrying ``text`` as content, in the wire's own shape."""
    if wire.fmt in ("openai-chat", "dashscope"):
        obj: dict[str, Any] = {
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
        }
        return b"data: " + _json(obj) + b"\n\n"
    if wire.fmt == "anthropic-messages":
        obj = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        }
        return b"event: content_block_delta\ndata: " + _json(obj) + b"\n\n"
    if wire.fmt == "gemini":
        obj = {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}}]}
        return b"data: " + _json(obj) + b"\n\n"
    obj = {"model": "m", "message": {"role": "assistant", "content": text}, "done": False}
    return _json(obj) + b"\n"


def line_start(wire: Wire) -> bytes:
    """The start of an event that never ends (no line end follows)."""
    return b'data: {"x": "' if wire.sse else b'{"x": "'


def text_of(wire: Wire, events: list[bytes]) -> str:
    out = []
    for ev in events:
        obj = _data(ev) or {}
        if wire.fmt in ("openai-chat", "dashscope"):
            choices = obj.get("choices") or [{}]
            out.append((choices[0].get("delta") or {}).get("content") or "")
        elif wire.fmt == "anthropic-messages":
            delta = obj.get("delta") or {}
            out.append(delta.get("text") or "" if delta.get("type") == "text_delta" else "")
        elif wire.fmt == "gemini":
            for cand in obj.get("candidates") or []:
                for part in (cand.get("content") or {}).get("parts") or []:
                    out.append("" if part.get("thought") else part.get("text") or "")
        else:
            out.append((obj.get("message") or {}).get("content") or "")
    return "".join(out)


# -- error shapes ------------------------------------------------------------------------------
def _openai_status(status: int) -> dict[str, Any]:
    # OpenAI API reference, "Error codes": {"error": {"message", "type", "param", "code"}}
    kind, code = {
        401: ("invalid_request_error", "invalid_api_key"),
        429: ("requests", "rate_limit_exceeded"),
        500: ("server_error", None),
    }.get(status, (None, None))
    return {"error": {"message": f"HTTP {status} test", "type": kind, "param": None, "code": code}}


def _anthropic_status(status: int) -> dict[str, Any]:
    # Anthropic API reference, "Errors": {"type": "error", "error": {"type", "message"}}
    kind = {401: "authentication_error", 429: "rate_limit_error", 500: "api_error"}.get(
        status, "overloaded_error"
    )
    return {"type": "error", "error": {"type": kind, "message": "test"}, "request_id": "req_1"}


def _gemini_status(status: int) -> dict[str, Any]:
    # google.rpc.Status as the Gemini API returns it
    name = {401: "UNAUTHENTICATED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}.get(
        status, "UNAVAILABLE"
    )
    return {"error": {"code": status, "message": "test", "status": name}}


def _ollama_status(status: int) -> dict[str, Any]:
    return {"error": f"test error {status}"}  # ollama docs/api/errors.mdx: {"error": "<text>"}


_OPENAI_CONTEXT = {  # the OpenAI API's structured context-length error
    "error": {
        "message": "This model's maximum context length is 128000 tokens.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }
}
_OPENAI_INBAND = _json(
    {"error": {"message": "The server had an error", "type": "server_error", "param": None}}
)
_OPENAI_ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi there"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}

WIRES = [
    Wire(
        "openai",
        "openai-chat",
        "oai-text-stop-usage",
        "/v1",
        "text/event-stream",
        b": keep-alive\n\n",
        b"data: " + _OPENAI_INBAND + b"\n\n",
        kairos.ServerError,
        _openai_status,
        _OPENAI_CONTEXT,
        kairos.ContextLengthError,
        _OPENAI_ANSWER,
        3,
    ),
    Wire(
        "qwen",
        "dashscope",
        "docs-qwen-plus-usage",
        "/v1",
        "text/event-stream",
        b": keep-alive\n\n",
        # DashScope compatible mode uses OpenAI's error object; a rate limit in-band
        b'data: {"error": {"message": "Requests rate limit exceeded", "type": "requests", '
        b'"code": "rate_limit_exceeded"}}\n\n',
        kairos.RateLimitError,
        _openai_status,
        # DashScope says "Range of input length should be [1, N]" with a generic code: no
        # structured field names the context length, so kairos can only say BadRequestError
        {
            "error": {
                "message": "Range of input length should be [1, 129024]",
                "type": "invalid_request_error",
                "code": "invalid_parameter_error",
            }
        },
        kairos.BadRequestError,
        {**_OPENAI_ANSWER, "model": "qwen-plus"},
        3,
    ),
    Wire(
        "anthropic",
        "anthropic-messages",
        "docs-basic-text-ping",
        "",
        "text/event-stream",
        b'event: ping\ndata: {"type": "ping"}\n\n',
        (CONFORMANCE / "anthropic-messages/docs-error-overloaded/response.sse").read_bytes().strip()
        + b"\n\n",
        kairos.OverloadedError,
        _anthropic_status,
        # "prompt is too long" is an invalid_request_error: only the message says why
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "prompt is too long: 208310 tokens > 200000 maximum",
            },
        },
        kairos.BadRequestError,
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [{"type": "text", "text": "Hi there"}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 3, "output_tokens": 2},
        },
        2,
    ),
    Wire(
        "gemini",
        "gemini",
        "pai-text-basic",
        "",
        "text/event-stream",
        b": keep-alive\n\n",
        b'data: {"error": {"code": 503, "message": "The model is overloaded.", '
        b'"status": "UNAVAILABLE"}}\n\n',
        kairos.OverloadedError,
        _gemini_status,
        # INVALID_ARGUMENT "The input token count exceeds the maximum...": message text only
        {
            "error": {
                "code": 400,
                "message": "The input token count (1200000) exceeds the maximum "
                "number of tokens allowed (1048576).",
                "status": "INVALID_ARGUMENT",
            }
        },
        kairos.BadRequestError,
        {
            "candidates": [
                {
                    "content": {"parts": [{"text": "Hi there"}], "role": "model"},
                    "finishReason": "STOP",
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 3,
                "candidatesTokenCount": 2,
                "totalTokenCount": 5,
            },
            "modelVersion": "gemini-2.5-flash",
        },
        1,
    ),
    Wire(
        "ollama",
        "ollama-chat",
        "sk-phi3-tail-stop-usage",
        "",
        "application/x-ndjson",
        b"\n",  # NDJSON has no comments; a blank line is the only filler a server can send
        # ollama server/routes.go: an error after the first line is one {"error": text} line
        b'{"error": "an error was encountered while running the model"}\n',
        kairos.ServerError,
        _ollama_status,
        {"error": "the input length exceeds the context length"},
        kairos.BadRequestError,
        {
            "model": "m",
            "created_at": "2024-07-02T11:45:16Z",
            "message": {"role": "assistant", "content": "Hi there"},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 3,
            "eval_count": 2,
        },
        1,
    ),
]
WIRE_IDS = [w.name for w in WIRES]
wires = pytest.mark.parametrize("wire", WIRES, ids=WIRE_IDS)
modes = pytest.mark.parametrize("mode", MODES)

REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
FAST = kairos.RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.02)


# -- running a stream ---------------------------------------------------------------------------
@dataclass
class Run:
    chunks: list[kairos.StreamChunk]
    raised: BaseException | None  # what iterating past the final chunk raised
    elapsed: float

    @property
    def final(self) -> kairos.StreamChunk:
        return self.chunks[-1]

    @property
    def content(self) -> str:
        return "".join(c.content for c in self.chunks)

    @property
    def error(self) -> kairos.KairosError | None:
        return self.final.error


def _kw(wire: Wire, url: str, kw: dict[str, Any]) -> dict[str, Any]:
    return {"api_key": "test-key", "base_url": url + wire.suffix, "max_retries": 0, **kw}


def stream(
    wire: Wire,
    mode: str,
    url: str,
    on_chunk: Callable[[kairos.StreamChunk], None] | None = None,
    **kw: Any,
) -> Run:
    """Drain one stream; an error before the body raises from here (like ``chat_stream``)."""
    kw = _kw(wire, url, kw)
    t0 = time.monotonic()
    chunks: list[kairos.StreamChunk] = []
    raised: BaseException | None = None
    if mode == "sync":
        with kairos.provider(wire.name, **kw) as p, p.chat_stream(REQ) as s:
            try:
                for c in s:
                    chunks.append(c)
                    if on_chunk:
                        on_chunk(c)
            except kairos.KairosError as exc:
                raised = exc
        return Run(chunks, raised, time.monotonic() - t0)

    async def main() -> Run:
        nonlocal raised
        async with kairos.async_provider(wire.name, **kw) as p, await p.chat_stream(REQ) as s:
            try:
                async for c in s:
                    chunks.append(c)
                    if on_chunk:
                        on_chunk(c)
            except kairos.KairosError as exc:
                raised = exc
        return Run(chunks, raised, time.monotonic() - t0)

    return asyncio.run(main())


def assert_ok(run: Run, wire: Wire) -> None:
    assert run.error is None, run.error
    assert run.raised is None
    assert run.content == wire.expected["content"]
    assert [c.done for c in run.chunks].count(True) == 1 and run.final.done


def assert_failed(
    run: Run, cls: type[BaseException] | UnionType, content: str
) -> kairos.KairosError:
    """One final chunk carrying a typed error with the partial content; iterating raised it."""
    assert [c.done for c in run.chunks].count(True) == 1 and run.final.done
    err = run.error
    assert isinstance(err, cls), repr(err)
    assert run.raised is err
    assert err.partial is not None and err.partial.content == content
    assert run.content == content
    assert "\n" not in str(err)
    return err
