"""Discord's rate-limit headers, and optional enforcement with real 429s.

Every REST response carries ``X-RateLimit-Limit/Remaining/Reset/Reset-After/
Bucket``. By default the limits are generous (nobody hits them) so clients
never pause; with ``enforce=True`` the emulator uses Discord-like per-route
buckets (e.g. 5 messages per 5 s per channel) and answers 429 when exceeded.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field

MAJOR_PARAMS = ("channel_id", "guild_id", "webhook_id", "webhook_token")


@dataclass(frozen=True)
class Limit:
    requests: int
    per_seconds: float


# Discord-like limits used when enforcing: (method, path template) -> limit.
ROUTE_LIMITS: dict[tuple[str, str], Limit] = {
    ("POST", "/channels/{channel_id}/messages"): Limit(5, 5.0),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"): Limit(5, 5.0),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}"): Limit(5, 1.0),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"): Limit(5, 2.0),
    ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me"): Limit(
        1, 0.25
    ),
}
DEFAULT_ENFORCED = Limit(50, 1.0)
GENEROUS = Limit(10000, 1.0)
GLOBAL_PER_SECOND = 50


@dataclass
class Window:
    started: float
    used: int = 0


@dataclass
class Verdict:
    """What to tell the client: the headers, and whether this call is refused."""

    headers: dict[str, str]
    retry_after: float | None = None
    is_global: bool = False


@dataclass
class RateLimiter:
    enforce: bool = False
    _windows: dict[tuple[str, ...], Window] = field(default_factory=dict)
    _global: dict[str, Window] = field(default_factory=dict)

    def limit_for(self, method: str, template: str) -> Limit:
        if not self.enforce:
            return GENEROUS
        return ROUTE_LIMITS.get((method, template), DEFAULT_ENFORCED)

    @staticmethod
    def bucket_hash(method: str, template: str) -> str:
        return hashlib.sha1(f"{method} {template}".encode(), usedforsecurity=False).hexdigest()[:16]

    def check(
        self, method: str, template: str, params: dict[str, str], user_key: str | None
    ) -> Verdict:
        now = time.time()
        limit = self.limit_for(method, template)
        bucket = self.bucket_hash(method, template)
        major = tuple(params.get(p, "") for p in MAJOR_PARAMS)
        key = (bucket, *major)
        window = self._windows.get(key)
        if window is None or now - window.started >= limit.per_seconds:
            window = Window(started=now)
            self._windows[key] = window
        reset_after = max(0.0, window.started + limit.per_seconds - now)
        if self.enforce and user_key is not None:
            gw = self._global.get(user_key)
            if gw is None or now - gw.started >= 1.0:
                gw = Window(started=now)
                self._global[user_key] = gw
            if gw.used >= GLOBAL_PER_SECOND:
                retry = max(0.001, gw.started + 1.0 - now)
                return Verdict(global_headers(retry), retry, is_global=True)
            gw.used += 1
        refused = self.enforce and window.used >= limit.requests
        if not refused:
            window.used += 1
        headers = {
            "X-RateLimit-Limit": str(limit.requests),
            "X-RateLimit-Remaining": str(max(0, limit.requests - window.used)),
            "X-RateLimit-Reset": f"{window.started + limit.per_seconds:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }
        if refused:
            retry = max(0.001, reset_after)
            headers["Retry-After"] = str(math.ceil(retry))
            headers["X-RateLimit-Scope"] = "user"
            return Verdict(headers, retry)
        return Verdict(headers)


def global_headers(retry_after: float) -> dict[str, str]:
    return {
        "Retry-After": str(math.ceil(retry_after)),
        "X-RateLimit-Global": "true",
        "X-RateLimit-Scope": "global",
    }
