"""A fast loopback HTTP/1.1 server for the benchmarks, run in its own process.

Every reply is rendered once and cached as bytes, then sent with a single write, so the server
costs almost nothing per chunk (``run.py`` checks this: see the "server" row). Connections are
kept alive. The wire format is chosen by the request path, the stream shape by the model name,
which every client (kairos, the SDKs, LiteLLM) sends somewhere in the request:

    b-<n>-<w>-<mode>[-<id>][-p<ms>][-e<us>]
        n chunks of w words; mode t (text), tools (tool-call arguments) or forever (text until
        the client hangs up; <id> names it). ``-p<ms>``: paced, one event every <ms> ms (the
        first at once); ``-e<us>``: the chunked terminator <us> microseconds after the last event.

Paths: ``/chat/completions`` OpenAI SSE, ``/messages`` Anthropic SSE, ``:streamGenerateContent``
Gemini SSE (CRLF line ends, like Google's servers), ``/api/chat`` Ollama NDJSON, ``/responses``
the OpenAI Responses API's SSE (text only).
``GET /_stats`` answers how many connections the server has accepted so far.
``GET /_disc/<id>`` answers the ``time.monotonic_ns()`` at which the server saw client ``<id>``
of a forever stream disconnect (the same clock as the client's on Linux).

Replies use chunked transfer encoding with one HTTP chunk per event, as the providers' servers
do, so HTTP clients see one piece per event; ``--framing=length`` sends one Content-Length body
instead (bulk reads: per-read costs vanish and only parsing is compared).

Usage: ``python benchmarks/server.py [--framing=length]`` prints ``PORT <n>`` and serves until
stdin closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
import time

FORMATS = ("openai", "anthropic", "gemini", "ollama", "responses")
_MODEL = re.compile(rb"b-(\d+)-(\d+)-(tools|forever|t)(?:-(\d+))?(?:-p(\d+))?(?:-e(\d+))?")
_cache: dict[tuple[str, int, int, str], bytes] = {}
_disc: dict[str, int] = {}
_disc_waiters: dict[str, asyncio.Event] = {}
_stats = {"accepted": 0}


def words(i: int, w: int) -> str:
    """The text of chunk ``i`` (clients check what they received against this)."""
    return "".join(f" w{(i * 7 + k) % 997}" for k in range(w))


def expected_text(n: int, w: int) -> str:
    return "".join(words(i, w) for i in range(n))


def expected_args(n: int, w: int) -> str:
    return '{"q":"' + "".join(words(i, w) for i in range(n)) + '"}'


def _d(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _openai(n: int, w: int, mode: str) -> list[bytes]:
    base = {"id": "chatcmpl-b", "object": "chat.completion.chunk", "created": 1, "model": "b"}
    out = []
    if mode == "tools":
        first = {"index": 0, "id": "call_1", "type": "function"}
        first["function"] = {"name": "lookup", "arguments": '{"q":"'}
        pieces = [{"tool_calls": [first]}]
        pieces += [
            {"tool_calls": [{"index": 0, "function": {"arguments": words(i, w)}}]} for i in range(n)
        ]
        pieces.append({"tool_calls": [{"index": 0, "function": {"arguments": '"}'}}]})
        finish = "tool_calls"
    else:
        pieces = [{"content": words(i, w)} for i in range(n)]
        finish = "stop"
    for delta in pieces:
        choice = {"index": 0, "delta": delta, "finish_reason": None}
        out.append(f"data: {_d({**base, 'choices': [choice]})}\n\n".encode())
    end = {"index": 0, "delta": {}, "finish_reason": finish}
    out.append(f"data: {_d({**base, 'choices': [end]})}\n\n".encode())
    usage = {"prompt_tokens": 5, "completion_tokens": n, "total_tokens": n + 5}
    out.append(f"data: {_d({**base, 'choices': [], 'usage': usage})}\n\n".encode())
    out.append(b"data: [DONE]\n\n")
    return out


def _anthropic(n: int, w: int, mode: str) -> list[bytes]:
    def ev(kind: str, obj: dict[str, object]) -> bytes:
        return f"event: {kind}\ndata: {_d({'type': kind, **obj})}\n\n".encode()

    msg = {
        "id": "msg_b",
        "type": "message",
        "role": "assistant",
        "model": "b",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 1},
    }
    out = [ev("message_start", {"message": msg})]
    out.append(
        ev("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    )
    for i in range(n):
        delta = {"type": "text_delta", "text": words(i, w)}
        out.append(ev("content_block_delta", {"index": 0, "delta": delta}))
    out.append(ev("content_block_stop", {"index": 0}))
    out.append(
        ev(
            "message_delta",
            {
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": n},
            },
        )
    )
    out.append(ev("message_stop", {}))
    return out


def _gemini(n: int, w: int, mode: str) -> list[bytes]:
    out = []
    for i in range(n):
        cand: dict[str, object] = {
            "content": {"parts": [{"text": words(i, w)}], "role": "model"},
            "index": 0,
        }
        usage = {"promptTokenCount": 5, "totalTokenCount": 5}
        if i == n - 1:
            cand["finishReason"] = "STOP"
            usage = {"promptTokenCount": 5, "candidatesTokenCount": n, "totalTokenCount": n + 5}
        obj = {"candidates": [cand], "usageMetadata": usage, "modelVersion": "b"}
        out.append(f"data: {_d(obj)}\r\n\r\n".encode())
    return out


def _ollama(n: int, w: int, mode: str) -> list[bytes]:
    base = {"model": "b", "created_at": "2025-01-01T00:00:00.000000Z"}
    out = []
    for i in range(n):
        msg = {"role": "assistant", "content": words(i, w)}
        out.append(f"{_d({**base, 'message': msg, 'done': False})}\n".encode())
    last = {
        **base,
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "total_duration": 1,
        "prompt_eval_count": 5,
        "eval_count": n,
    }
    out.append(f"{_d(last)}\n".encode())
    return out


def _responses(n: int, w: int, mode: str) -> list[bytes]:
    """The OpenAI Responses API's events for one text message (``mode`` is always text)."""
    seq = iter(range(1 << 30))

    def ev(kind: str, **obj: object) -> bytes:
        data = _d({"type": kind, "sequence_number": next(seq), **obj})
        return f"event: {kind}\ndata: {data}\n\n".encode()

    resp = {"id": "resp_b", "object": "response", "created_at": 1, "status": "in_progress"}
    resp.update(model="b", output=[], usage=None)
    at = {"item_id": "msg_b", "output_index": 0, "content_index": 0}
    item = {"id": "msg_b", "type": "message", "status": "in_progress", "role": "assistant"}
    part = {"type": "output_text", "annotations": [], "text": ""}
    out = [ev("response.created", response=resp), ev("response.in_progress", response=resp)]
    out.append(ev("response.output_item.added", output_index=0, item={**item, "content": []}))
    out.append(ev("response.content_part.added", **at, part=part))
    for i in range(n):
        out.append(ev("response.output_text.delta", **at, delta=words(i, w), logprobs=[]))
    text = expected_text(n, w)
    out.append(ev("response.output_text.done", **at, text=text, logprobs=[]))
    out.append(ev("response.content_part.done", **at, part={**part, "text": text}))
    done = {**item, "status": "completed", "content": [{**part, "text": text}]}
    out.append(ev("response.output_item.done", output_index=0, item=done))
    usage = {"input_tokens": 5, "output_tokens": n, "total_tokens": n + 5}
    end = {**resp, "status": "completed", "output": [done], "usage": usage}
    out.append(ev("response.completed", response=end))
    return out


