"""``kairos web [--provider P] [--model M] [--base-url URL] [--host H] [--port P]``: a chat page
in the browser, streaming over the Vercel AI SDK UI message stream protocol (see
:mod:`kairos.web`). Registered by ``kairos.cli``; the provider is picked as ``kairos stream``
picks it (no key: the offline demo). Bad options are one line on stderr, exit 2; Ctrl-C stops it
with exit status 0. Needs the ``web`` extra (Starlette and Uvicorn)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any, NoReturn

from ..errors import ConfigurationError
from ._args import host, sigterm_as_interrupt
from ._pick import AUTO_ORDER, OFFLINE, open_provider, pick_provider, port

__all__ = ["add_parser", "run"]


class _OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (``kairos web: error: ...``), unknown arguments included."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Any = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def add_parser(sub: Any) -> None:
    from ..providers import PRESETS

    s = sub.add_parser(
        "web",
        help="chat in the browser: a page that streams replies",
        description=(
            "Serve a small chat page on a loopback port and stream each reply to it over the "
            "Vercel AI SDK UI message stream protocol (POST /api/chat takes the useChat body). "
            "Without --provider, the provider is picked as in `kairos stream` ("
            + ", ".join(AUTO_ORDER)
            + ", a reachable local server, else the offline demo). Ctrl-C stops it."
        ),
    )
    s.__class__ = _OneLineParser
    s.add_argument("--provider", choices=[*PRESETS, OFFLINE], help="provider preset name")
    s.add_argument("--model", help="model name (default: the provider's default model)")
    s.add_argument("--base-url", help="server base URL, as for `kairos stream --base-url`")
    s.add_argument(
        "--host", type=host, default="127.0.0.1", help="address to bind (default 127.0.0.1)"
    )
    s.add_argument("--port", type=port, default=0, help="port to bind (default 0: a free port)")
    s.set_defaults(timeout=None)


def _log(line: str) -> None:
    print(f"kairos web: {line}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        from ..web._app import chat_app
        from ..web._server import WebServer
    except ImportError as exc:
        missing = (exc.name or "starlette").split(".")[0]
        raise ConfigurationError(
            f"kairos web needs {missing}: pip install 'kairos-llm[web]'"
        ) from None
    name, why = pick_provider(args, os.environ)
    label = "offline demo: scripted replies, not a model" if name == OFFLINE else name
    if args.model and name != OFFLINE:
        label += f" · {args.model}"
    with sigterm_as_interrupt(), contextlib.ExitStack() as stack:
        app = None
        try:
            provider = stack.enter_context(open_provider(name, args))
            app = chat_app(provider, label=label, log=_log)
            server = stack.enter_context(WebServer(app, args.host, args.port))
            print(f"kairos web: provider {name} ({why})", flush=True)
            print(f"kairos web: chat at {server.url}", flush=True)
            print("kairos web: press Ctrl-C to stop", flush=True)
            server.wait()
        except KeyboardInterrupt:
            if app is not None:  # replies still streaming end now, saying why
                app.state.stop_streams("kairos web stopped")
    _log("stopped")
    return 0
