"""Members-only flows (issue 5) with fake networks and a real (SQLite) database:
who may be in a members-only portal, kicks on join and re-checks, channel access
changes, start-up, account linking by one-time codes in DMs both ways, and the
dispatcher's routing of invites, DMs and joins."""

from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from bridge.config import MembersConfig
from bridge.db.portals import PortalRow
from bridge.i18n import translator
from bridge.ids import ChannelID, DiscordUserID, RoomID, UserID
from bridge.model import DiscordChannel, DiscordDM
from moderation import linking, membership
from moderation.dispatch import ModerationDispatch
from moderation.linking import dm_key, help_text
from moderation.members_only import normalise_code
from moderation.membership import KICK_REASON
from tests.moderation.fakes import (
    BOT,
    CHANNEL_A,
    CHANNEL_B,
    GUILD,
    ROOM_A,
    ROOM_B,
    Harness,
    moderation_context,
)

HELP = help_text(translator("en"))
MEMBER_ROLE = 7000000000000000001
OTHER_ROLE = 7000000000000000002

ALICE = UserID("@alice:example.org")  # linked, holds the member role
BOB = UserID("@bob:other.example")  # not linked
CAROL = UserID("@carol:example.org")  # allowlisted, not linked
DAVE = UserID("@dave:example.org")  # linked, without the member role
ERIN = UserID("@erin:example.org")  # linked, not in the guild
ALICE_UID = DiscordUserID(5000000000000000001)
DAVE_UID = DiscordUserID(5000000000000000002)
ERIN_UID = DiscordUserID(5000000000000000003)
NEW_UID = DiscordUserID(5000000000000000004)

# A portal the config does not name (members-only in the database), for re-checks.
CHANNEL_C = ChannelID(4000000000000000003)
ROOM_C = RoomID("!portal-c:example.org")
DM_ROOM = RoomID("!dm-alice:example.org")

CODE_RE = re.compile(r"\b([0-9A-Z]{4}-[0-9A-Z]{4})\b")
UNKNOWN_CODE = "unknown, used or expired"

_event_ids = itertools.count(1)


# -- helpers -------------------------------------------------------------------------


def configure(
    h: Harness,
    *,
    role_ids: tuple[int, ...] = (MEMBER_ROLE,),
    allowlist: tuple[str, ...] = (CAROL,),
    auto_invite: bool = True,
    link_code_minutes: int = 15,
) -> None:
    """The ``members`` section of the running bridge's config."""
    config = h.mctx.bridge.config
    h.mctx.bridge.config = dataclasses.replace(
        config,
        members=MembersConfig(
            role_ids=role_ids,
            allowlist=allowlist,
            auto_invite=auto_invite,
            link_code_minutes=link_code_minutes,
        ),
    )


async def people(h: Harness) -> None:
    """ALICE linked with the member role, DAVE linked without it, ERIN linked but gone
    from the guild; BOB not linked; CAROL allowlisted."""
    await h.stores.links.link(ALICE, ALICE_UID)
    await h.stores.links.link(DAVE, DAVE_UID)
    await h.stores.links.link(ERIN, ERIN_UID)
    h.discord.roles[ALICE_UID] = (OTHER_ROLE, MEMBER_ROLE)
    h.discord.roles[DAVE_UID] = (OTHER_ROLE,)


async def members_only(h: Harness, *channels: ChannelID) -> None:
    for channel in channels:
        await h.stores.portals.set_access(channel, "members_only")


async def add_portal_c(h: Harness, access: str = "members_only") -> None:
    await h.stores.portals.upsert(PortalRow(CHANNEL_C, GUILD, ROOM_C, "private", "", access))
    h.matrix.join_member(ROOM_C, BOT)


def discord_says(h: Harness, channel: ChannelID, visibility: str | None) -> None:
    """What Discord's permissions say about a channel (None: the bridge cannot see it)."""
    if visibility is None:
        h.relay_discord.channels.pop(channel, None)
    else:
        h.relay_discord.channels[channel] = DiscordChannel(
            channel, GUILD, f"chan{channel}", "", visibility
        )


async def member_event(
    h: Harness,
    room: RoomID,
    sender: UserID,
    target: UserID,
    membership_: str,
    *,
    is_direct: bool | None = None,
) -> bool:
    """The homeserver applied a membership change and pushes its event to the bridge."""
    h.matrix.memberships[(room, target)] = membership_
    content: dict[str, Any] = {"membership": membership_}
    if is_direct is not None:
        content["is_direct"] = is_direct
    raw: dict[str, Any] = {
        "type": "m.room.member",
        "room_id": room,
        "sender": sender,
        "state_key": target,
        "event_id": f"$member{next(_event_ids)}",
        "content": content,
    }
    return await ModerationDispatch(h.mctx).on_matrix_event(raw)