RENDER = {
    "openai": _openai,
    "anthropic": _anthropic,
    "gemini": _gemini,
    "ollama": _ollama,
    "responses": _responses,
}
CTYPE = {"ollama": b"application/x-ndjson"}


def render_body(fmt: str, n: int, w: int, mode: str = "t") -> bytes:
    return b"".join(RENDER[fmt](n, w, mode))


CHUNKED = True  # one HTTP chunk per event, as real servers send them (--framing length: one body)


def render_reply(fmt: str, n: int, w: int, mode: str = "t", chunked: bool = True) -> bytes:
    events = RENDER[fmt](n, w, mode)
    ctype = CTYPE.get(fmt, b"text/event-stream")
    if chunked:
        body = b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"
        framing = b"transfer-encoding: chunked"
    else:
        body = b"".join(events)
        framing = b"content-length: %d" % len(body)
    return b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\n%s\r\n\r\n%s" % (ctype, framing, body)


def _reply(fmt: str, n: int, w: int, mode: str) -> bytes:
    key = (fmt, n, w, mode)
    if key not in _cache:
        _cache[key] = render_reply(fmt, n, w, mode, CHUNKED)
    return _cache[key]


def _paced_pieces(fmt: str, n: int, w: int, mode: str) -> tuple[bytes, list[bytes], bytes]:
    """The reply in pieces: head with the first event, one piece per later event, the end."""
    events = RENDER[fmt](n, w, mode)
    ctype = CTYPE.get(fmt, b"text/event-stream")
    if CHUNKED:
        framed = [b"%x\r\n%s\r\n" % (len(e), e) for e in events]
        head = b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ntransfer-encoding: chunked\r\n\r\n"
        return head % ctype + framed[0], framed[1:], b"0\r\n\r\n"
    body_len = sum(len(e) for e in events)
    head = b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n"
    return head % (ctype, body_len) + events[0], events[1:], b""


