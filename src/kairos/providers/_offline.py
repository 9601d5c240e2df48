"""The embedded offline demo: a tiny Chat Completions server on a free loopback port.

``kairos stream`` uses it when no provider is configured, so a newcomer's first run goes through
the real path (OpenAI codec, httpx, SSE decoder, stream machine) without a key or any network
beyond 127.0.0.1. Its replies are scripted and say so; nobody should mistake them for a model.
It is built on the standard library's ``http.server`` and serves one request per thread.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["DEMO_MODEL", "OfflineServer", "demo_reply"]

DEMO_MODEL = "kairos-offline-demo"

_POEM = (
    "[offline demo: scripted reply, not a model]\n"
    "En canales fluye el código veloz,\n"
    "goroutines danzan sin cesar,\n"
    "simplicidad es su mayor voz,\n"
    "en Go aprendemos a programar."
)


def demo_reply(prompt: str) -> str:
    if "poema" in prompt.lower() or "go" in prompt.lower().split():
        return _POEM
    return (
        "[offline demo: scripted reply, not a model]\n"
        f"You asked: {prompt[:200]}\n"
        "Set OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY or DASHSCOPE_API_KEY, or run "
        "Ollama locally, to talk to a real model."
    )


def _pieces(text: str) -> list[str]:
    """Split like a tokenizer would, roughly: words with their leading space."""
    out: list[str] = []
    for i, word in enumerate(text.split(" ")):
        out.append(word if i == 0 else " " + word)
    return out


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> bytes:
    choices = [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]
    obj: dict[str, Any] = {
        "id": "chatcmpl-offline",
        "object": "chat.completion.chunk",
        "model": DEMO_MODEL,
        "choices": choices,
    }
    if usage:
        obj["usage"] = usage
    return b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n"


class OfflineServer:
    """``with OfflineServer() as srv: srv.base_url`` -> ``http://127.0.0.1:PORT/v1``."""

    def __init__(self, delay: float = 0.03) -> None:
        self.delay = delay
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                server._serve(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> OfflineServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        body = json.loads(h.rfile.read(int(h.headers.get("content-length") or 0)) or b"{}")
        messages = body.get("messages") or [{}]
        prompt = str(messages[-1].get("content") or "")
        text = demo_reply(prompt)
        pieces = _pieces(text)
        prompt_tokens = max(1, sum(len(str(m.get("content") or "").split()) for m in messages))
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(pieces),
            "total_tokens": prompt_tokens + len(pieces),
        }
        h.send_response(200)
        h.send_header("content-type", "text/event-stream")
        h.send_header("transfer-encoding", "chunked")
        h.end_headers()
        frames = [_chunk({"role": "assistant", "content": ""})]
        frames += [_chunk({"content": p}) for p in pieces]
        frames += [_chunk({}, "stop")]
        if (body.get("stream_options") or {}).get("include_usage"):
            frames.append(_chunk({}, usage=usage))
        frames.append(b"data: [DONE]\n\n")
        try:
            for frame in frames:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                h.wfile.flush()
                time.sleep(self.delay)
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except OSError:  # the client went away (Ctrl-C): nothing to clean up
            h.close_connection = True
