"""What the moderation layer keeps in memory while the bridge runs.

The rules of every followed policy list (also stored in the ``policy_rule``
table, so they survive restarts) and the rooms the layer works with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.ids import RoomID
from moderation.lockdown_rules import LockdownState
from moderation.policy import PolicySet


@dataclass
class ModerationState:
    policy: PolicySet = field(default_factory=PolicySet)
    # The bridge's own policy list, where every shared ban is written.
    policy_room: RoomID | None = None
    # Every list followed (the bridge's own included): room ID -> how it was named.
    list_rooms: dict[RoomID, str] = field(default_factory=dict)
    # The moderators' room on Matrix (commands and the moderation log).
    mod_room: RoomID | None = None
    # The lockdown in force, if any (moderation.lockdown).
    lockdown: LockdownState = field(default_factory=LockdownState)
