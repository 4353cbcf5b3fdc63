"""Policy lists (Draupnir/Mjolnir format): the bridge's own list and the lists it follows.

At start-up the bridge makes (or joins) its own list and the moderators' room,
joins every list named in ``moderation.subscriptions``, and reads their state.
Afterwards every ``m.policy.rule.*`` state event in a followed list (the legacy
``m.room.rule.*`` and ``org.matrix.mjolnir.rule.*`` too) updates the rule set,
which is kept in the ``policy_rule`` table. A new ``m.ban`` rule applies at once:

- a user rule naming one ghost exactly bans that Discord user (every guild's server
  and every portal room: a list is the party's, whatever ``ban_scope``);
  wildcard rules never ban Discord users (they could sweep the whole namespace);
- user and server rules ban the Matrix users they match from every portal room of
  every guild, and stop relaying them; users who join later are banned on joining;
- a server rule matching this homeserver is refused (it would ban every local
  user), and so is anything matching the bridge or a configured moderator.

``m.takedown`` rules (MSC4204) are carried out like ``m.ban``. A hashed rule
(MSC4205, ``sha256`` of the entity instead of the entity) is matched against the
portal members' MXIDs (or servers) and against the ghost MXID of every member of
the bridged guilds: a ghost that matches bans that Discord user, as an exact rule
naming the ghost does.

Removing a rule (empty content, as Draupnir does) lifts the bans it caused.
Matching is case-insensitive: see :mod:`moderation.policy_rules`.
"""

from __future__ import annotations

import logging

from bridge.i18n import N_
from bridge.ids import DiscordUserID, GuildID, RoomID, UserID
from moderation import audit
from moderation.bans import (
    ban_discord_user,
    ban_matrix_user,
    unban_discord_user,
    unban_matrix_user,
)
from moderation.context import ModerationContext
from moderation.gate import protected
from moderation.policy import (
    NotPolicyEvent,
    PolicyRule,
    ghost_discord_id,
    mxid_server,
    parse_policy_event,
)
from moderation.rule_set import mirror, rule_row
from moderation.scope import unbanned_guilds

log = logging.getLogger(__name__)

# Named in the configured language when the bridge creates them (not renamed later).
POLICY_ROOM_NAME = N_("Passerelle ban list")
POLICY_ROOM_TOPIC = N_(
    "Shared bans of the Discord bridge (a Draupnir/Mjolnir-compatible policy list)"
)
MOD_ROOM_NAME = N_("Passerelle moderators")
MOD_ROOM_TOPIC = N_("Moderation log of the Discord bridge. Commands: !mod help")
MODERATOR_LEVEL = 50


async def _own_room(
    mctx: ModerationContext, key: str, configured: RoomID | None, name: str, topic: str
) -> RoomID:
    if configured is not None:
        await mctx.matrix.join(configured)
        return configured
    moderators = [UserID(m) for m in mctx.config.moderators]
    stored = await mctx.stores.bridge_rooms.get(key)
    if stored is not None:
        room_id = RoomID(stored)
    else:
        room_id = await mctx.matrix.create_room(mctx.tr._(name), mctx.tr._(topic), moderators, [])
        await mctx.stores.bridge_rooms.put(key, room_id)
        log.info("moderation.room-created purpose=%s room=%s", key, room_id)
    # The configured moderators may write rules and moderate here (also when added later).
    await mctx.matrix.raise_power(room_id, moderators, MODERATOR_LEVEL)
    return room_id


async def setup(mctx: ModerationContext) -> None:
    """Make or find the moderation rooms, join the followed lists, load their rules."""
    state = mctx.state
    state.policy_room = await _own_room(
        mctx, "policy", mctx.config.policy_room, POLICY_ROOM_NAME, POLICY_ROOM_TOPIC
    )
    state.list_rooms[state.policy_room] = "the bridge's own list"
    state.mod_room = await _own_room(
        mctx, "moderation", mctx.config.mod_room, MOD_ROOM_NAME, MOD_ROOM_TOPIC
    )
    for name in mctx.config.subscriptions:
        room_id = await mctx.matrix.join(name)
        if room_id is None:
            log.warning("moderation.list-unreachable list=%s", name)
            continue
        state.list_rooms[room_id] = name
    for room_id in list(state.list_rooms):
        await load_list(mctx, room_id)


async def load_list(mctx: ModerationContext, room_id: RoomID) -> int:
    """Read a list's whole state into the rule set (and the database)."""
    try:
        events = await mctx.matrix.room_state(room_id)
    except Exception:
        log.exception("moderation.list-load-failed room=%s", room_id)
        return 0
    changes = [parse_policy_event(e, room_id=room_id) for e in events]
    state = mctx.state
    state.policy = state.policy.without_list(room_id).apply_all(changes)
    rules = [r for r in state.policy if r.source_room == room_id]
    await mctx.stores.policy_rules.replace_room(room_id, [rule_row(r) for r in rules])
    log.info("moderation.list-loaded room=%s rules=%s", room_id, len(rules))
    return len(rules)


async def on_state_event(mctx: ModerationContext, raw: dict[str, object]) -> bool:
    """A state event pushed by the homeserver; True when it changed a followed list."""
    room_id = raw.get("room_id")
    if not isinstance(room_id, str) or RoomID(room_id) not in mctx.state.list_rooms:
        return False
    change = parse_policy_event(raw)
    if isinstance(change, NotPolicyEvent) or change.key is None:
        return False
    before, after = await mirror(mctx, change)
    if raw.get("sender") == mctx.namer.bot_mxid:
        # The bridge's own writes: it acted when it wrote them (a shared ban, or a
        # command that applies its rule itself). Acting again on a late echo could
        # undo a later unban.
        return True
    await carry_out(mctx, before, after)
    return True