async def message_event(h: Harness, room: RoomID, sender: UserID, body: str) -> bool:
    raw: dict[str, Any] = {
        "type": "m.room.message",
        "room_id": room,
        "sender": sender,
        "event_id": f"$msg{next(_event_ids)}",
        "content": {"msgtype": "m.text", "body": body},
    }
    return await ModerationDispatch(h.mctx).on_matrix_event(raw)


async def open_dm(h: Harness, user: UserID = ALICE, room: RoomID = DM_ROOM) -> None:
    assert await linking.on_invite(h.mctx, room, user, True)


def code_in(answer: str) -> str:
    found = CODE_RE.search(answer)
    assert found is not None, answer
    code = normalise_code(found.group(1))
    assert code is not None
    return code


async def discord_code(h: Harness, user: DiscordUserID) -> str:
    """The Discord user asks the Discord bot for a code (d2m)."""
    return code_in(await linking.on_discord_dm(h.mctx, DiscordDM(user, "!link")))


async def matrix_code(h: Harness, user: UserID) -> str:
    """The Matrix user asks the bridge bot for a code (m2d)."""
    return code_in(await linking.on_matrix_dm(h.mctx, DM_ROOM, user, "!link"))


# -- decide / on_join ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "allowed", "reason"),
    [
        (CAROL, True, "allowlisted"),
        (ALICE, True, "member_role"),
        (DAVE, False, "no_member_role"),
        (ERIN, False, "not_in_guild"),
        (BOB, False, "not_linked"),
    ],
)
async def test_decide_and_on_join(tmp_path: Path, user: UserID, allowed: bool, reason: str) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await members_only(h, CHANNEL_B)
        decision = await membership.decide(h.mctx, user, GUILD)
        assert (decision.allowed, decision.reason) == (allowed, reason)

        h.matrix.join_member(ROOM_B, user)
        removed = await membership.on_join(h.mctx, ROOM_B, user)

        assert removed is not allowed
        expected = [] if allowed else [(ROOM_B, user, KICK_REASON)]
        assert h.matrix.kick_calls == expected
        assert h.matrix.invite_calls == []


async def test_allowlisted_and_linked_without_role_is_still_allowed(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h, allowlist=(DAVE,))
        await people(h)
        assert (await membership.decide(h.mctx, DAVE, GUILD)).reason == "allowlisted"


async def test_no_member_role_configured_nobody_linked_is_a_member(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h, role_ids=(), allowlist=())
        await people(h)
        await members_only(h, CHANNEL_B)
        decision = await membership.decide(h.mctx, ALICE, GUILD)
        assert (decision.allowed, decision.reason) == (False, "no_member_role")
        assert await membership.on_join(h.mctx, ROOM_B, ALICE) is True


@pytest.mark.parametrize("event", ["join", "invite"])
async def test_non_members_kicked_on_join_or_invite_through_dispatch(
    tmp_path: Path, event: str
) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await members_only(h, CHANNEL_B)
        inviter = ALICE  # a member invites (or they join themselves)
        for user in (BOB, DAVE, ERIN):
            sender = user if event == "join" else inviter
            consumed = await member_event(h, ROOM_B, sender, user, event)
            assert consumed is False
        assert h.matrix.kick_calls == [
            (ROOM_B, BOB, KICK_REASON),
            (ROOM_B, DAVE, KICK_REASON),
            (ROOM_B, ERIN, KICK_REASON),
        ]
        for user in (BOB, DAVE, ERIN):
            assert h.matrix.memberships[(ROOM_B, user)] == "leave"


