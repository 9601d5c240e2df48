"""The batch limits on a simulated clock: rpm windows, tpm with corrections, the pool back-off.
(The same limits are checked from the server's side in ``test_batch_load.py``.)"""

from __future__ import annotations

import asyncio
import math

import pytest

from batch_server import max_in_window
from kairos.batch._limits import Grant, Limiter, Limits, Pacer


def _greedy(pacer: Pacer, n: int, tokens: int = 1, settle: int | None = None) -> list[float]:
    """Start ``n`` requests as early as the pacer allows; their start times."""
    now, starts = 0.0, []
    for _ in range(n):
        now += pacer.wait(now, tokens)
        grant = pacer.record(now, tokens)
        if settle is not None:
            pacer.settle(grant, settle)
        starts.append(now)
    return starts


@pytest.mark.parametrize("rpm", [1, 59, 60, 61, 100, 1000, 36_000])
def test_rpm_paces_evenly_within_both_windows(rpm: int) -> None:
    starts = _greedy(Pacer(Limits(rpm=rpm)), min(3 * rpm, 5000))
    assert max_in_window(starts, 1.0) <= math.ceil(rpm / 60)
    assert max_in_window(starts, 60.0) <= rpm
    assert starts[0] == 0.0 and starts[1] > 0  # no burst at start-up
    if len(starts) > rpm:  # and not much slower than asked (5 % headroom at most)
        assert starts[rpm] <= 60 * 1.06


@pytest.mark.parametrize(
    ("tpm", "faster"),
    [(600, True), (6000, False), (60_000, True), (600_000, True)],  # 6000: 1 s window binds
)
def test_tpm_windows_hold_and_corrections_free_room(tpm: int, faster: bool) -> None:
    est = 100
    starts = _greedy(Pacer(Limits(tpm=tpm)), 300, tokens=est)
    per_second = max(math.ceil(tpm / 60) // est, 1)
    assert max_in_window(starts, 1.0) <= per_second
    assert max_in_window(starts, 60.0) <= max(tpm // est, 1)
    # usage said each used 10 tokens, not 100: the same requests finish sooner, unless the 1 s
    # window (100 tokens at 6000 tpm) has no room for a new estimate either way
    corrected = _greedy(Pacer(Limits(tpm=tpm)), 300, tokens=est, settle=10)
    if faster:
        assert corrected[-1] < starts[-1] / 2
    else:
        assert corrected == pytest.approx(starts)


def test_a_request_larger_than_the_limit_starts_when_the_window_is_empty() -> None:
    pacer = Pacer(Limits(tpm=600))
    assert _greedy(pacer, 3, tokens=5000)[1] > 60.0  # it waits out the whole window, once


def test_one_back_off_for_the_pool_halves_the_window_once_per_round() -> None:
    clock = [100.0]
    limiter = Limiter(Limits(concurrency=16), clock=lambda: clock[0])

    async def scenario() -> None:
        grants = [await limiter.start() for _ in range(4)]  # 4 in flight, same epoch
        for g in grants:  # all four come back 429 with Retry-After 2
            assert await limiter.throttle(g, 2.0) == pytest.approx(2.0)
        assert limiter.cap == 8.0 and limiter.epoch == 1
        assert limiter.pause_until == pytest.approx(102.0)
        late = Grant(99, limiter.epoch, 0)
        assert await limiter.throttle(late, None) == pytest.approx(2.0)  # 0.5 s < pause
        assert limiter.cap == 4.0
        for _ in range(20):  # successes widen it again, to the configured concurrency
            await limiter.acquire()
            limiter.release_now(True)
        assert limiter.cap == 16.0

    asyncio.run(scenario())


def test_slots_wait_for_a_release_and_respect_a_narrowed_window() -> None:
    async def scenario() -> list[str]:
        limiter = Limiter(Limits(concurrency=2))
        log: list[str] = []

        async def worker(name: str, hold: float) -> None:
            await limiter.acquire()
            log.append(f"+{name}")
            await asyncio.sleep(hold)
            log.append(f"-{name}")
            limiter.release_now(True)

        await asyncio.gather(worker("a", 0.02), worker("b", 0.04), worker("c", 0.0))
        assert limiter.in_use == 0
        return log

    log = asyncio.run(scenario())
    assert log.index("+c") > log.index("-a")  # c waited for a slot