async def carry_out(
    mctx: ModerationContext, before: PolicyRule | None, after: PolicyRule | None
) -> None:
    """Lift what a rule no longer says, apply what it newly says."""
    if before is not None and before.is_ban:
        same_ban = after is not None and after.is_ban and after.label == before.label
        if not same_ban:
            await lift_rule(mctx, before)
    if after is not None and after.is_ban and before != after:
        await apply_rule(mctx, after)


async def portal_members(mctx: ModerationContext, rooms: list[RoomID] | None = None) -> set[UserID]:
    """Matrix users (not ghosts, not the bot) joined to any portal room (of ``rooms``)."""
    members: set[UserID] = set()
    if rooms is None:
        rooms = [portal.room_id for portal in await mctx.stores.portals.all()]
    for room_id in rooms:
        members.update(await mctx.matrix.joined_members(room_id))
    return {m for m in members if not mctx.namer.is_bridge_owned(m)}


async def apply_rule(
    mctx: ModerationContext, rule: PolicyRule, members: set[UserID] | None = None
) -> int:
    """Carry out one ``m.ban`` rule; returns how many users it newly banned.
    ``members``: the portal members, when the caller already has them."""
    actor = f"policy:{mctx.state.list_rooms.get(RoomID(rule.source_room), rule.source_room)}"
    origin_rule = (rule.source_room, rule.label)
    own_server = mctx.namer.server_name
    if rule.kind == "server" and rule.matches(own_server):
        await audit.record(
            mctx,
            source="policy",
            actor=actor,
            action="refused",
            target=rule.label,
            reason=rule.reason,
            outcome=mctx.tr._(
                "The rule would ban every user of {server}; it is not applied here.",
                server=own_server,
            ),
        )
        return 0
    if rule.kind == "user" and not rule.is_wildcard:
        namer = mctx.namer
        discord_id = ghost_discord_id(rule.entity, namer.user_prefix, namer.server_name)
        if discord_id is not None:
            missing = await unbanned_guilds(mctx, "discord", str(discord_id))
            if not missing:
                return 0
            await ban_discord_user(
                mctx,
                discord_id,
                reason=rule.reason,
                actor=actor,
                origin="policy",
                source="policy",
                rule=origin_rule,
                guilds=missing,
            )
            return 1
    if rule.kind not in ("user", "server"):
        return 0
    banned = 0
    if rule.kind == "user" and rule.sha256 is not None:
        banned += await _apply_hashed_to_ghosts(mctx, rule, actor)
    if members is None:
        members = await portal_members(mctx)
    for user in sorted(members):
        value = user if rule.kind == "user" else (mxid_server(user) or "")
        if protected(mctx.bridge, user) or not rule.matches(value):
            continue
        missing = await unbanned_guilds(mctx, "matrix", user)
        if not missing:
            continue
        done = await ban_matrix_user(
            mctx,
            user,
            reason=rule.reason,
            actor=actor,
            origin="policy",
            source="policy",
            rule=origin_rule,
            guilds=missing,
        )
        banned += done is not None
    return banned


async def _apply_hashed_to_ghosts(mctx: ModerationContext, rule: PolicyRule, actor: str) -> int:
    """MSC4205: a hashed user rule cannot name a ghost outright; every bridged guild's
    members' ghost MXIDs are hashed and compared instead."""
    banned = 0
    seen: set[DiscordUserID] = set()
    for guild in mctx.bridge.config.discord.guild_ids:
        for member in await mctx.discord.members(guild):
            if member.id in seen or not rule.matches(mctx.namer.ghost_mxid(member.id)):
                continue
            seen.add(member.id)
            missing = await unbanned_guilds(mctx, "discord", str(member.id))
            if not missing:
                continue
            await ban_discord_user(
                mctx,
                member.id,
                reason=rule.reason,
                actor=actor,
                origin="policy",
                source="policy",
                rule=(rule.source_room, rule.label),
                guilds=missing,
            )
            banned += 1
    return banned


async def lift_rule(mctx: ModerationContext, rule: PolicyRule) -> int:
    """A ban rule was removed or changed: lift the bans it caused."""
    actor = f"policy:{mctx.state.list_rooms.get(RoomID(rule.source_room), rule.source_room)}"
    # Exactly the guilds where the rule caused each ban (a ban of a guild's own stays).
    caused: dict[tuple[str, str], list[GuildID]] = {}
    for row in await mctx.stores.bans.by_rule(rule.source_room, rule.label):
        caused.setdefault((row.side, row.target), []).append(row.guild_id)
    lifted = 0
    for (side, target), guilds in caused.items():
        if side == "discord":
            done = await unban_discord_user(
                mctx,
                DiscordUserID(int(target)),
                reason=mctx.tr._("the policy rule was removed"),
                actor=actor,
                source="policy",
                guilds=tuple(guilds),
            )
        else:
            done = await unban_matrix_user(
                mctx,
                UserID(target),
                reason=mctx.tr._("the policy rule was removed"),
                actor=actor,
                source="policy",
                guilds=tuple(guilds),
            )
        lifted += done
    return lifted


async def reapply_all(mctx: ModerationContext) -> int:
    """At start-up: every ban rule again (idempotent), for changes made while down."""
    if not any(r.is_ban for r in mctx.state.policy):
        return 0  # nothing to apply: no need to list every portal's members
    members = await portal_members(mctx)
    return sum([await apply_rule(mctx, r, members) for r in mctx.state.policy if r.is_ban])
