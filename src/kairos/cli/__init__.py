"""The ``kairos`` command line, built on the public API and the registry's rows.

Subcommands, one module each: ``stream`` (``_stream``), ``providers``, ``serve`` (``_serve``),
``web`` (``_web``), ``batch`` (``_batch``); ``_pick`` chooses the provider a command uses.
Exit codes: 0 success, 1 the provider or the stream failed, 2 bad usage or configuration, 130
interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import sys

import kairos
from kairos.providers import PRESETS

from . import _batch, _serve, _stream, _web

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kairos", description="Streaming-first LLM client.")
    sub = p.add_subparsers(dest="command", required=True)
    _stream.add_parser(sub)
    sub.add_parser("providers", help="list provider presets and their environment variables")
    _serve.add_parser(sub)
    _web.add_parser(sub)
    _batch.add_parser(sub)
    return p


def _providers() -> int:
    for p in PRESETS.values():
        keys = " or ".join(p.key_env) or "-"
        req = "" if p.key_required else " (optional)"
        url = p.base_url or (f"${p.base_url_env}{p.endpoint_path}" if p.endpoint_path else "")
        print(f"{p.name:18} {keys}{req:11} {url or '(base URL required)'}  {p.note}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "providers":
            return _providers()
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
    except KeyboardInterrupt:
        print("kairos: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
