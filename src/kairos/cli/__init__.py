"""The ``kairos`` command line, built on the public API and the registry's rows.

Subcommands, one module each: ``stream`` (``_stream``), ``providers``, ``serve`` (``_serve``),
``web`` (``_web``), ``batch`` (``_batch``); ``_pick`` chooses the provider a command uses,
``_args`` holds what they share. Every failure is one line on stderr, never a traceback. Exit
codes: 0 success, 1 the provider or the stream failed, 2 bad usage or configuration, 130
interrupted (Ctrl-C), 143 terminated (SIGTERM), 141 stdout closed early (``kairos stream ... |
head``, as for SIGPIPE).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, TextIO

import kairos
from kairos.providers import PRESETS

from . import _batch, _serve, _stream, _web
from ._args import OneLineParser, Terminated, UsageError

__all__ = ["main"]


def _parser() -> OneLineParser:
    p = OneLineParser(prog="kairos", description="Streaming-first LLM client.")
    sub = p.add_subparsers(dest="command", required=True)
    _stream.add_parser(sub)
    sub.add_parser("providers", help="list provider presets and their environment variables")
    _serve.add_parser(sub)
    _web.add_parser(sub)
    _batch.add_parser(sub)
    return p


def _providers(out: TextIO) -> int:
    """The presets as an aligned table."""
    rows = [("PROVIDER", "API KEY", "BASE URL", "NOTE")]
    for p in PRESETS.values():
        keys = " or ".join(p.key_env) or "-"
        optional = " (optional)" if p.key_env and not p.key_required else ""
        url = p.base_url or (f"${p.base_url_env}{p.endpoint_path}" if p.endpoint_path else "")
        rows.append((p.name, keys + optional, url or "(base URL required)", p.note))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[3]]).rstrip(), file=out)
    return 0


def _degrade(stream: Any) -> None:
    """Text the terminal's encoding cannot show becomes ``?`` instead of an error."""
    with contextlib.suppress(AttributeError, ValueError):
        stream.reconfigure(errors="replace")


def _quiet_stdout() -> None:
    """stdout was closed by its reader: send what is left (and Python's final flush) nowhere."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _degrade(sys.stdout)
    try:
        return _main(argv)
    except BrokenPipeError:
        _quiet_stdout()
        return 141


def _main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        if argv[:1] == ["stream"] and "--json" in argv:
            _stream.print_json_error(kairos.ConfigurationError(str(exc)), sys.stdout)
        return 2
    try:
        if args.command == "providers":
            return _providers(sys.stdout)
        if args.command == "serve":
            return _serve.run(args)
        if args.command == "web":
            return _web.run(args)
        if args.command == "batch":
            return _batch.run(args)
        return _stream.run(args, os.environ)
    except kairos.ConfigurationError as exc:
        print(f"kairos: error: {exc}", file=sys.stderr)
        return 2
    except kairos.KairosError as exc:
        print(f"kairos: error: {exc}", file=sys.stderr)
        return 1
    except Terminated:
        print("kairos: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("kairos: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
