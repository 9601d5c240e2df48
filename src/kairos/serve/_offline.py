"""The embedded offline demo: the ``kairos serve`` emulator core on a free loopback port.

``kairos stream`` uses it when no provider is configured, so a newcomer's first run goes through
the real path (the demo preset's codec, httpx, the framing decoder, the stream machine) without a
key or any network beyond 127.0.0.1. Its replies are scripted, paced like a model and say so
("[offline demo: scripted reply, not a model]"); nobody should mistake them for a model.

Design: every byte comes from the pure emulator (``kairos.serve._emulator.Emulator``) and the
wire renderers, exactly as ``kairos serve`` sends them. This module
is only a thin host: the standard library's ``http.server`` reads the request, hands it to the
core and writes the answer's pieces (chunked), sleeping on its pauses. It uses the standard
library rather than Starlette/Uvicorn so that a plain ``pip install kairos-llm`` (no ``serve``
extra) still runs offline; no protocol logic lives here.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .._replies import Reply
from ..providers import PRESETS, demo_preset
from ._emulator import Answer, Emulator, Seen
from ._limits import HEADER_TIMEOUT
from ._routes import emulated_base_url
from ._script import Entry

__all__ = ["DEMO_MODEL", "OfflineServer", "demo_entry", "demo_reply"]

DEMO_MODEL = "kairos-offline-demo"
LABEL = "[offline demo: scripted reply, not a model]"

_POEM = (
    f"{LABEL}\n"
    "En canales fluye el código veloz,\n"
    "goroutines danzan sin cesar,\n"
    "simplicidad es su mayor voz,\n"
    "en Go aprendemos a programar."
)


_KEYS = " or ".join(p.key_env[0] for p in PRESETS.values() if p.auto and p.key_env)
_LOCAL = " or ".join(p.note.split()[0] for p in PRESETS.values() if p.local)


def demo_reply(prompt: str) -> str:
    if "poema" in prompt.lower() or "go" in prompt.lower().split():
        return _POEM
    return (
        f"{LABEL}\n"
        f"You asked: {prompt[:200]}\n"
        f"Set {_KEYS}, or run {_LOCAL} locally, to talk to a real model."
    )


def demo_entry(seen: Seen, *, first: float = 0.25, gap: float = 0.03) -> Entry:
    """The demo's answer to one request: the scripted text, word by word, a model's pacing
    (``first`` seconds before the first token, ``gap`` between tokens) and estimated usage."""
    reply = Reply.text(demo_reply(seen.prompt), model=DEMO_MODEL)
    return Entry(reply=reply, delay_first=first, chunk_delay=gap)


def _write(h: BaseHTTPRequestHandler, answer: Answer) -> None:
    h.send_response(answer.status)
    for name, value in answer.headers.items():
        h.send_header(name, value)
    if not answer.stream and not any(isinstance(p, float) for p in answer.pieces):
        h.send_header("content-length", str(len(answer.body)))
        h.end_headers()
        h.wfile.write(answer.body)
        return
    h.send_header("transfer-encoding", "chunked")
    h.end_headers()
    h.wfile.flush()
    for piece in answer.pieces:
        if isinstance(piece, float):
            time.sleep(piece)
        elif piece:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            h.wfile.flush()
    h.wfile.write(b"0\r\n\r\n")
    h.wfile.flush()


def _read_body(h: BaseHTTPRequestHandler, limit: int) -> bytes | None:
    """The request body (``Content-Length`` or chunked), or None past ``limit`` bytes."""
    if "chunked" in (h.headers.get("transfer-encoding") or "").lower():
        body = bytearray()
        while True:
            size = int(h.rfile.readline(64).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                h.rfile.readline(64)  # the empty trailer line
                return bytes(body)
            if len(body) + size > limit:
                return None
            body += h.rfile.read(size)
            h.rfile.readline(64)  # the CRLF after each chunk
    declared = h.headers.get("content-length") or "0"
    size = int(declared) if declared.isdigit() else 0
    return None if size > limit else h.rfile.read(size)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a reset keep-alive socket, Ctrl-C) is not an error."""


class OfflineServer:
    """``with OfflineServer() as srv: kairos.provider(srv.preset, base_url=srv.base_url)``.

    ``preset`` is the registry's demo preset, ``base_url`` the emulator's URL for it (as that
    wire's SDKs expect it, e.g. ``http://127.0.0.1:PORT/v1``). ``delay`` is the pause between
    tokens and ``first`` the one before the first token; a connection silent for
    ``header_timeout`` seconds (its request headers unfinished, say) is closed."""

    def __init__(
        self, delay: float = 0.03, first: float = 0.25, header_timeout: float = HEADER_TIMEOUT
    ) -> None:
        self.emulator = Emulator(lambda seen: demo_entry(seen, first=first, gap=delay))
        emulator = self.emulator

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = header_timeout  # a socket silent this long is closed (headers included)

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                path, _, query = self.path.partition("?")
                body = _read_body(self, emulator.max_body)
                if body is None:  # past the limit: refused, and the connection then closes
                    answer = emulator.too_large(self.command, path, query)
                    self.close_connection = True
                else:
                    answer = emulator.handle(self.command, path, query, dict(self.headers), body)
                try:
                    _write(self, answer)
                except OSError:  # the client went away (Ctrl-C): nothing to clean up
                    self.close_connection = True

            do_GET = do_POST = _handle

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.preset = demo_preset().name
        self.base_url = emulated_base_url(self.url, self.preset)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> OfflineServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
