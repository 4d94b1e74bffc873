"""SP-API usage plans: a token bucket per operation and selling partner.

Amazon meters every operation separately (``getOrders`` refills one request
a minute, ``searchOrders`` one every three minutes, ``getOrderItems`` one
every two seconds…) and answers 429
``QuotaExceeded`` once a bucket is empty.  Waiting for the bucket ourselves is
cheaper than being refused, but a poll must never hold a worker for minutes:
callers say how long they may wait and get told how long it would take
instead when that is longer.

The defaults are the documented usage plans; ``x-amzn-RateLimit-Limit`` on a
response tells the rate Amazon really applies to this seller, and the bucket
adopts it.  The loopback fake meters with the same class.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: Orders API 2026-01-01 ``searchOrders``
SEARCH_ORDERS = "searchOrders"
#: Orders API 2026-01-01 ``getOrder``: named apart from v0's, whose bucket is Amazon's separate plan
GET_ORDER_2026 = "getOrder@2026-01-01"

#: operation → (requests per second, burst), as documented in the API models
USAGE_PLANS: dict[str, tuple[float, int]] = {
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
    SEARCH_ORDERS: (0.0056, 20),
    GET_ORDER_2026: (0.5, 30),
    "createRestrictedDataToken": (1.0, 10),
}
#: every Messaging API operation (listing actions, attributes, each message type)
MESSAGING_PLAN: tuple[float, int] = (1.0, 5)


def plan_of(operation: str) -> tuple[float, int]:
    return USAGE_PLANS.get(operation, MESSAGING_PLAN)


class TokenBucket:
    """``rate`` requests per second on average, up to ``burst`` at once."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def try_take(self) -> float:
        """Take a token: 0.0 when one was there, else the seconds until one will be (nothing taken)."""
        with self._lock:
            self._refill()
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate if self.rate > 0 else float("inf")

    def take(self, max_wait: float, sleep: Callable[[float], None] = time.sleep) -> float:
        """Take a token, sleeping up to ``max_wait`` seconds for it: 0.0 when taken, else the wait still needed."""
        while True:
            wait = self.try_take()
            if wait == 0.0:
                return 0.0
            if wait > max_wait:
                return wait
            sleep(wait)
            max_wait -= wait

    def adopt(self, rate: float) -> None:
        """Use the rate the platform says applies (``x-amzn-RateLimit-Limit``)."""
        if rate > 0:
            with self._lock:
                self._refill()
                self.rate = rate

    def drain(self) -> None:
        """Spend what the bucket holds (a test's way to start with an empty bucket)."""
        with self._lock:
            self._refill()
            self._tokens = 0.0


class UsagePlans:
    """The buckets of one selling partner, created on first use."""

    def __init__(self, plans: dict[str, tuple[float, int]] | None = None) -> None:
        self.plans = dict(plans or {})
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, operation: str) -> TokenBucket:
        with self._lock:
            found = self._buckets.get(operation)
            if found is None:
                rate, burst = self.plans.get(operation) or plan_of(operation)
                found = self._buckets[operation] = TokenBucket(rate, burst)
            return found


_SHARED: dict[tuple[str, str], UsagePlans] = {}
_SHARED_LOCK = threading.Lock()


def shared_plans(host: str, seller: str) -> UsagePlans:
    """The process-wide buckets of one seller on one host, so successive polls share what they spent."""
    with _SHARED_LOCK:
        plans = _SHARED.get((host, seller))
        if plans is None:
            plans = _SHARED[(host, seller)] = UsagePlans()
        return plans
