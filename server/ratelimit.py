"""A token bucket: `rate` a second on average, `burst` at once (frames, or bytes)."""

from __future__ import annotations


class TokenBucket:
    """Refills continuously; `take` spends one token if there is one."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at: float | None = None

    def take(self, now: float, cost: float = 1.0) -> bool:
        """Spend `cost` tokens at time `now` (monotonic seconds); False, spending nothing,
        when the bucket holds fewer."""
        if self._at is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False
