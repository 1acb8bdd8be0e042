"""A token bucket: `rate` frames a second on average, `burst` at once."""

from __future__ import annotations


class TokenBucket:
    """Refills continuously; `take` spends one token if there is one."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at: float | None = None

    def take(self, now: float) -> bool:
        """Spend a token at time `now` (monotonic seconds); False when the bucket is empty."""
        if self._at is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
