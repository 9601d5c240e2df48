"""Where the recorded conformance cases live: next to each wire's tests.

``tests/providers/<wire>/fixtures/<format>/<case>/`` holds ``response.sse`` or
``response.ndjson`` and ``case.json`` (copied from the shared corpus; each names its public
source). A format is the corpus' folder name: a wire, or a provider filed under a wire
(``dashscope`` under ``openai-chat``).
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).parent


def conformance(fmt: str) -> Path:
    """The folder of one format's cases."""
    found = sorted(TESTS.glob(f"providers/*/fixtures/{fmt}"))
    if len(found) != 1:
        raise LookupError(f"no single fixtures folder for format {fmt!r}: {found}")
    return found[0]


def all_bodies(suffix: str = "*") -> list[Path]:
    """Every recorded body (``suffix``: ``sse``, ``ndjson`` or ``*``), sorted."""
    return sorted(TESTS.glob(f"providers/*/fixtures/*/*/response.{suffix}"))
