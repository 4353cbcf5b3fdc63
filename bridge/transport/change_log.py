"""Which members of a room or guild changed lately, so that a cache built from them
(bridge.actions.name_clash) can catch up member by member instead of starting again.
Pure bookkeeping, no I/O."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)  # a room or a guild
M = TypeVar("M", bound=Hashable)  # a member

# Changes remembered per room or guild; a cache further behind starts again.
KEEP = 4096


class ChangeLog(Generic[K, M]):
    """A count of changes per room or guild, and the members of the latest ones."""

    def __init__(self, keep: int = KEEP) -> None:
        self._keep = keep
        self._versions: dict[K, int] = {}
        self._log: dict[K, deque[tuple[int, M | None]]] = {}

    def record(self, where: K, member: M | None) -> None:
        """``member`` changed in ``where`` (None: anybody may have: start again)."""
        version = self._versions.get(where, 0) + 1
        self._versions[where] = version
        self._log.setdefault(where, deque(maxlen=self._keep)).append((version, member))

    def version(self, where: K) -> int:
        return self._versions.get(where, 0)

    def since(self, where: K, version: int) -> frozenset[M] | None:
        """The members changed after ``version``; None when that is not known (too
        far behind, or a change of anybody)."""
        current = self.version(where)
        if version == current:
            return frozenset()
        log = self._log.get(where)
        if log is None or version > current or log[0][0] > version + 1:
            return None
        changed: set[M] = set()
        for at, member in log:
            if at <= version:
                continue
            if member is None:
                return None
            changed.add(member)
        return frozenset(changed)
