"""The shared rate limiter on its own: pauses, the user's cap, learning the API's limit.

Most tests run one thread against a fake clock whose sleep moves time forward, so "workers"
are successive acquire() calls and nothing really waits. The thread-safety tests use real
threads, the real monotonic clock and intervals of a millisecond or less.
"""

from __future__ import annotations

import itertools
import math
import random
import threading
import time
from collections.abc import Callable

import pytest

from vcctl.http import limiter as limiter_module
from vcctl.http.answer_log import RUN, WINDOW
from vcctl.http.limiter import (
    BACKOFF_BASE,
    HOLD_SECONDS,
    PAUSE_CAP,
    PROBE_STEP,
    RATE_LIMIT_BUDGET,
    SETTLE,
    RateLimiter,
    RateLimiterClosed,
)


class FakeClock:
    """Time that only moves when someone sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.slept.append(seconds)
        self.now += seconds


def limiter(
    clock: FakeClock, cap: float | None = None, notice: Callable[[str], None] | None = None
) -> RateLimiter:
    return RateLimiter(cap, clock=clock, sleep=clock.sleep, rng=random.Random(7), notice=notice)


def run_at(limit: RateLimiter, clock: FakeClock, per_second: float, seconds: float) -> list[float]:
    """Successful sends at `per_second` (or slower, if the limiter says so) for `seconds`."""
    sent = []
    end = clock.now + seconds
    while clock.now < end:
        at = limit.acquire()
        sent.append(at)
        limit.on_success(sent_at=at)
        clock.now = max(clock.now, at + 1 / per_second)
    return sent


def fill_window(limit: RateLimiter, clock: FakeClock, accepted: int, retry_after: float) -> float:
    """`accepted` requests get through in a burst, the next ones (a run of RUN, in flight
    together, as a full window refuses them) are answered 429; the pause they ask for."""
    for _ in range(accepted):
        limit.on_success(sent_at=limit.acquire())
        clock.now += 0.001
    refused = [limit.acquire() for _ in range(RUN)]
    return max(limit.on_rate_limited(retry_after, sent_at=sent_at) for sent_at in refused)


def hit_limit(limit: RateLimiter, clock: FakeClock, accepted: int, retry_after: float) -> float:
    """A full window twice, a window apart. The first time only pauses the limiter (one
    window's 429s could be of a share refused whatever the rate); the second, refused at the
    same count, shows a window limit."""
    fill_window(limit, clock, accepted, retry_after)
    clock.now += WINDOW
    return fill_window(limit, clock, accepted, retry_after)


def test_unlimited_until_the_api_pushes_back() -> None:
    clock = FakeClock()
    limit = limiter(clock)
    for _ in range(1000):
        limit.acquire()
        limit.on_success()
    assert clock.slept == []
    assert limit.rate is None
    assert limit.status() is None
    assert limit.waited == 0


@pytest.mark.parametrize("cap", [0.5, 3.0, 20.0, 250.0])
def test_the_cap_is_never_exceeded_not_even_in_a_burst(cap: float) -> None:
    clock = FakeClock()
    limit = limiter(clock, cap)
    sent = [limit.acquire() for _ in range(60)]
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) == pytest.approx(1 / cap)
    # In every one-second window (half open), at most `cap` sends, rounded up.
    for start in sent:
        assert sum(1 for t in sent if start <= t < start + 1 - 1e-9) <= math.ceil(cap)
    assert limit.status() is None  # the user's own cap is no news


def test_the_cap_after_idle_time_gives_no_burst() -> None:
    clock = FakeClock()
    limit = limiter(clock, 2.0)
    limit.acquire()
    clock.now += 60  # a long idle spell must not save up tokens
    first, second = limit.acquire(), limit.acquire()
    assert second - first == pytest.approx(0.5)


def test_a_429_pauses_every_worker_for_its_retry_after() -> None:
    clock = FakeClock()
    limit = limiter(clock)
    in_flight = [limit.acquire() for _ in range(8)]  # eight workers sent at once
    clock.now += 0.01
    answered_at = clock.now
    assert limit.on_rate_limited(2.0, sent_at=in_flight[0]) == pytest.approx(2.0)
    for sent_at in in_flight[1:]:
        limit.on_rate_limited(2.0, sent_at=sent_at)
    assert limit.paused
    # Whoever asks next, in whatever order, sends no earlier than 2 s after the 429.
    after = [limit.acquire() for _ in range(8)]
    assert min(after) >= answered_at + 2.0
    assert limit.waited == pytest.approx(2.0)


def test_a_pause_that_begins_while_a_worker_waits_for_its_turn_holds_it_too() -> None:
    clock = FakeClock()

    def meanwhile(seconds: float) -> None:
        if not clock.slept:  # another worker's 429 arrives during this worker's first wait
            clock.now += 0.2
            limit.on_rate_limited(3.0, sent_at=first)
            seconds -= 0.2
        clock.sleep(seconds)

    limit = RateLimiter(2.0, clock=clock, sleep=meanwhile)
    first = limit.acquire()
    assert limit.acquire() >= first + 0.2 + 3.0


def test_late_429s_lengthen_the_pause_but_lower_the_rate_once() -> None:
    clock = FakeClock()
    limit = limiter(clock)
    in_flight = [limit.acquire() for _ in range(8)]
    for _ in range(20):
        limit.on_success()
    clock.now += 0.01
    limit.on_rate_limited(1.0, sent_at=in_flight[0])
    rate = limit.rate
    clock.now += 0.3
    assert limit.on_rate_limited(1.0, sent_at=in_flight[1]) == pytest.approx(1.0)
    assert limit.rate == rate
    clock.now += 0.3
    assert limit.on_rate_limited(1.0) == pytest.approx(1.0)  # no sent_at: inside the pause
    assert limit.rate == rate
    assert limit.waited == pytest.approx(1.6)
    assert limit.rate_limited_count == 3


def test_after_a_429_it_settles_just_under_what_the_window_let_through() -> None:
    clock = FakeClock()
    limit = limiter(clock)
    hit_limit(limit, clock, accepted=20, retry_after=1.0)
    answered_at = clock.now
    assert limit.rate == pytest.approx(SETTLE * 20)
    assert limit.status() == "rate limited — waiting 1 s, sending at ~19/s"
    sent = [limit.acquire() for _ in range(40)]
    assert sent[0] == pytest.approx(answered_at + 1.0)
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(sent)}
    assert gaps == {round(1 / (SETTLE * 20), 9)}
    assert limit.status() == "rate limited — sending at ~19/s"


def test_answers_counted_after_the_429_still_teach_the_limit() -> None:
    clock = FakeClock()
    limit = limiter(clock)
    fill_window(limit, clock, accepted=5, retry_after=1.0)  # a window earlier: the same limit
    clock.now += WINDOW + 1.0
    # 5 get through, the rest are answered 429
    burst = [limit.acquire() for _ in range(5 + RUN)]
    clock.now += 0.01
    limit.on_success(sent_at=burst[0])
    for sent_at in burst[5:]:  # these 429s overtook four successes
        limit.on_rate_limited(1.0, sent_at=sent_at)
    assert limit.rate == pytest.approx(SETTLE * 1)
    for sent_at in burst[1:5]:
        limit.on_success(sent_at=sent_at)
    assert limit.rate == pytest.approx(SETTLE * 5)
    assert limit.status() == "rate limited — waiting 1 s, sending at ~4.8/s"


def test_it_holds_the_learned_rate_then_probes_upward_until_the_next_429() -> None:
    clock = FakeClock()
    limit = limiter(clock)
    pause = hit_limit(limit, clock, accepted=20, retry_after=1.0)
    hold_ends = clock.now + pause + HOLD_SECONDS
    settled = limit.rate
    assert settled is not None
    run_at(limit, clock, per_second=100, seconds=HOLD_SECONDS)
    assert limit.rate == pytest.approx(settled)  # held: no increase yet
    clock.now = hold_ends
    run_at(limit, clock, per_second=100, seconds=10)
    probed = limit.rate
    assert probed is not None
    # About PROBE_STEP x 20 more each second of success.
    assert probed - settled == pytest.approx(PROBE_STEP * 20 * 10, rel=0.1)
    # The next 429 measures again and settles under what the last second let through.
    sent = run_at(limit, clock, per_second=100, seconds=1.0)
    got_through = sum(1 for t in sent if t > clock.now - 1)
    assert got_through > 20
    limit.on_rate_limited(1.0, sent_at=limit.acquire())
    assert limit.rate == pytest.approx(SETTLE * got_through)


def run_with_refused_share(
    limit: RateLimiter, clock: FakeClock, per_second: float, requests: int, every: int
) -> None:
    """Requests at `per_second` (or slower if the limiter says so); every `every`-th one is
    answered 429 with Retry-After 0, whatever the rate, as a quota shared with others does."""
    for n in range(requests):
        at = limit.acquire()
        if n % every == every - 1:
            limit.on_rate_limited(0.0, sent_at=at)
        else:
            limit.on_success(sent_at=at)
        clock.now = max(clock.now, at + 1 / per_second)


def test_a_share_refused_whatever_the_rate_never_lowers_it() -> None:
    clock = FakeClock()
    limit = limiter(clock)
    run_with_refused_share(limit, clock, per_second=200, requests=3000, every=6)
    assert limit.rate is None
    assert limit.rate_limited_count == 500
    assert limit.share_refused_count == 500


def test_after_a_limit_is_learned_a_share_refused_whatever_the_rate_is_no_ratchet() -> None:
    clock = FakeClock()
    limit = limiter(clock)
    hit_limit(limit, clock, accepted=20, retry_after=1.0)
    settled = limit.rate
    assert settled == pytest.approx(SETTLE * 20)
    # Sending at the settled pace, one refusal in six: the window was never full, so the pace
    # stays (it used to fall by 5% at each one: 0.95^50 of it after 300 requests).
    run_with_refused_share(limit, clock, per_second=1000, requests=300, every=6)
    assert limit.rate == pytest.approx(settled)


def test_long_success_ends_the_throttling() -> None:
    clock = FakeClock()
    limit = limiter(clock)
    hit_limit(limit, clock, accepted=10, retry_after=1.0)
    run_at(limit, clock, per_second=1000, seconds=HOLD_SECONDS + 1 / PROBE_STEP * 1.2)
    assert limit.rate is None
    assert limit.status() is None


def test_a_429_with_nothing_let_through_halves_and_grows_back() -> None:
    clock = FakeClock()
    limit = limiter(clock)
    for _ in range(2):  # nothing gets through, a window apart
        in_flight = [limit.acquire() for _ in range(RUN)]
        clock.now += 0.01
        for sent_at in in_flight:
            limit.on_rate_limited(1.0, sent_at=sent_at)
        clock.now += WINDOW
    assert limit.rate == pytest.approx(limiter_module.FALLBACK_RATE)
    clock.now += 5
    in_flight = [limit.acquire() for _ in range(RUN)]  # still nothing: halved again
    clock.now += 0.01
    for sent_at in in_flight:
        limit.on_rate_limited(1.0, sent_at=sent_at)
    assert limit.rate == pytest.approx(limiter_module.FALLBACK_RATE / 2)
    run_at(limit, clock, per_second=100, seconds=60)
    rate = limit.rate
    assert rate is not None
    assert rate > limiter_module.FALLBACK_RATE / 2  # no hold when nothing was learned


def test_the_learned_rate_never_exceeds_the_cap() -> None:
    clock = FakeClock()
    limit = limiter(clock, 10.0)
    limit.set_cap(None)
    hit_limit(limit, clock, accepted=20, retry_after=1.0)
    limit.set_cap(10.0)
    assert limit.rate == 10.0
    run_at(limit, clock, per_second=100, seconds=HOLD_SECONDS + 30)
    assert limit.rate == 10.0


def test_without_retry_after_the_pause_backs_off_exponentially() -> None:
    clock = FakeClock()
    limit = limiter(clock)
    pauses = []
    for _ in range(4):
        pauses.append(limit.on_rate_limited(None, sent_at=limit.acquire()))
    for n, pause in enumerate(pauses):
        ceiling = BACKOFF_BASE * 2**n
        assert ceiling / 2 <= pause <= ceiling
    limit.on_success()
    clock.now += 100
    assert limit.on_rate_limited(None, sent_at=limit.acquire()) <= BACKOFF_BASE


def test_a_pause_is_capped() -> None:
    clock = FakeClock()
    limit = limiter(clock)
    assert limit.on_rate_limited(86400.0) == PAUSE_CAP
    assert limit.on_rate_limited(float("nan")) <= PAUSE_CAP


def test_each_request_may_wait_on_429s_within_its_budget() -> None:
    clock = FakeClock()
    limit = limiter(clock)
    budget = limit.budget()
    assert budget.spent == 0
    waits = 0
    while budget.allows(limit.on_rate_limited(10.0, sent_at=limit.acquire())):
        waits += 1
    assert waits == RATE_LIMIT_BUDGET // 10
    assert budget.spent <= RATE_LIMIT_BUDGET
    assert limit.budget().allows(10.0)  # a new request starts a new budget


def test_one_notice_per_wait() -> None:
    clock = FakeClock()
    notices: list[str] = []
    limit = limiter(clock, notice=notices.append)
    in_flight = [limit.acquire() for _ in range(RUN)]
    clock.now += 0.01
    for sent_at in in_flight:
        limit.on_rate_limited(2.0, sent_at=sent_at)
    assert notices == ["rate limited — waiting 2 s"]  # no rate learned from one window
    limit.on_rate_limited(0.2, sent_at=limit.acquire())  # too short to mention
    limit.set_notice(None)  # a progress display takes over
    limit.on_rate_limited(5.0, sent_at=limit.acquire())
    assert len(notices) == 1


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_a_cap_must_be_a_positive_rate(bad: float) -> None:
    with pytest.raises(ValueError, match="above 0"):
        RateLimiter(bad)
    with pytest.raises(ValueError, match="above 0"):
        RateLimiter().set_cap(bad)


def test_one_limiter_per_process_and_a_fresh_one_per_run() -> None:
    first = limiter_module.process_limiter()
    assert limiter_module.process_limiter() is first
    fresh = limiter_module.reset_process_limiter(5.0)
    assert fresh is not first
    assert limiter_module.process_limiter() is fresh
    assert fresh.rate == 5.0
    with pytest.raises(RateLimiterClosed):
        first.acquire()  # the old run's waiting workers are released
    limiter_module.reset_process_limiter()


# -- real threads ---------------------------------------------------------------------------------


def test_threads_share_one_schedule() -> None:
    rate = 4000.0
    limit = RateLimiter(rate)
    slots: list[float] = []
    slots_lock = threading.Lock()
    start = threading.Barrier(4)

    def worker() -> None:
        start.wait()
        for _ in range(100):
            at = limit.acquire()
            with slots_lock:
                slots.append(at)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(slots) == 400
    ordered = sorted(slots)
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    assert min(gaps) >= 1 / rate - 1e-9  # no two workers were given the same turn
    assert time.monotonic() - began >= 0.99 * 399 / rate


def test_threads_waiting_in_a_pause_are_all_held_then_released_by_close() -> None:
    limit = RateLimiter()
    limit.on_rate_limited(PAUSE_CAP)
    outcomes: list[str] = []
    waiting = threading.Barrier(4)

    def worker() -> None:
        waiting.wait()
        try:
            limit.acquire()
            outcomes.append("sent")
        except RateLimiterClosed:
            outcomes.append("closed")

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    waiting.wait()
    limit.close()
    for thread in threads:
        thread.join(timeout=10)
    assert outcomes == ["closed"] * 3


def test_threads_resume_after_a_short_real_pause() -> None:
    limit = RateLimiter()
    for _ in range(50):
        limit.on_success()
    resume = time.monotonic()
    limit.on_rate_limited(0.05)
    sent: list[float] = []

    def worker() -> None:
        for _ in range(3):
            sent.append(limit.acquire())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sent) == 12
    assert min(sent) >= resume + 0.05
    assert time.monotonic() >= resume + 0.05
