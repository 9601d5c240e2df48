"""Running the emulator: :class:`EmulatorServer` (Uvicorn in a background thread) and
:func:`serve` (the foreground server behind ``kairos serve``). Needs the ``serve`` extra."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..errors import ConfigurationError
from ._app import make_app
from ._emulator import Emulator, Seen, Source
from ._limits import HEADER_TIMEOUT, MAX_REQUEST_BYTES
from ._routes import base_urls, wire_titles
from ._script import Script, load_script, parse_script, script_from_dir

__all__ = ["EmulatorServer", "base_urls", "serve"]

ScriptLike = str | Path | Script | dict[str, Any] | list[Any] | Callable[[Seen], Any] | None


def make_source(script: ScriptLike, recorded: str | Path | None = None) -> Source:
    """A script file path, a parsed script (mapping or list), a :class:`Script`, a function
    ``Seen -> Entry``, or ``None`` (``recorded`` bodies, else the offline demo's replies)."""
    if isinstance(script, Script):
        return script
    if isinstance(script, str | Path):
        return load_script(script, recorded)
    if isinstance(script, dict | list):
        return parse_script(script, Path(recorded or "."), "<script>")
    if script is None and recorded is not None:
        return script_from_dir(recorded)
    if script is None:
        from ._offline import demo_entry

        return demo_entry
    if callable(script):
        return script
    raise ConfigurationError(f"not a script: {type(script).__name__}")


class EmulatorServer:
    """``kairos serve`` in-process, for tests and apps::

        with EmulatorServer("script.yaml") as srv:
            client = OpenAI(base_url=srv.base_urls["OPENAI_BASE_URL"], api_key="x")

    Binds ``host`` (127.0.0.1) on ``port`` (0: a free port) when entered; ``url`` is the root
    URL, ``requests`` the requests answered so far. Stops (closing open streams within about a
    second) when the ``with`` block ends.
    """

    def __init__(
        self,
        script: ScriptLike = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        recorded: str | Path | None = None,
        log: Callable[[str], None] | None = None,
        strict: bool = False,
        max_body: int = MAX_REQUEST_BYTES,
        header_timeout: float = HEADER_TIMEOUT,
    ) -> None:
        if not isinstance(host, str) or not host.strip():
            raise ConfigurationError(
                "kairos serve: an empty host would listen on every interface; "
                "pass 0.0.0.0 (or ::) to mean that"
            )
        self.emulator = Emulator(make_source(script, recorded), strict=strict, max_body=max_body)
        self.header_timeout = header_timeout
        self.host = host
        self._port = port
        self._log = log
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_urls(self) -> dict[str, str]:
        return base_urls(self.url)

    @property
    def requests(self) -> list[Seen]:
        return self.emulator.requests

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._port))
        except OSError as exc:
            sock.close()
            where = f"{self.host}:{self._port}"
            raise ConfigurationError(f"cannot listen on {where} ({exc.strerror})") from None
        sock.listen(128)
        sock.setblocking(False)
        return sock

    def start(self) -> EmulatorServer:
        sock = self._bind()
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            make_app(self.emulator, self._log),
            http=_protocol(self.header_timeout),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        server = self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="kairos-serve", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            self.stop()
            raise ConfigurationError(f"kairos serve: the server did not start on {self.url}")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until the server thread ends (or ``KeyboardInterrupt``)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.25)


def _protocol(header_timeout: float) -> type[H11Protocol]:
    """Uvicorn's HTTP/1.1 protocol, closing a connection whose request headers have not all
    arrived ``header_timeout`` seconds after it opened or after its previous response (a
    client that never finishes its headers would otherwise hold the connection forever)."""

    class Protocol(H11Protocol):
        _headers_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._headers_timer = self.loop.call_later(header_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._headers_timer is not None:
                self._headers_timer.cancel()
                self._headers_timer = None

        def _too_slow(self) -> None:
            self._headers_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._headers_timer is None and self.conn.their_state is h11.IDLE:
                self._arm()  # a new request begins on a kept-alive connection
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()  # its headers are all here

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return Protocol


_EVERY_INTERFACE = ("0.0.0.0", "::", "[::]")


def _banner(srv: EmulatorServer, source: str, out: TextIO) -> None:
    print(f"kairos serve: emulating {wire_titles()} at {srv.url}", file=out)
    if srv.host in _EVERY_INTERFACE:
        print(
            f"  listening on every interface ({srv.host}): any host that can reach this "
            "machine can use it",
            file=out,
        )
    print(f"  answering from: {source}", file=out)
    if srv.emulator.strict:
        print("  strict: requests the real APIs reject get their error answers", file=out)
    print("  point an SDK or kairos at it (any API key is accepted):", file=out)
    for var, value in srv.base_urls.items():
        print(f"    {var}={value}", file=out)
    print("  press Ctrl-C to stop", file=out, flush=True)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(
    script: ScriptLike = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    recorded: str | Path | None = None,
    out: TextIO | None = None,
    strict: bool = False,
) -> int:
    """Run the emulator in the foreground until Ctrl-C (or SIGTERM); returns exit status 0.
    ``strict``: reject requests the real APIs reject (see :mod:`kairos.serve._emulator`)."""
    out = out or sys.stdout

    def log(line: str) -> None:
        print(f"kairos serve: {line}", file=sys.stderr, flush=True)

    srv = EmulatorServer(script, host=host, port=port, recorded=recorded, log=log, strict=strict)
    source = (
        str(script)
        if isinstance(script, str | Path)
        else (
            f"recorded bodies in {recorded}" if recorded is not None else "the built-in demo script"
        )
    )
    with _sigterm_as_interrupt():
        try:
            srv.start()
            _banner(srv, source, out)
            srv.wait()
        except KeyboardInterrupt:
            pass
        finally:
            with contextlib.suppress(KeyboardInterrupt):
                srv.stop()
    print("kairos serve: stopped", file=sys.stderr, flush=True)
    return 0
