"""Pure retry rules: which failures may be retried, and how long to wait.

A request is retried only while nothing has reached the caller: connect errors and resets
before the response, 408/409/429/5xx/529, and in-band overload or rate-limit errors that arrive
before the first chunk. The server's ``Retry-After`` / ``retry-after-ms`` is honoured up to
``max_wait``; otherwise the wait is exponential backoff with full jitter.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from .errors import ConfigurationError, KairosError

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_wait: float = 20.0  # cap on a server-requested Retry-After

    def __post_init__(self) -> None:
        n = self.max_retries
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigurationError(f"max_retries must be an integer >= 0, not {n!r}")
        for name in ("base_delay", "max_delay", "max_wait"):
            value = getattr(self, name)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not (ok and math.isfinite(value) and value >= 0):
                raise ConfigurationError(
                    f"RetryPolicy.{name} must be a finite number of seconds >= 0, not {value!r}"
                )

    def should_retry(self, err: BaseException, attempt: int) -> bool:
        """``attempt`` counts retries already made (0 on the first failure)."""
        return attempt < self.max_retries and isinstance(err, KairosError) and err.retryable

    def delay(self, err: BaseException, attempt: int, rng: random.Random | None = None) -> float:
        asked = getattr(err, "retry_after", None)
        if isinstance(asked, int | float) and asked >= 0:
            return min(float(asked), self.max_wait)
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return (rng or random).uniform(ceiling / 2, ceiling)
