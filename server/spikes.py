"""Error-spike detection per log source, against that source's own baseline. Pure: time is input."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

BUCKET = 5.0  # seconds per bucket of error counts
WINDOW = 60.0  # the rate is errors over the last minute
ALPHA = 0.05  # how fast the baseline follows quiet periods (per bucket)


@dataclass(slots=True)
class _Source:
    since: float
    buckets: deque[tuple[float, int]] = field(default_factory=deque)
    baseline: float = 0.0  # errors per minute when things are normal
    armed: bool = True


class SpikeDetector:
    """Says when a source's error rate jumps to `factor` times its baseline (and `floor`/min)."""

    def __init__(self, factor: float = 5.0, floor: int = 20) -> None:
        self.factor = factor
        self.floor = floor
        self._sources: dict[str, _Source] = {}

    def observe(self, source: str, now: float, errors: int) -> str | None:
        """Count `errors` new error lines at `now`; the alert text when this is a spike."""
        src = self._sources.setdefault(source, _Source(since=now))
        warming = now - src.since < WINDOW
        start = now - now % BUCKET
        if src.buckets and src.buckets[-1][0] == start:
            src.buckets[-1] = (start, src.buckets[-1][1] + errors)
        else:
            if src.buckets:
                closed = src.buckets[-1][1] * 60.0 / BUCKET
                # Learn from normal running only, so a spike does not become the new normal;
                # in a source's first minute everything is normal, there is nothing to compare.
                if warming or (src.armed and closed < self.factor * max(src.baseline, 1.0)):
                    alpha = 0.3 if warming else ALPHA
                    src.baseline += alpha * (closed - src.baseline)
            src.buckets.append((start, errors))
        while src.buckets and src.buckets[0][0] <= now - WINDOW:
            src.buckets.popleft()
        rate = self.rate(source, now)
        baseline = max(src.baseline, 1.0)
        spiking = rate >= self.floor and rate >= self.factor * baseline
        if spiking and src.armed and not warming:
            src.armed = False
            times = rate / baseline
            return (
                f"error rate on {source} logs {rate:.0f}/min, {times:.0f}× baseline "
                f"({src.baseline:.1f}/min)"
            )
        if not src.armed and rate < max(self.floor, self.factor * baseline) / 2:
            src.armed = True
        return None

    def rate(self, source: str, now: float) -> float:
        """Errors per minute over the last minute."""
        src = self._sources.get(source)
        if src is None:
            return 0.0
        return sum(c for t, c in src.buckets if t > now - WINDOW) * 60.0 / WINDOW
