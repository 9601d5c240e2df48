"""Running the emulator: :class:`EmulatorServer` (Uvicorn in a background thread) and
:func:`serve` (the foreground server behind ``kairos serve``). Needs the ``serve`` extra."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .._signals import sigterm_raises
from .._uvicorn_host import ThreadedUvicorn, bind, url_for
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
        self._host = ThreadedUvicorn("kairos serve")
        self.port = 0

    @property
    def url(self) -> str:
        return url_for(self.host, self.port)

    @property
    def base_urls(self) -> dict[str, str]:
        return base_urls(self.url)

    @property
    def requests(self) -> list[Seen]:
        return self.emulator.requests

    def start(self) -> EmulatorServer:
        sock = bind(self.host, self._port)
        self.port = sock.getsockname()[1]
        app = make_app(self.emulator, self._log)
        self._host.start(app, sock, self.url, http=_protocol(self.header_timeout))
        return self

    def stop(self) -> None:
        self._host.stop()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until the server stops (or ``KeyboardInterrupt``)."""
        self._host.wait()


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
    with sigterm_raises():
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
