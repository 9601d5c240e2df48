"""``kairos serve [SCRIPT] [--host H] [--port P] [--recorded DIR] [--strict]``: the emulator on
the command line (see :mod:`kairos.serve`). Registered by ``kairos.cli``; errors are one line,
exit 2."""

from __future__ import annotations

import argparse
from typing import Any

from ._args import host
from ._pick import port

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    from ..serve._routes import wire_titles

    s = sub.add_parser(
        "serve",
        help="run the offline provider emulator",
        description=(
            f"Serve {wire_titles()} on a loopback port (every preset's paths), answering "
            "from a YAML/JSON script or from recorded bodies, and print the base URL for each "
            "provider. Without a script or --recorded, answers with the offline demo's "
            "scripted replies. Ctrl-C stops it."
        ),
    )
    s.add_argument("script", nargs="?", help="a .yaml/.yml/.json script file")
    s.add_argument(
        "--host", type=host, default="127.0.0.1", help="address to bind (default 127.0.0.1)"
    )
    s.add_argument("--port", type=port, default=0, help="port to bind (default 0: a free port)")
    s.add_argument(
        "--recorded",
        metavar="DIR",
        help="without SCRIPT: replay every *.sse/*.ndjson/*.jsonl body under DIR in turn; "
        "with SCRIPT: the folder its 'recorded:' paths are relative to",
    )
    s.add_argument(
        "--strict",
        action="store_true",
        help="reject requests the real APIs reject (a tool-loop turn without its thinking "
        "block or reasoning_content, a part a wire cannot take...) with their error answers, "
        "and answer HTTP 400 where the script cannot answer faithfully (tool calls to a "
        "request that offers no tools)",
    )


def run(args: argparse.Namespace) -> int:
    from ..serve import serve  # ConfigurationError without the serve extra

    return serve(args.script, args.host, args.port, recorded=args.recorded, strict=args.strict)