class Ticker:
    """Paced replies: every ``gap`` seconds one timer writes the next event of every paced
    stream (one timer for all streams, so pacing costs the server a write per event)."""

    def __init__(self, gap: float) -> None:
        self.gap = gap
        self.streams: list[
            tuple[asyncio.StreamWriter, list[bytes], list[int], asyncio.Future[None]]
        ] = []
        self.task: asyncio.Task[None] | None = None

    def add(self, writer: asyncio.StreamWriter, pieces: list[bytes]) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.streams.append((writer, pieces, [0], done))
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())
        return done

    async def _run(self) -> None:
        while self.streams:
            await asyncio.sleep(self.gap)
            keep = []
            for st in self.streams:
                writer, pieces, at, done = st
                if at[0] >= len(pieces) or writer.is_closing():
                    done.set_result(None)
                    continue
                writer.write(pieces[at[0]])
                at[0] += 1
                keep.append(st)
            self.streams = keep
        self.task = None


_tickers: dict[float, Ticker] = {}


async def _paced(
    writer: asyncio.StreamWriter, key: tuple[str, int, int, str], pace: float, end: float
) -> None:
    if key not in _paced_cache:
        _paced_cache[key] = _paced_pieces(*key)
    head, pieces, tail = _paced_cache[key]
    writer.write(head)
    ticker = _tickers.setdefault(pace, Ticker(pace))
    await ticker.add(writer, pieces)
    if end:
        await asyncio.sleep(end)
    writer.write(tail)
    await writer.drain()


_paced_cache: dict[tuple[str, int, int, str], tuple[bytes, list[bytes], bytes]] = {}


def _format(path: bytes) -> str:
    if b"/chat/completions" in path:
        return "openai"
    if b"/responses" in path:
        return "responses"
    if b":streamGenerateContent" in path:
        return "gemini"
    if b"/api/chat" in path:
        return "ollama"
    return "anthropic"


async def _forever(
    fmt: str, sid: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Chunked text events every millisecond until the client hangs up; record when."""
    ctype = CTYPE.get(fmt, b"text/event-stream")
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ntransfer-encoding: chunked\r\n\r\n" % ctype
    )
    events = RENDER[fmt](100, 1, "t")
    head = events[:2] if fmt == "anthropic" else []
    body = [b"%x\r\n%s\r\n" % (len(x), x) for x in events[len(head) : len(head) + 99]]
    writer.write(b"".join(b"%x\r\n%s\r\n" % (len(x), x) for x in head))
    eof = asyncio.ensure_future(reader.read(1))
    i = 0
    while not eof.done():
        writer.write(body[i % len(body)])
        i += 1
        await asyncio.wait([eof], timeout=0.001)
    _disc[sid] = time.monotonic_ns()
    _disc_waiters.setdefault(sid, asyncio.Event()).set()
    writer.close()


async def _disc_reply(sid: str, writer: asyncio.StreamWriter) -> None:
    ev = _disc_waiters.setdefault(sid, asyncio.Event())
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(ev.wait(), 2.0)
    body = json.dumps({"t": _disc.get(sid)}).encode()
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"\r\n%s" % (len(body), body)
    )


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    _stats["accepted"] += 1
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            m = re.search(rb"(?i)content-length:\s*(\d+)", head)
            body = await reader.readexactly(int(m.group(1))) if m else b""
            path = head.split(b" ", 2)[1]
            if path == b"/_stats":
                body = json.dumps(_stats).encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
                continue
            if path.startswith(b"/_disc/"):
                await _disc_reply(path[7:].decode(), writer)
                continue
            spec = _MODEL.search(path) or _MODEL.search(body)
            if spec is None:
                writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                continue
            n, w, mode, sid = int(spec[1]), int(spec[2]), spec[3].decode(), spec[4]
            fmt = _format(path)
            if mode == "forever":
                await _forever(fmt, (sid or b"0").decode(), reader, writer)
                return
            pace, end = int(spec[5] or 0) / 1e3, int(spec[6] or 0) / 1e6
            if pace or end:
                await _paced(writer, (fmt, n, w, mode), pace, end)
                continue
            writer.write(_reply(fmt, n, w, mode))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    except asyncio.CancelledError:  # the server is stopping
        pass
    finally:
        writer.close()


async def serve(port: int = 0) -> None:
    server = await asyncio.start_server(_handle, "127.0.0.1", port, backlog=4096, limit=1 << 20)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # the parent closes stdin to stop us


if __name__ == "__main__":
    CHUNKED = "--framing=length" not in sys.argv
    asyncio.run(serve())
