"""What the benchmark scripts share to take a measurement in a fresh interpreter.

A script calls :func:`parse` for its command line: with ``--worker ARGS`` (JSON) it runs the
measurement in this process and prints its result as JSON. :func:`run` starts such a worker.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def parse(ap: argparse.ArgumentParser, worker: Callable[..., Any]) -> argparse.Namespace | None:
    """The parsed command line, or None once ``--worker ARGS`` ran ``worker(*ARGS)`` here."""
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(worker(*json.loads(a.worker))))
        return None
    return a


def run(script: Path, args: list[Any], timeout: float, env: dict[str, str] | None = None) -> Any:
    """``script --worker ARGS`` in a fresh interpreter: its JSON result. A worker that fails
    raises RuntimeError with the end of its stderr."""
    cmd = [sys.executable, str(script), "--worker", json.dumps(args)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError(" ".join((out.stderr or "no output").split())[-200:]) from None