async def test_members_join_members_only_portal_untouched(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await members_only(h, CHANNEL_B)
        await member_event(h, ROOM_B, ALICE, ALICE, "join")
        await member_event(h, ROOM_B, ALICE, CAROL, "invite")
        await member_event(h, ROOM_B, CAROL, CAROL, "join")
        assert h.matrix.kick_calls == []


async def test_public_portal_and_unknown_room_nothing_happens(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)  # both portals stay public
        for user in (BOB, DAVE, ERIN):
            assert await membership.on_join(h.mctx, ROOM_A, user) is False
            await member_event(h, ROOM_A, user, user, "join")
            await member_event(h, RoomID("!elsewhere:example.org"), user, user, "join")
        assert h.matrix.kick_calls == []


async def test_ghosts_and_bot_exempt(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await members_only(h, CHANNEL_B)
        ghost = h.ghost(ALICE_UID)  # its Discord user has no role at all
        for user in (ghost, BOT):
            assert membership.exempt(h.mctx, user)
            assert await membership.on_join(h.mctx, ROOM_B, user) is False
            assert await membership.recheck(h.mctx, user) == (0, 0)
        await member_event(h, ROOM_B, ghost, ghost, "join")
        assert not membership.exempt(h.mctx, BOB)
        assert h.matrix.kick_calls == []
        assert h.matrix.invite_calls == []


async def test_bot_invites_are_not_rechecked_on_the_invite_event(tmp_path: Path) -> None:
    """The bridge's own invites come from a re-check already: the invite event it echoes
    back is not checked again (the join that follows is)."""
    async with moderation_context(tmp_path) as h:
        configure(h)
        await members_only(h, CHANNEL_B)
        await member_event(h, ROOM_B, BOT, BOB, "invite")
        assert h.matrix.kick_calls == []
        await member_event(h, ROOM_B, BOB, BOB, "join")
        assert h.matrix.kick_calls == [(ROOM_B, BOB, KICK_REASON)]


# -- recheck ---------------------------------------------------------------------------


async def test_recheck_allowed_invites_where_not_joined_or_invited(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await members_only(h, CHANNEL_A, CHANNEL_B)
        await add_portal_c(h)
        extra = RoomID("!portal-d:example.org")
        await h.stores.portals.upsert(
            PortalRow(ChannelID(4000000000000000004), GUILD, extra, "d", "", "members_only")
        )
        h.matrix.join_member(ROOM_A, ALICE)  # already in
        h.matrix.memberships[(ROOM_B, ALICE)] = "leave"  # left earlier: invited again
        # ROOM_C: never there
        h.matrix.memberships[(extra, ALICE)] = "ban"  # banned: never invited

        assert await membership.recheck(h.mctx, ALICE) == (2, 0)
        assert sorted(h.matrix.invite_calls) == sorted([(ROOM_B, ALICE), (ROOM_C, ALICE)])
        assert h.matrix.kick_calls == []

        # Invited now: a second re-check changes nothing.
        assert await membership.recheck(h.mctx, ALICE) == (0, 0)
        assert len(h.matrix.invite_calls) == 2


async def test_recheck_public_portals_never_invited(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await members_only(h, CHANNEL_B)
        assert await membership.recheck(h.mctx, CAROL) == (1, 0)
        assert h.matrix.invite_calls == [(ROOM_B, CAROL)]


async def test_recheck_without_auto_invite_invites_nobody(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h, auto_invite=False)
        await people(h)
        await members_only(h, CHANNEL_A, CHANNEL_B)
        assert await membership.recheck(h.mctx, ALICE) == (0, 0)
        assert await membership.recheck(h.mctx, CAROL) == (0, 0)
        assert h.matrix.invite_calls == []


async def test_recheck_not_allowed_kicks_where_joined_or_invited(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await members_only(h, CHANNEL_B)
        await add_portal_c(h)
        extra = RoomID("!portal-d:example.org")
        await h.stores.portals.upsert(
            PortalRow(ChannelID(4000000000000000004), GUILD, extra, "d", "", "members_only")
        )
        h.matrix.join_member(ROOM_A, DAVE)  # public: stays
        h.matrix.join_member(ROOM_B, DAVE)
        h.matrix.memberships[(ROOM_C, DAVE)] = "invite"
        h.matrix.memberships[(extra, DAVE)] = "leave"

        assert await membership.recheck(h.mctx, DAVE) == (0, 2)
        assert sorted(h.matrix.kick_calls) == sorted(
            [(ROOM_B, DAVE, KICK_REASON), (ROOM_C, DAVE, KICK_REASON)]
        )
        assert h.matrix.memberships[(ROOM_A, DAVE)] == "join"
        assert h.matrix.invite_calls == []
        assert await membership.recheck(h.mctx, DAVE) == (0, 0)


# -- on_discord_roles ------------------------------------------------------------------


async def test_discord_role_changes_recheck_the_linked_account(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await members_only(h, CHANNEL_B)
        h.matrix.join_member(ROOM_B, ALICE)
        dispatch = ModerationDispatch(h.mctx)

        h.discord.roles[ALICE_UID] = (OTHER_ROLE,)  # the member role removed
        await dispatch.on_discord_roles(GUILD, ALICE_UID)
        assert h.matrix.kick_calls == [(ROOM_B, ALICE, KICK_REASON)]

        h.discord.roles[ALICE_UID] = (MEMBER_ROLE,)  # given back
        await membership.on_discord_roles(h.mctx, GUILD, ALICE_UID)
        assert h.matrix.invite_calls == [(ROOM_B, ALICE)]

        h.matrix.join_member(ROOM_B, ALICE)
        del h.discord.roles[ALICE_UID]  # left the guild
        await membership.on_discord_roles(h.mctx, GUILD, ALICE_UID)
        assert h.matrix.kick_calls[-1] == (ROOM_B, ALICE, KICK_REASON)
        assert len(h.matrix.kick_calls) == 2


async def test_discord_roles_of_unlinked_user_do_nothing(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await members_only(h, CHANNEL_B)
        h.matrix.join_member(ROOM_B, BOB)  # someone not linked: not this Discord user
        h.discord.roles[NEW_UID] = (MEMBER_ROLE,)
        await membership.on_discord_roles(h.mctx, GUILD, NEW_UID)
        h.discord.roles.pop(NEW_UID)
        await membership.on_discord_roles(h.mctx, GUILD, NEW_UID)
        assert h.matrix.kick_calls == []
        assert h.matrix.invite_calls == []


# -- on_channel_access -----------------------------------------------------------------


async def test_configured_members_only_stays_members_only_when_discord_says_public(
    tmp_path: Path,
) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        discord_says(h, CHANNEL_B, "public")
        # The harness stored the portal as public: the config wins.
        assert await membership.on_channel_access(h.mctx, CHANNEL_B) == "members_only"
        portal = await h.stores.portals.by_channel(CHANNEL_B)
        assert portal is not None and portal.access == "members_only"
        assert h.matrix.access_calls == [(ROOM_B, False)]

        # Already members-only: nothing to change.
        assert await membership.on_channel_access(h.mctx, CHANNEL_B) is None
        assert h.matrix.access_calls == [(ROOM_B, False)]


async def test_public_channel_made_private_on_discord_then_public_again(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        ghost = h.ghost(DAVE_UID)
        h.matrix.join_member(ROOM_A, ALICE, BOB, CAROL, DAVE, ERIN, ghost)
        dispatch = ModerationDispatch(h.mctx)

        assert await membership.on_channel_access(h.mctx, CHANNEL_A) is None  # public, both
        assert h.matrix.access_calls == [] and h.matrix.kick_calls == []

        discord_says(h, CHANNEL_A, "members_only")
        await dispatch.on_channel_access(CHANNEL_A)
        portal = await h.stores.portals.by_channel(CHANNEL_A)
        assert portal is not None and portal.access == "members_only"
        assert h.matrix.access_calls == [(ROOM_A, False)]
        assert sorted(h.matrix.kick_calls) == sorted(
            [(ROOM_A, u, KICK_REASON) for u in (BOB, DAVE, ERIN)]
        )
        assert set(await h.matrix.joined_members(ROOM_A)) == {BOT, ALICE, CAROL, ghost}

        discord_says(h, CHANNEL_A, "public")
        assert await membership.on_channel_access(h.mctx, CHANNEL_A) == "public"
        portal = await h.stores.portals.by_channel(CHANNEL_A)
        assert portal is not None and portal.access == "public"
        assert h.matrix.access_calls == [(ROOM_A, False), (ROOM_A, True)]
        assert len(h.matrix.kick_calls) == 3  # nobody kicked for a room going public


async def test_channel_discord_cannot_see_fails_closed(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        discord_says(h, CHANNEL_A, None)
        assert await membership.on_channel_access(h.mctx, CHANNEL_A) == "members_only"
        assert h.matrix.access_calls == [(ROOM_A, False)]


async def test_unbridged_channel_or_missing_portal_gives_none(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await add_portal_c(h, "public")  # a portal row, but not in the config
        discord_says(h, CHANNEL_C, "members_only")
        assert await membership.on_channel_access(h.mctx, CHANNEL_C) is None
        assert await membership.on_channel_access(h.mctx, ChannelID(4000000000000000077)) is None
        portal = await h.stores.portals.by_channel(CHANNEL_C)
        assert portal is not None and portal.access == "public"
        assert h.matrix.access_calls == [] and h.matrix.kick_calls == []


async def test_configured_channel_without_portal_gives_none(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await h.mctx.stores.portals.delete(CHANNEL_B)
        assert await h.stores.portals.by_channel(CHANNEL_B) is None
        assert await membership.on_channel_access(h.mctx, CHANNEL_B) is None
        assert h.matrix.access_calls == []


# -- start_members ---------------------------------------------------------------------


async def test_start_members_enforces_rooms_and_invites_members(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await add_portal_c(h)  # members-only in the database, not in the config
        ghost = h.ghost(ALICE_UID)
        h.matrix.join_member(ROOM_A, BOB, DAVE)  # public portal: stays
        h.matrix.join_member(ROOM_B, BOB, DAVE, ghost)
        h.matrix.join_member(ROOM_C, ERIN, CAROL)

        await membership.start_members(h.mctx)

        portal_b = await h.stores.portals.by_channel(CHANNEL_B)
        portal_a = await h.stores.portals.by_channel(CHANNEL_A)
        assert portal_b is not None and portal_b.access == "members_only"
        assert portal_a is not None and portal_a.access == "public"
        assert h.matrix.access_calls == [(ROOM_B, False)]
        assert sorted(h.matrix.kick_calls) == sorted(
            [
                (ROOM_B, BOB, KICK_REASON),
                (ROOM_B, DAVE, KICK_REASON),
                (ROOM_C, ERIN, KICK_REASON),
            ]
        )
        # Linked members and the allowlist are invited where they are not yet.
        assert sorted(h.matrix.invite_calls) == sorted(
            [(ROOM_B, ALICE), (ROOM_C, ALICE), (ROOM_B, CAROL)]
        )
        assert h.matrix.memberships[(ROOM_B, ghost)] == "join"
        assert all(room != ROOM_A for room, _ in h.matrix.invite_calls)


async def test_start_members_without_auto_invite_only_enforces(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h, auto_invite=False)
        await people(h)
        h.matrix.join_member(ROOM_B, BOB, ALICE)
        await membership.start_members(h.mctx)
        assert h.matrix.kick_calls == [(ROOM_B, BOB, KICK_REASON)]
        assert h.matrix.invite_calls == []


# -- linking: Matrix side ----------------------------------------------------------------


async def test_on_invite_accepts_direct_chats_only(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        group = RoomID("!group:example.org")
        assert await linking.on_invite(h.mctx, group, ALICE, False) is False
        assert await linking.on_invite(h.mctx, group, h.ghost(ALICE_UID), True) is False
        assert h.matrix.joins == []
        assert await h.stores.bridge_rooms.get(dm_key(ALICE)) is None

        assert await linking.on_invite(h.mctx, DM_ROOM, ALICE, True) is True
        assert h.matrix.joins == [DM_ROOM]
        assert await h.stores.bridge_rooms.get(dm_key(ALICE)) == DM_ROOM
        assert await linking.is_dm(h.mctx, DM_ROOM, ALICE)
        assert not await linking.is_dm(h.mctx, DM_ROOM, BOB)
        assert h.matrix.notices == [(DM_ROOM, "Hello! " + HELP)]


async def test_on_invite_join_refused_records_nothing(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:

        async def cannot_join(room: str) -> RoomID | None:
            return None

        h.matrix.join = cannot_join  # type: ignore[method-assign]
        assert await linking.on_invite(h.mctx, DM_ROOM, ALICE, True) is False
        assert await h.stores.bridge_rooms.get(dm_key(ALICE)) is None
        assert h.matrix.notices == []


async def test_matrix_link_gives_a_stored_m2d_code(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h, link_code_minutes=20)
        await open_dm(h)
        answer = await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, "  !LINK ")
        assert answer.startswith("Your code is ")
        assert "On Discord, send it to the bridge bot in a direct message" in answer
        assert "within 20 minutes" in answer
        code = code_in(answer)
        row = await h.stores.link_codes.get(code)
        assert row is not None
        assert (row.direction, row.mxid, row.discord_id, row.used) == ("m2d", ALICE, None, False)
        assert row.expires_at - row.created_at == 20 * 60_000
        assert await h.stores.links.by_matrix(ALICE) is None  # nothing linked yet


@pytest.mark.parametrize("form", ["!link {dashed}", "{dashed}", "{lower}", "link {spaced}"])
async def test_matrix_proves_a_discord_code_and_is_invited(tmp_path: Path, form: str) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await members_only(h, CHANNEL_B)
        h.discord.roles[ALICE_UID] = (MEMBER_ROLE,)
        await open_dm(h)
        code = await discord_code(h, ALICE_UID)
        typed = form.format(
            dashed=f"{code[:4]}-{code[4:]}", lower=code.lower(), spaced=f"{code[:4]} {code[4:]}"
        )

        answer = await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, typed)

        assert answer == (
            f"Linked {ALICE} to Discord user {ALICE_UID}. You are invited to 1 members-only room."
        )
        link = await h.stores.links.by_matrix(ALICE)
        assert link is not None and link.discord_id == ALICE_UID
        assert h.matrix.invite_calls == [(ROOM_B, ALICE)]
        row = await h.stores.link_codes.get(code)
        assert row is not None and row.used


async def test_linked_without_role_gets_no_invite(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await members_only(h, CHANNEL_B)
        h.discord.roles[DAVE_UID] = (OTHER_ROLE,)
        code = await discord_code(h, DAVE_UID)
        answer = await linking.on_matrix_dm(h.mctx, DM_ROOM, DAVE, code)
        assert answer == f"Linked {DAVE} to Discord user {DAVE_UID}."
        assert h.matrix.invite_calls == []


async def test_matrix_unknown_used_expired_and_wrong_way_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h, link_code_minutes=15)
        await members_only(h, CHANNEL_B)
        h.discord.roles[ALICE_UID] = (MEMBER_ROLE,)
        clock = [1_700_000_000_000]
        monkeypatch.setattr(linking, "_now", lambda: clock[0])

        unknown = await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, "!link ABCD-1234")
        assert unknown == (
            "That code is unknown, used or expired. Ask the Discord bot for a new one."
        )

        # Expired: valid until just before created + 15 minutes.
        code = await discord_code(h, ALICE_UID)
        clock[0] += 15 * 60_000
        assert UNKNOWN_CODE in await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, code)
        assert await h.stores.links.by_matrix(ALICE) is None

        fresh = await discord_code(h, ALICE_UID)
        clock[0] += 15 * 60_000 - 1
        assert (await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, fresh)).startswith("Linked")

        # Used: single use, even by the same person.
        assert UNKNOWN_CODE in await linking.on_matrix_dm(h.mctx, DM_ROOM, BOB, fresh)
        assert UNKNOWN_CODE in await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, fresh)
        link = await h.stores.links.by_matrix(ALICE)
        assert link is not None and await h.stores.links.by_matrix(BOB) is None

        # Wrong way: a Matrix user's own (m2d) code does not prove anything on Matrix,
        # and stays usable on Discord.
        own = await matrix_code(h, BOB)
        assert UNKNOWN_CODE in await linking.on_matrix_dm(h.mctx, DM_ROOM, BOB, own)
        row = await h.stores.link_codes.get(own)
        assert row is not None and not row.used
        answer = await linking.on_discord_dm(h.mctx, DiscordDM(NEW_UID, own))
        assert answer == f"Linked {BOB} to Discord user {NEW_UID}."


async def test_matrix_other_text_gets_help(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        for text in ("hello", "!help", "!link now please", ""):
            assert await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, text) == HELP
        assert await h.stores.links.all() == []


async def test_new_code_withdraws_the_previous_one(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        first = await matrix_code(h, ALICE)
        second = await matrix_code(h, ALICE)
        assert first != second
        assert await h.stores.link_codes.get(first) is None
        stale = await linking.on_discord_dm(h.mctx, DiscordDM(ALICE_UID, first))
        assert UNKNOWN_CODE in stale
        assert "Ask the bridge bot on Matrix for a new one." in stale
        done = await linking.on_discord_dm(h.mctx, DiscordDM(ALICE_UID, second))
        assert done.startswith(f"Linked {ALICE} to Discord user {ALICE_UID}.")

        d_first = await discord_code(h, NEW_UID)
        d_second = await discord_code(h, NEW_UID)
        assert await h.stores.link_codes.get(d_first) is None
        assert UNKNOWN_CODE in await linking.on_matrix_dm(h.mctx, DM_ROOM, BOB, d_first)
        assert (await linking.on_matrix_dm(h.mctx, DM_ROOM, BOB, d_second)).startswith("Linked")


async def test_matrix_unlink(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await members_only(h, CHANNEL_B)
        h.matrix.join_member(ROOM_A, ALICE)
        h.matrix.join_member(ROOM_B, ALICE)

        assert await linking.on_matrix_dm(h.mctx, DM_ROOM, BOB, "!unlink") == (
            "Your Matrix account is not linked to a Discord account."
        )
        answer = await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, "!Unlink")
        assert answer == f"Unlinked from Discord user {ALICE_UID}."
        assert await h.stores.links.by_matrix(ALICE) is None
        assert await h.stores.links.by_discord(ALICE_UID) is None
        assert h.matrix.kick_calls == [(ROOM_B, ALICE, KICK_REASON)]  # not the public room
        assert await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, "!unlink") == (
            "Your Matrix account is not linked to a Discord account."
        )


# -- linking: Discord side ---------------------------------------------------------------


async def test_discord_link_gives_a_d2m_code_naming_the_bot(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h, link_code_minutes=10)
        answer = await linking.on_discord_dm(h.mctx, DiscordDM(ALICE_UID, " !link"))
        code = code_in(answer)
        assert BOT == h.mctx.namer.bot_mxid
        assert f"`!link {code[:4]}-{code[4:]}`" in answer
        assert f"to {BOT} in a direct chat within 10 minutes" in answer
        row = await h.stores.link_codes.get(code)
        assert row is not None
        assert (row.direction, row.mxid, row.discord_id) == ("d2m", None, ALICE_UID)
        assert row.expires_at - row.created_at == 10 * 60_000


async def test_discord_proves_a_matrix_code(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await members_only(h, CHANNEL_B)
        await add_portal_c(h)
        h.discord.roles[ALICE_UID] = (MEMBER_ROLE,)
        code = await matrix_code(h, ALICE)

        answer = await linking.on_discord_dm(h.mctx, DiscordDM(ALICE_UID, f"!link {code}"))

        assert answer == (
            f"Linked {ALICE} to Discord user {ALICE_UID}. You are invited to 2 members-only rooms."
        )
        assert sorted(h.matrix.invite_calls) == sorted([(ROOM_B, ALICE), (ROOM_C, ALICE)])
        again = await linking.on_discord_dm(h.mctx, DiscordDM(NEW_UID, code))
        assert again == (
            "That code is unknown, used or expired. Ask the bridge bot on Matrix for a new one."
        )
        link = await h.stores.links.by_discord(ALICE_UID)
        assert link is not None and link.mxid == ALICE
        assert await h.stores.links.by_discord(NEW_UID) is None


async def test_discord_own_code_does_not_prove_itself(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        code = await discord_code(h, ALICE_UID)
        assert UNKNOWN_CODE in await linking.on_discord_dm(h.mctx, DiscordDM(ALICE_UID, code))
        assert await h.stores.links.all() == []
        assert await linking.on_discord_dm(h.mctx, DiscordDM(ALICE_UID, "hi")) == HELP


async def test_discord_unlink(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await members_only(h, CHANNEL_B)
        h.matrix.join_member(ROOM_B, ALICE)
        assert await linking.on_discord_dm(h.mctx, DiscordDM(NEW_UID, "!unlink")) == (
            "Your Discord account is not linked to a Matrix account."
        )
        answer = await linking.on_discord_dm(h.mctx, DiscordDM(ALICE_UID, "!UNLINK"))
        assert answer == f"Unlinked from {ALICE}."
        assert await h.stores.links.by_matrix(ALICE) is None
        assert h.matrix.kick_calls == [(ROOM_B, ALICE, KICK_REASON)]


async def test_discord_account_taken_over_rechecks_the_replaced_matrix_user(
    tmp_path: Path,
) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await members_only(h, CHANNEL_B)
        h.matrix.join_member(ROOM_B, ALICE)

        code = await discord_code(h, ALICE_UID)
        answer = await linking.on_matrix_dm(h.mctx, DM_ROOM, BOB, code)

        assert answer == (
            f"Linked {BOB} to Discord user {ALICE_UID}. You are invited to 1 members-only room."
        )
        assert await h.stores.links.by_matrix(ALICE) is None
        link = await h.stores.links.by_discord(ALICE_UID)
        assert link is not None and link.mxid == BOB
        assert h.matrix.kick_calls == [(ROOM_B, ALICE, KICK_REASON)]
        assert h.matrix.invite_calls == [(ROOM_B, BOB)]


async def test_matrix_user_relinking_to_another_account_loses_access(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await members_only(h, CHANNEL_B)
        h.matrix.join_member(ROOM_B, ALICE)
        code = await discord_code(h, NEW_UID)  # NEW_UID is not in the guild
        answer = await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, code)
        assert answer == f"Linked {ALICE} to Discord user {NEW_UID}."
        assert await h.stores.links.by_discord(ALICE_UID) is None
        assert h.matrix.kick_calls == [(ROOM_B, ALICE, KICK_REASON)]


# -- dispatch ----------------------------------------------------------------------------


async def test_dispatch_bot_invited_to_direct_chat_joins(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await members_only(h, CHANNEL_B)
        group = RoomID("!group:example.org")
        assert await member_event(h, group, ALICE, BOT, "invite") is False
        assert await member_event(h, group, ALICE, BOT, "invite", is_direct=False) is False
        assert h.matrix.joins == [] and h.matrix.kick_calls == []

        assert await member_event(h, DM_ROOM, ALICE, BOT, "invite", is_direct=True) is False
        assert h.matrix.joins == [DM_ROOM]
        assert await h.stores.bridge_rooms.get(dm_key(ALICE)) == DM_ROOM
        assert h.matrix.notices[-1] == (DM_ROOM, "Hello! " + HELP)


async def test_dispatch_dm_message_answered_and_consumed(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await members_only(h, CHANNEL_B)
        h.discord.roles[ALICE_UID] = (MEMBER_ROLE,)
        await member_event(h, DM_ROOM, ALICE, BOT, "invite", is_direct=True)
        h.matrix.notices.clear()

        assert await message_event(h, DM_ROOM, ALICE, "!link") is True
        ((room, text),) = h.matrix.notices
        assert room == DM_ROOM and text.startswith("Your code is ")
        m2d = code_in(text)

        # Someone else in that room, another room, the bot itself: not a DM command.
        assert await message_event(h, DM_ROOM, BOB, "!link") is False
        assert await message_event(h, ROOM_A, ALICE, "!link") is False
        assert await message_event(h, DM_ROOM, BOT, "!link") is False
        assert len(h.matrix.notices) == 1

        # The Discord side, through the dispatcher: answered by DM.
        dispatch = ModerationDispatch(h.mctx)
        await dispatch.on_discord_dm(DiscordDM(ALICE_UID, m2d))
        assert h.discord.dms == [
            (
                ALICE_UID,
                f"Linked {ALICE} to Discord user {ALICE_UID}. "
                "You are invited to 1 members-only room.",
            )
        ]
        assert h.matrix.invite_calls == [(ROOM_B, ALICE)]

        assert await message_event(h, DM_ROOM, ALICE, "!unlink") is True
        assert h.matrix.notices[-1] == (DM_ROOM, f"Unlinked from Discord user {ALICE_UID}.")
        assert h.matrix.kick_calls == [(ROOM_B, ALICE, KICK_REASON)]


async def test_dispatch_discord_link_request_answered_by_dm(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await ModerationDispatch(h.mctx).on_discord_dm(DiscordDM(NEW_UID, "!link"))
        ((user, text),) = h.discord.dms
        assert user == NEW_UID and BOT in text
        row = await h.stores.link_codes.get(code_in(text))
        assert row is not None and row.discord_id == NEW_UID


async def test_dispatch_join_in_members_only_portal_goes_to_on_join(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        await members_only(h, CHANNEL_B)
        assert await member_event(h, ROOM_B, BOB, BOB, "join") is False
        assert await member_event(h, ROOM_A, BOB, BOB, "join") is False  # public
        assert await member_event(h, ROOM_B, ALICE, ALICE, "join") is False
        assert h.matrix.kick_calls == [(ROOM_B, BOB, KICK_REASON)]
        assert h.matrix.memberships[(ROOM_B, ALICE)] == "join"


# -- bugs found --------------------------------------------------------------------------


async def test_channel_turning_members_only_withdraws_pending_invites(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        await people(h)
        h.matrix.memberships[(ROOM_A, BOB)] = "invite"  # invited while the room was public
        discord_says(h, CHANNEL_A, "members_only")
        assert await membership.on_channel_access(h.mctx, CHANNEL_A) == "members_only"
        assert h.matrix.kick_calls == [(ROOM_A, BOB, KICK_REASON)]


async def test_failed_room_access_change_is_retried_at_start(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h)
        discord_says(h, CHANNEL_A, "members_only")
        calls = h.matrix.access_calls

        async def unreachable(room_id: RoomID, *, public: bool) -> None:
            raise ConnectionError("homeserver unreachable")

        h.matrix.set_room_access = unreachable  # type: ignore[method-assign]
        with pytest.raises(ConnectionError):
            await membership.on_channel_access(h.mctx, CHANNEL_A)
        del h.matrix.set_room_access  # the homeserver is back

        await membership.start_members(h.mctx)  # the next start
        assert (ROOM_A, False) in calls


async def test_linking_in_french(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        configure(h, link_code_minutes=20)
        config = h.mctx.bridge.config
        h.mctx.bridge.config = dataclasses.replace(
            config, bridge=dataclasses.replace(config.bridge, language="fr")
        )
        await open_dm(h)
        assert h.matrix.notices[-1][1].startswith("Bonjour ! Commandes : !lier")
        answer = await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, "!lier")
        assert answer.startswith("Votre code est ")
        assert "dans les 20 minutes" in answer
        assert await h.stores.link_codes.get(code_in(answer)) is not None
        answer = await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, "!lier ABCD-1234")
        assert answer.startswith("Ce code est inconnu")
        assert await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, "!délier") == (
            "Votre compte Matrix n'est relié à aucun compte Discord."
        )
