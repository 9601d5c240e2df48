"""Running an ASGI app on a loopback port with Uvicorn in a background thread (``kairos web``).

The main thread only waits, so Ctrl-C (and SIGTERM) reach it as ``KeyboardInterrupt`` and the
server stops cleanly instead of Uvicorn re-raising the signal after its own shutdown.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from ..errors import ConfigurationError

__all__ = ["WebServer"]


class WebServer:
    """``with WebServer(app, host, port) as srv: srv.url`` (port 0: a free port)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        # an Event, not Thread.join: a join interrupted by Ctrl-C may not wait the next time
        self._done = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            reason = exc.strerror or type(exc).__name__
            where = f"{self.host}:{self.port}"
            raise ConfigurationError(f"cannot listen on {where} ({reason})") from None
        sock.listen(128)
        sock.setblocking(False)
        return sock

    def start(self) -> WebServer:
        sock = self._bind()
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        server = self._server = uvicorn.Server(config)
        self._done.clear()

        def run() -> None:
            try:
                server.run(sockets=[sock])
            finally:
                self._done.set()

        self._thread = threading.Thread(target=run, name="kairos-web", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            self.stop()
            raise ConfigurationError(f"kairos web: the server did not start on {self.url}")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._done.wait(timeout=10)
        self._server = self._thread = None

    def wait(self) -> None:
        """Block until the server stops (or ``KeyboardInterrupt``)."""
        while self._thread is not None and not self._done.wait(0.25):
            pass

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
