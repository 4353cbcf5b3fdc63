"""Fault injection for reliability tests: make the next REST calls fail.

``emu.faults.fail_next(3, status=429)`` makes the next three REST calls (any
path, or only those under ``path_prefix`` such as ``/webhooks``) answer 429
with Discord's rate-limit body and headers; ``status=500`` (or 502/503/504)
answers a server error; a 4xx with ``code`` answers a refusal in Discord's error
shape, e.g. ``fail_next(3, status=403, code=50013, message="Missing Permissions")``.
Every injected failure is recorded in :attr:`FaultSwitch.injected`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Fault:
    remaining: int
    status: int
    path_prefix: str | None = None
    retry_after: float = 0.1
    is_global: bool = False
    method: str | None = None
    # A 4xx refusal: Discord's JSON error code and message.
    code: int = 0
    message: str = ""

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)


@dataclass
class FaultSwitch:
    pending: list[Fault] = field(default_factory=list)
    # (method, path, status) of every failure answered so far
    injected: list[tuple[str, str, int]] = field(default_factory=list)

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 500,
        path_prefix: str | None = None,
        retry_after: float = 0.1,
        is_global: bool = False,
        method: str | None = None,
        code: int = 0,
        message: str = "",
    ) -> Fault:
        """Answer the next ``n`` matching REST calls with ``status`` (429, 5xx, or a 4xx
        refusal with Discord's error ``code`` and ``message``).

        ``path_prefix`` is relative to the API base, e.g. ``/channels/123/messages``.
        """
        refusal = 400 <= status <= 499 and status != 429
        if status != 429 and not 500 <= status <= 599 and not refusal:
            raise ValueError("fault status must be 429, 5xx or 4xx")
        if refusal and (not code or not message):
            raise ValueError("a 4xx fault needs Discord's error code and message")
        if n < 1:
            raise ValueError("n must be at least 1")
        fault = Fault(n, status, path_prefix, retry_after, is_global, method, code, message)
        self.pending.append(fault)
        log.info("fault armed n=%s status=%s prefix=%s", n, status, path_prefix)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The fault to answer this call with, if any (consumes one use)."""
        for fault in self.pending:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.pending.remove(fault)
                self.injected.append((method, path, fault.status))
                return fault
        return None

    def clear(self) -> None:
        self.pending.clear()
