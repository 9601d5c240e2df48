"""What every subcommand shares about its arguments and its process: usage errors as one line,
argument types that refuse what kairos cannot use, and SIGTERM handled like Ctrl-C.

Exit statuses (README "The command line"): 0 success, 1 the provider or the stream failed, 2 bad
usage or configuration, 130 Ctrl-C, 143 SIGTERM, 141 stdout closed early (as for SIGPIPE).
"""

from __future__ import annotations

import argparse
import contextlib
import math
from typing import NoReturn

from .._signals import sigterm_raises

__all__ = [
    "OneLineParser",
    "Terminated",
    "UsageError",
    "host",
    "seconds",
    "sigterm_as_interrupt",
    "text",
]


class UsageError(Exception):
    """Bad usage, already worded as the one line to print (``kairos stream: error: ...``)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM: handled where Ctrl-C is (partial stats), with its own exit status."""


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line, raised as :class:`UsageError` for ``main`` to print (and, for
    ``kairos stream --json``, to report in the JSON object too); unknown arguments included."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


def text(value: str) -> str:
    """An argparse type: text JSON can carry (undecodable bytes in ``argv`` become lone
    surrogates, which no request body can hold)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise argparse.ArgumentTypeError(
            f"not valid text: undecodable bytes at position {exc.start} (expected UTF-8)"
        ) from None
    return value


def seconds(value: str) -> float:
    """An argparse type: a finite number of seconds greater than 0 (``0`` is not "the default")."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise argparse.ArgumentTypeError(
            f"must be a finite number of seconds greater than 0, not {value!r}"
        )
    return number


def host(value: str) -> str:
    """An argparse type: an address to bind. An empty one would mean every interface; say
    ``0.0.0.0`` (or ``::``) for that."""
    if not value.strip():
        raise argparse.ArgumentTypeError(
            "empty: it would listen on every interface; pass 0.0.0.0 (or ::) to mean that"
        )
    return value.strip()


def sigterm_as_interrupt() -> contextlib.AbstractContextManager[None]:
    """Raise :class:`Terminated` (a ``KeyboardInterrupt``) on SIGTERM while inside (main thread
    only: signal handlers can only be set there)."""
    return sigterm_raises(Terminated)
