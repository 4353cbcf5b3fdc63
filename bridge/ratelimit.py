"""Per-sender rate limiting of what Matrix users send to Discord (pure, clock injected).

A token bucket per sender: ``burst`` messages at once, then one more every
``per_seconds / burst`` seconds. Messages over the limit are not relayed (the
sender is told once per flood), so one user cannot flood a Discord channel or
spend the bridge's Discord rate limits for everyone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_TRACKED = 4096  # past this many senders, idle (full) buckets are dropped


@dataclass
class SenderLimiter:
    burst: int
    per_seconds: float
    clock: Callable[[], float] = time.monotonic
    _tokens: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (tokens, at)
    _warned: set[str] = field(default_factory=set)

    @property
    def rate(self) -> float:
        return self.burst / self.per_seconds

    def allow(self, key: str) -> bool:
        """Take one token for ``key``; False when it has none left."""
        if len(self._tokens) > MAX_TRACKED:
            self.forget_idle()
        now = self.clock()
        tokens, at = self._tokens.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens >= 1:
            self._tokens[key] = (tokens - 1, now)
            if tokens - 1 >= 1:
                self._warned.discard(key)
            return True
        self._tokens[key] = (tokens, now)
        return False

    def first_refusal(self, key: str) -> bool:
        """True once per flood: whether to tell the sender they are being limited."""
        if key in self._warned:
            return False
        self._warned.add(key)
        return True

    def forget(self, key: str) -> None:
        """Start ``key`` afresh (a moderator lifted the limit, or a test is done)."""
        self._tokens.pop(key, None)
        self._warned.discard(key)

    def forget_idle(self) -> None:
        """Drop buckets that are full again (keeps memory bounded)."""
        now = self.clock()
        full = [
            k for k, (tokens, at) in self._tokens.items()
            if tokens + (now - at) * self.rate >= self.burst
        ]  # fmt: skip
        for key in full:
            del self._tokens[key]
            self._warned.discard(key)
