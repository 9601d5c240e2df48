"""An ASGI app on a bound socket, served by Uvicorn in a background thread: what
:class:`kairos.serve.EmulatorServer` and ``kairos web`` share (both need an extra that brings
Uvicorn; nothing else imports this module).

The main thread only waits, so Ctrl-C (and SIGTERM) reach it as ``KeyboardInterrupt`` and the
server stops cleanly instead of Uvicorn re-raising the signal after its own shutdown.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from .errors import ConfigurationError

__all__ = ["ThreadedUvicorn", "bind", "url_for"]


def url_for(host: str, port: int) -> str:
    """``http://host:port`` (IPv6 hosts in brackets), without a trailing slash."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def bind(host: str, port: int) -> socket.socket:
    """A listening non-blocking socket on ``host``:``port`` (0: a free port); a port that
    cannot be had is a :class:`ConfigurationError` naming it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(f"cannot listen on {host}:{port} ({reason})") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


class ThreadedUvicorn:
    """``start(app, sock)`` serves until ``stop()``; ``wait()`` blocks until it has stopped."""

    def __init__(self, name: str) -> None:
        self.name = name  # the thread's name, and the command named in a start failure
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        # an Event, not Thread.join: a join interrupted by Ctrl-C may not wait the next time
        self._done = threading.Event()

    def start(self, app: Any, sock: socket.socket, where: str, **config: Any) -> None:
        """Serve ``app`` on ``sock`` (``where`` is its URL, for the error if it cannot start);
        ``config`` goes to ``uvicorn.Config`` (e.g. ``http=`` a protocol class)."""
        server = self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_config=None,
                log_level="warning",
                access_log=False,
                lifespan="off",
                ws="none",
                timeout_graceful_shutdown=1,
                **config,
            )
        )
        self._done.clear()

        def run() -> None:
            try:
                server.run(sockets=[sock])
            finally:
                self._done.set()

        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            self.stop()
            raise ConfigurationError(f"{self.name}: the server did not start on {where}")

    def stop(self) -> None:
        """Ask the server to stop and wait (up to 10 s) until it has; open streams are closed
        within about a second."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._done.wait(timeout=10)
        self._server = self._thread = None

    def wait(self) -> None:
        """Block until the server stops (or ``KeyboardInterrupt``)."""
        while self._thread is not None and not self._done.wait(0.25):
            pass
