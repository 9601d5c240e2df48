"""``kairos batch INPUT.jsonl -o OUTPUT.jsonl``: many prompts with shared limits and resume
(see :mod:`kairos.batch` and the README, "Batch jobs"). Registered by ``kairos.cli``.

Exit codes: 0 every line succeeded (or was already done), 1 some lines failed (their output
lines say why), 2 bad usage or configuration (nothing was sent), 130 interrupted (the output
is resumable with ``--resume``). Nothing goes to stdout except the results of ``-o -``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

from ._pick import AUTO_ORDER, any_server

__all__ = ["add_parser", "run"]

_DESCRIPTION = """\
Run every request of INPUT (JSONL, one request a line) and write one result line per id
to OUTPUT as each finishes. Limits are shared by the whole pool: --concurrency streams in
flight; --rpm/--tpm paced evenly (at most ceil(N/60) starts in any second, N in any minute);
one back-off for everyone on a 429/529/overload (Retry-After honoured), then a ramp back up.
Retries happen only before the first chunk, --max-attempts per id. The output is
append-only: --resume skips the ids it already holds, even after kill -9. Ctrl-C stops
admitting, lets requests in flight finish (up to --grace s), and exits 130.
--engine ray runs the same job on a Ray cluster (pip install 'kairos-llm[ray]').
"""

_EPILOG = """\
input line:  {"id": "q1", "prompt": "...", "system": "...", "model": "...", "max_tokens": 50,
              "temperature": 0.2, "tools": [...]}
         or  {"id": 2, "messages": [{"role": "user", "content": "..."}]}
output line: {"id", "content", "reasoning", "tool_calls", "usage", "finish_reason",
              "error": null | {"type", "message"}, "stats": {"ttft_ms", "total_ms", "attempts"}}

exit status: 0 all lines succeeded, 1 some lines failed, 2 usage or configuration error,
130 interrupted (Ctrl-C; continue with --resume).
"""


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
        return value

    return parse


def add_parser(sub: Any) -> None:
    from ..providers import PRESETS

    s = sub.add_parser(
        "batch",
        help="run a JSONL file of requests with shared limits, resume and progress",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("input", metavar="INPUT.jsonl", help="the requests, one JSON object a line")
    s.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTPUT.jsonl",
        help="results file, or - for stdout",
    )
    s.add_argument(
        "--provider", choices=list(PRESETS), metavar="P", help="provider (see kairos providers)"
    )
    s.add_argument("--model", metavar="M", help="default model (a line's own model wins)")
    s.add_argument("--base-url", metavar="URL", help="server base URL, as for kairos stream")
    _limit_args(s)
    _run_args(s)


def _limit_args(s: Any) -> None:
    """What bounds the run: clocks, concurrency, rates, attempts."""
    s.add_argument(
        "--timeout",
        type=_positive(float),
        metavar="S",
        help="seconds to wait for the first chunk and between chunks",
    )
    s.add_argument(
        "--concurrency",
        type=_positive(int),
        default=16,
        metavar="N",
        help="requests in flight (default 16)",
    )
    s.add_argument(
        "--rpm", type=_positive(int), metavar="N", help="requests per minute, paced evenly"
    )
    s.add_argument(
        "--tpm", type=_positive(int), metavar="N", help="tokens per minute (estimated, corrected)"
    )
    s.add_argument(
        "--max-attempts",
        type=_positive(int),
        default=3,
        metavar="N",
        help="attempts per id (default 3)",
    )


def _run_args(s: Any) -> None:
    """How the run goes: resume, progress, durability, Ctrl-C, engine."""
    s.add_argument("--resume", action="store_true", help="continue OUTPUT, skipping done ids")
    s.add_argument(
        "--retry-failed", action="store_true", help="also run failed ids again (implies --resume)"
    )
    s.add_argument("--progress", action="store_true", help="show progress even when not a tty")
    s.add_argument("--fsync", action="store_true", help="fsync after each line (power-loss safe)")
    s.add_argument(
        "--grace",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds in-flight requests may finish after Ctrl-C (default 10)",
    )
    s.add_argument(
        "--engine", choices=["local", "ray"], default="local", help="where to run (default local)"
    )
    s.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="Ray cluster to use (default: RAY_ADDRESS, else local)",
    )


def _pick(args: argparse.Namespace, env: Mapping[str, str]) -> str:
    from ..errors import ConfigurationError
    from ..providers import PRESETS

    if args.provider:
        return str(args.provider)
    if args.base_url:
        return any_server().name
    for name in AUTO_ORDER:
        if any(env.get(var) for var in PRESETS[name].key_env):
            return name
    raise ConfigurationError("no provider: pass --provider (or --base-url), or set an API key")


async def _main(args: argparse.Namespace, provider: str) -> int:
    from .. import batch

    stop, abort = asyncio.Event(), asyncio.Event()

    def on_sigint() -> None:
        if stop.is_set():
            abort.set()
            return
        stop.set()
        print(
            f"\nkairos batch: stopping; requests in flight may finish for {args.grace:g} s "
            "(Ctrl-C again to cancel them)",
            file=sys.stderr,
        )

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, on_sigint)
    summary = await batch.arun(
        args.input,
        args.output,
        provider=provider,
        model=args.model,
        base_url=args.base_url,
        timeout=args.timeout,
        concurrency=args.concurrency,
        rpm=args.rpm,
        tpm=args.tpm,
        max_attempts=args.max_attempts,
        grace=args.grace,
        engine=args.engine,
        ray_address=args.ray_address,
        resume=args.resume or args.retry_failed,
        retry_failed=args.retry_failed,
        fsync=args.fsync,
        progress=True if args.progress else None,
        stop=stop,
        abort=abort,
    )
    if not (args.progress or sys.stderr.isatty()):
        sys.stderr.write(summary.render())
    if summary.interrupted:
        return 130
    return 1 if summary.failed else 0


def run(args: argparse.Namespace) -> int:
    provider = _pick(args, os.environ)
    return asyncio.run(_main(args, provider))
