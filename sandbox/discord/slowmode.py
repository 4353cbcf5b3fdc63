"""Slowmode (a channel's ``rate_limit_per_user``), enforced as Discord does.

A member posting again in a channel before ``rate_limit_per_user`` seconds have passed
since their previous message there gets 429 with code 20016 and ``retry_after``. Bots,
webhooks (their own route) and members with Manage Messages or Manage Channels in the
channel are exempt. Threads have their own (unset) slowmode: not enforced here.
"""

from __future__ import annotations

import time

from sandbox.discord import errors
from sandbox.discord import permissions as perms
from sandbox.discord.context import Ctx
from sandbox.discord.state import Channel, User

EXEMPT = perms.MANAGE_MESSAGES | perms.MANAGE_CHANNELS


def check(ctx: Ctx, channel: Channel, user: User, granted: int, now: float | None = None) -> None:
    """Raise :class:`errors.Slowmode` when ``user`` must wait; else note this post."""
    window = channel.rate_limit_per_user
    if window <= 0 or user.bot or granted & EXEMPT or channel.is_dm:
        return
    moment = time.monotonic() if now is None else now
    key = (channel.id, user.id)
    last = ctx.state.last_posts.get(key)
    if last is not None and moment - last < window:
        raise errors.Slowmode(window - (moment - last))
    ctx.state.last_posts[key] = moment
