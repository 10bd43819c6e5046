"""The sliding-window rate limiter: limits per key, the window sliding, refused attempts not
counted, bounded memory and thread safety (a fake clock, no sleeping)."""

from __future__ import annotations

import threading

import pytest

from clusteratlas.collaboration.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_allows_attempts_up_to_the_limit_then_refuses_with_the_wait(clock):
    limiter = RateLimiter(attempts=3, window=60, clock=clock)

    allowed = []
    for _ in range(3):
        allowed.append(limiter.hit(["ip:1"]))
        clock.now += 10
    refused = limiter.hit(["ip:1"])

    assert allowed == [None, None, None]
    assert refused == pytest.approx(30.0)  # the first hit (t=1000) leaves the window at 1060
    assert limiter.retry_after(["ip:1"]) == 30


def test_window_slides_one_attempt_at_a_time(clock):
    limiter = RateLimiter(attempts=2, window=60, clock=clock)
    limiter.hit(["k"])
    clock.now += 30
    limiter.hit(["k"])
    clock.now += 31  # the first hit is now older than the window, the second is not

    first = limiter.hit(["k"])
    second = limiter.hit(["k"])

    assert first is None
    assert second == pytest.approx(29.0)


def test_refused_attempt_is_not_counted(clock):
    limiter = RateLimiter(attempts=1, window=60, clock=clock)
    limiter.hit(["k"])
    for _ in range(50):
        clock.now += 1
        assert limiter.hit(["k"]) is not None
    clock.now = 1060.0

    assert limiter.hit(["k"]) is None


def test_any_full_key_refuses_and_then_counts_for_none(clock):
    limiter = RateLimiter(attempts=2, window=60, clock=clock)
    limiter.hit(["email:ana"])
    limiter.hit(["email:ana"])

    refused = limiter.hit(["ip:1", "email:ana"])
    other_email = [limiter.hit(["ip:1", "email:bo"]), limiter.hit(["ip:1", "email:cy"])]
    third_from_ip = limiter.hit(["ip:1", "email:di"])

    assert refused is not None
    assert other_email == [None, None]  # the refused attempt did not count for ip:1
    assert third_from_ip is not None


def test_keys_are_independent(clock):
    limiter = RateLimiter(attempts=1, window=60, clock=clock)

    assert [limiter.hit(["a"]), limiter.hit(["b"]), limiter.hit(["a"])] == [None, None, 60.0]


def test_duplicate_keys_in_one_attempt_count_once(clock):
    limiter = RateLimiter(attempts=2, window=60, clock=clock)

    assert limiter.hit(["k", "k"]) is None
    assert limiter.hit(["k"]) is None


def test_memory_is_bounded_and_least_recently_used_keys_go_first(clock):
    limiter = RateLimiter(attempts=1, window=60, clock=clock, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.hit([key])
    limiter.hit(["d"])  # "a" is forgotten

    assert len(limiter) == 3
    assert limiter.hit(["a"]) is None  # counted afresh: it had been dropped
    assert limiter.hit(["d"]) is not None


def test_expired_keys_are_dropped_when_looked_at(clock):
    limiter = RateLimiter(attempts=5, window=60, clock=clock)
    limiter.hit(["k"])
    clock.now += 61

    assert limiter.retry_after(["k"]) == 0
    assert len(limiter) == 0


def test_reset_forgets_keys(clock):
    limiter = RateLimiter(attempts=1, window=60, clock=clock)
    limiter.hit(["a"])
    limiter.hit(["b"])
    limiter.reset(["a"])

    assert limiter.hit(["a"]) is None
    assert limiter.hit(["b"]) is not None
    limiter.reset()
    assert len(limiter) == 0


@pytest.mark.parametrize(
    "kwargs", [{"attempts": 0, "window": 1}, {"attempts": 1, "window": 0}, {"max_keys": 0}]
)
def test_bad_parameters_are_refused(kwargs):
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(**({"attempts": 1, "window": 1} | kwargs))


def test_concurrent_attempts_never_exceed_the_limit(clock):
    limiter = RateLimiter(attempts=100, window=60, clock=clock)
    allowed: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(50):
            ok = limiter.hit(["shared"]) is None
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(allowed) == 400
    assert sum(allowed) == 100
