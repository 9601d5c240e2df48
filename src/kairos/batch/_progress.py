"""Batch counters, the progress line on stderr, and the final summary.

Counters take constant memory: time-to-first-chunk percentiles come from a log-scale histogram
(buckets 2 % wide), not from a list of every value. The progress line is redrawn in place on a
terminal (``\\r``) at most twice a second, or printed as a plain line every 5 s when stderr is
not a terminal and progress was asked for.
"""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["Progress", "Stats", "Summary"]

_RATIO = 1.02  # histogram bucket width
_LOG = math.log(_RATIO)


@dataclass
class Summary:
    """What a batch run did (returned by :func:`kairos.batch.run` / ``arun``)."""

    ok: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # failures by error type
    skipped: int = 0  # already in the output (resume)
    tokens_in: int = 0
    tokens_out: int = 0
    attempts: int = 0
    pauses: int = 0  # pool-wide back-offs (rate limit / overload)
    wall: float = 0.0
    ttft_p50: float | None = None  # seconds
    ttft_p95: float | None = None
    interrupted: bool = False

    @property
    def done(self) -> int:
        return self.ok + self.failed

    def render(self) -> str:
        """The summary as printed on stderr at the end of ``kairos batch``."""
        return render_summary(self)


class Stats:
    def __init__(self, total: int | None = None) -> None:
        self.total = total  # lines to run, when known (for the ETA)
        self.started = time.monotonic()
        self.ok = 0
        self.failed = 0
        self.skipped = 0
        self.in_flight = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.attempts = 0
        self.errors: Counter[str] = Counter()
        self.last_error: str | None = None
        self._ttft: Counter[int] = Counter()

    def add(self, line: dict[str, Any]) -> None:
        err = line["error"]
        if err is None:
            self.ok += 1
        else:
            self.failed += 1
            self.errors[err["type"]] += 1
            self.last_error = err["type"]
        usage = line["usage"]
        if usage is not None:
            self.tokens_in += usage["prompt_tokens"]
            self.tokens_out += usage["completion_tokens"]
        stats = line["stats"]
        self.attempts += stats["attempts"]
        ttft = stats["ttft_ms"]
        if ttft is not None and ttft > 0:
            self._ttft[math.floor(math.log(ttft) / _LOG)] += 1

    def percentile(self, q: float) -> float | None:
        """The q-quantile of time to first chunk, in seconds (within 2 %)."""
        n = sum(self._ttft.values())
        if not n:
            return None
        rank = q * (n - 1)
        seen = 0
        for bucket in sorted(self._ttft):
            seen += self._ttft[bucket]
            if seen > rank:
                return float(_RATIO ** (bucket + 0.5)) / 1000
        return None

    def summary(self, pauses: int, interrupted: bool) -> Summary:
        return Summary(
            ok=self.ok,
            failed=self.failed,
            errors=dict(self.errors.most_common()),
            skipped=self.skipped,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            attempts=self.attempts,
            pauses=pauses,
            wall=time.monotonic() - self.started,
            ttft_p50=self.percentile(0.5),
            ttft_p95=self.percentile(0.95),
            interrupted=interrupted,
        )


def _dur(seconds: float) -> str:
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


class Progress:
    """Draws :class:`Stats` on stderr; ``enabled=None`` means "when stderr is a terminal"."""

    def __init__(self, stats: Stats, enabled: bool | None, out: TextIO | None = None) -> None:
        self.stats = stats
        self.out = out if out is not None else sys.stderr
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())
        self.enabled = self.tty if enabled is None else enabled
        self._every = 0.5 if self.tty else 5.0
        self._last = 0.0
        self._drawn = False

    def line(self) -> str:
        s = self.stats
        wall = max(time.monotonic() - s.started, 1e-9)
        done = s.ok + s.failed
        parts = [f"{done:,} done", f"{s.failed:,} failed", f"{s.in_flight} in flight"]
        if s.skipped:
            parts.append(f"{s.skipped:,} skipped")
        parts.append(f"{done / wall:.1f} req/s")
        parts.append(f"{(s.tokens_in + s.tokens_out) / wall:,.0f} tok/s")
        if s.total is not None and done:
            left = max(s.total - done - s.skipped, 0)
            parts.append(f"ETA {_dur(left * wall / done)}")
        if s.last_error:
            parts.append(f"last error {s.last_error}")
        return "kairos batch: " + " | ".join(parts)

    def tick(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self._every:
            return
        self._last = now
        if self.tty:
            self.out.write("\r\x1b[2K" + self.line())
            self._drawn = True
        else:
            self.out.write(self.line() + "\n")
        self.out.flush()

    def finish(self, summary: Summary, show: bool) -> None:
        if self._drawn:
            self.out.write("\r\x1b[2K")
        if show:
            self.out.write(summary.render())
        self.out.flush()


def render_summary(s: Summary) -> str:
    head = "interrupted" if s.interrupted else "finished"
    lines = [f"kairos batch {head}: {s.ok:,} ok, {s.failed:,} failed"]
    if s.skipped:
        lines[0] += f", {s.skipped:,} already done (skipped)"
    for kind, n in s.errors.items():
        lines.append(f"  {kind}: {n:,}")
    lines.append(f"  tokens in/out: {s.tokens_in:,} / {s.tokens_out:,}")
    lines.append(f"  attempts: {s.attempts:,}; pool back-offs: {s.pauses}")
    lines.append(f"  wall time: {s.wall:.1f} s; TTFT p50 {_ms(s.ttft_p50)}, p95 {_ms(s.ttft_p95)}")
    return "\n".join(lines) + "\n"
