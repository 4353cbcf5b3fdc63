"""Discord's permission algorithm as a pure function (no emulator)."""

from __future__ import annotations

import pytest

from sandbox.discord import permissions as p
from sandbox.discord.permissions import Overwrite

GUILD = 100
OWNER = 1
USER = 2
MEMBER_ROLE = 200
MOD_ROLE = 201
EVERYONE_PERMS = p.VIEW_CHANNEL | p.SEND_MESSAGES | p.READ_MESSAGE_HISTORY
ROLES = {GUILD: EVERYONE_PERMS, MEMBER_ROLE: 0, MOD_ROLE: p.MANAGE_MESSAGES}


def perms(roles: list[int], overwrites: list[Overwrite], user: int = USER) -> int:
    return p.channel_permissions(
        guild_id=GUILD,
        owner_id=OWNER,
        user_id=user,
        member_roles=roles,
        role_permissions=ROLES,
        overwrites=overwrites,
    )


def test_base_is_everyone_or_member_roles() -> None:
    assert perms([], []) == EVERYONE_PERMS
    assert perms([MOD_ROLE], []) == EVERYONE_PERMS | p.MANAGE_MESSAGES


def test_owner_and_administrator_get_everything_despite_overwrites() -> None:
    deny_all = [Overwrite(GUILD, p.OVERWRITE_ROLE, 0, p.ALL)]
    assert perms([], deny_all, user=OWNER) == p.ALL
    roles = {**ROLES, 300: p.ADMINISTRATOR}
    admin = p.channel_permissions(
        guild_id=GUILD,
        owner_id=OWNER,
        user_id=USER,
        member_roles=[300],
        role_permissions=roles,
        overwrites=deny_all,
    )
    assert admin == p.ALL


def test_members_only_channel() -> None:
    """@everyone denied VIEW_CHANNEL, the Member role allowed it back."""
    overwrites = [
        Overwrite(GUILD, p.OVERWRITE_ROLE, 0, p.VIEW_CHANNEL),
        Overwrite(MEMBER_ROLE, p.OVERWRITE_ROLE, p.VIEW_CHANNEL, 0),
    ]
    assert perms([], overwrites) == 0  # no VIEW_CHANNEL -> nothing at all
    assert perms([MEMBER_ROLE], overwrites) & p.VIEW_CHANNEL


def test_role_allow_beats_role_deny_and_member_overwrite_beats_roles() -> None:
    overwrites = [
        Overwrite(MEMBER_ROLE, p.OVERWRITE_ROLE, 0, p.SEND_MESSAGES),
        Overwrite(MOD_ROLE, p.OVERWRITE_ROLE, p.SEND_MESSAGES, 0),
    ]
    assert perms([MEMBER_ROLE], overwrites) & p.SEND_MESSAGES == 0
    assert perms([MEMBER_ROLE, MOD_ROLE], overwrites) & p.SEND_MESSAGES
    member_deny = [*overwrites, Overwrite(USER, p.OVERWRITE_MEMBER, 0, p.SEND_MESSAGES)]
    assert perms([MEMBER_ROLE, MOD_ROLE], member_deny) & p.SEND_MESSAGES == 0


def test_everyone_overwrite_applies_before_role_overwrites() -> None:
    overwrites = [
        Overwrite(MEMBER_ROLE, p.OVERWRITE_ROLE, p.EMBED_LINKS, 0),
        Overwrite(GUILD, p.OVERWRITE_ROLE, 0, p.EMBED_LINKS | p.SEND_MESSAGES),
    ]
    got = perms([MEMBER_ROLE], overwrites)
    assert got & p.EMBED_LINKS
    assert not got & p.SEND_MESSAGES


def test_overwrites_for_roles_the_member_lacks_are_ignored() -> None:
    overwrites = [Overwrite(MOD_ROLE, p.OVERWRITE_ROLE, p.MANAGE_WEBHOOKS, 0)]
    assert not perms([], overwrites) & p.MANAGE_WEBHOOKS
    other_member = [Overwrite(999, p.OVERWRITE_MEMBER, 0, p.VIEW_CHANNEL)]
    assert perms([], other_member) == EVERYONE_PERMS


@pytest.mark.parametrize(
    ("have", "need", "ok"),
    [(0b111, 0b101, True), (0b101, 0b111, False), (0, 0, True)],
)
def test_has(have: int, need: int, ok: bool) -> None:
    assert p.has(have, need) is ok
