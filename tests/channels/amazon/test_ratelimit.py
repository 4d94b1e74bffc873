"""Token buckets: what the connector waits for and what it refuses to wait for."""

from __future__ import annotations

import pytest

from channels.amazon.ratelimit import TokenBucket, UsagePlans, plan_of, shared_plans


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_burst_then_the_rate():
    clock = Clock()
    bucket = TokenBucket(0.5, 3, clock=clock)

    assert [bucket.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_take() == pytest.approx(2.0)  # nothing taken; one refills in 2 s
    clock.now += 1.0
    assert bucket.try_take() == pytest.approx(1.0)


def test_take_waits_within_what_it_may_and_no_longer():
    clock = Clock()
    bucket = TokenBucket(0.5, 1, clock=clock)
    bucket.try_take()

    assert bucket.take(5.0, sleep=clock.sleep) == 0.0
    assert clock.slept == [pytest.approx(2.0)]
    assert bucket.take(1.0, sleep=clock.sleep) == pytest.approx(2.0)  # would wait 2 s: told, not taken
    assert clock.slept == [pytest.approx(2.0)]


def test_the_rate_amazon_gives_is_adopted():
    clock = Clock()
    bucket = TokenBucket(0.0167, 1, clock=clock)
    bucket.try_take()
    bucket.adopt(2.0)

    assert bucket.try_take() == pytest.approx(0.5)
    bucket.adopt(0)  # an unreadable or zero rate changes nothing
    assert bucket.rate == 2.0


def test_documented_plans_and_shared_buckets():
    assert plan_of("getOrders") == (0.0167, 20)
    assert plan_of("getOrderItems") == (0.5, 30)
    assert plan_of("confirmDeliveryDetails") == (1.0, 5)  # every Messaging API operation
    assert UsagePlans({"getOrders": (9.0, 9)}).bucket("getOrders").rate == 9.0
    assert shared_plans("https://h", "a") is shared_plans("https://h", "a")
    assert shared_plans("https://h", "a") is not shared_plans("https://h", "b")
