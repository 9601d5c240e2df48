"""``kairos web``'s server: the ASGI app on a loopback port with Uvicorn in a background thread
(see :mod:`kairos._uvicorn_host`)."""

from __future__ import annotations

from typing import Any

from .._uvicorn_host import ThreadedUvicorn, bind, url_for

__all__ = ["WebServer"]


class WebServer:
    """``with WebServer(app, host, port) as srv: srv.url`` (port 0: a free port)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._host = ThreadedUvicorn("kairos web")

    @property
    def url(self) -> str:
        return url_for(self.host, self.port) + "/"

    def start(self) -> WebServer:
        sock = bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._host.start(self.app, sock, self.url)
        return self

    def stop(self) -> None:
        self._host.stop()

    def wait(self) -> None:
        """Block until the server stops (or ``KeyboardInterrupt``)."""
        self._host.wait()

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
