"""Members-only decisions (moderation.members_only): channel classification by Discord's
permission algorithm, member visibility, verified members, access, link codes."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from moderation.members_only import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    CODE_ALPHABET,
    VIEW_CHANNEL,
    AccessDecision,
    Overwrite,
    Undecidable,
    access_decision,
    channel_visibility,
    code_valid,
    compute_base_permissions,
    compute_overwrites,
    display_code,
    effective_access,
    extract_code,
    is_verified_member,
    member_can_view,
    new_link_code,
    normalise_code,
)
from sandbox.discord import permissions as emulator_perms

SEED = Path(__file__).resolve().parents[2] / "sandbox" / "discord" / "demo_seed.yaml"

GUILD = 3000000000000000001  # also the @everyone role
MEMBER_ROLE = 3000000000000000011
MOD_ROLE = 3000000000000000013
BRIDGE_ROLE = 3000000000000000012
DEFAULT_EVERYONE = 378061446721  # Discord's defaults, VIEW_CHANNEL included
ALICE = 2000000000000000001  # the demo guild's owner, Member role
BOB = 2000000000000000002  # no role
CAROL = 2000000000000000003  # Moderator


def everyone(allow: int = 0, deny: int = 0) -> Overwrite:
    return Overwrite(GUILD, 0, allow, deny)


def role(role_id: int, allow: int = 0, deny: int = 0) -> Overwrite:
    return Overwrite(role_id, 0, allow, deny)


def member(user_id: int, allow: int = 0, deny: int = 0) -> Overwrite:
    return Overwrite(user_id, 1, allow, deny)


# -- the demo seed -------------------------------------------------------------


def _seed() -> dict[str, Any]:
    data = yaml.safe_load(SEED.read_text())
    assert isinstance(data, dict)
    return data


def _seed_world() -> tuple[
    dict[int, int], dict[str, list[Overwrite]], dict[int, list[int]], int, int
]:
    guild = _seed()["guilds"][0]
    roles = {int(r["id"]): int(r.get("permissions", "0")) for r in guild["roles"]}
    channels: dict[str, list[Overwrite]] = {}
    for chan in guild["channels"]:
        parsed = [Overwrite.from_wire(ow) for ow in chan.get("permission_overwrites", [])]
        assert all(ow is not None for ow in parsed)
        channels[chan["name"]] = [ow for ow in parsed if ow is not None]
    members = {int(m["user_id"]): [int(r) for r in m.get("roles", [])] for m in guild["members"]}
    return roles, channels, members, int(guild["id"]), int(guild["owner_id"])


@pytest.mark.parametrize(
    ("channel", "expected"),
    [("campaign", "public"), ("members", "members_only"), ("moderators", "members_only")],
)
def test_demo_seed_channels_are_classified(channel: str, expected: str) -> None:
    roles, channels, _members, guild_id, _owner = _seed_world()
    assert channel_visibility(guild_id, roles[guild_id], channels[channel]) == expected
    # The owner's view never widens the classification.
    assert channel_visibility(guild_id, roles[guild_id], channels[channel], guild_owner=True) == (
        expected
    )


@pytest.mark.parametrize(
    ("channel", "user", "sees"),
    [
        ("campaign", BOB, True),
        ("members", ALICE, True),  # owner (and Member)
        ("members", BOB, False),
        ("members", CAROL, False),  # a moderator, but not a Member
        ("members", 1000000000000000001, True),  # the bridge bot: ADMINISTRATOR
        ("moderators", CAROL, True),
        ("moderators", BOB, False),
    ],
)
def test_demo_seed_member_visibility(channel: str, user: int, sees: bool) -> None:
    roles, channels, members, guild_id, owner = _seed_world()
    got = member_can_view(
        members[user], user, roles, guild_id, channels[channel], is_owner=user == owner
    )
    assert got is sees


def test_demo_seed_non_owner_member_role_sees_members_channel() -> None:
    roles, channels, _members, guild_id, _owner = _seed_world()
    assert member_can_view([MEMBER_ROLE], BOB, roles, guild_id, channels["members"])


# -- channel classification --------------------------------------------------------


@pytest.mark.parametrize(
    ("everyone_perms", "overwrites", "expected"),
    [
        pytest.param(DEFAULT_EVERYONE, [], "public", id="no overwrites"),
        pytest.param(0, [], "members_only", id="everyone role without VIEW_CHANNEL"),
        pytest.param(
            DEFAULT_EVERYONE, [everyone(deny=VIEW_CHANNEL)], "members_only", id="everyone denied"
        ),
        pytest.param(
            DEFAULT_EVERYONE,
            [everyone(deny=VIEW_CHANNEL), role(MEMBER_ROLE, allow=VIEW_CHANNEL)],
            "members_only",
            id="everyone denied, member role allowed",
        ),
        pytest.param(0, [everyone(allow=VIEW_CHANNEL)], "public", id="everyone overwrite allows"),
        pytest.param(
            DEFAULT_EVERYONE,
            [everyone(allow=VIEW_CHANNEL, deny=VIEW_CHANNEL)],
            "public",
            id="allow applied after deny",
        ),
        pytest.param(
            DEFAULT_EVERYONE,
            [role(MEMBER_ROLE, deny=VIEW_CHANNEL)],
            "public",
            id="role deny does not concern @everyone",
        ),
        pytest.param(
            0,
            [role(MEMBER_ROLE, allow=VIEW_CHANNEL), member(BOB, allow=VIEW_CHANNEL)],
            "members_only",
            id="role and member allows do not concern @everyone",
        ),
        pytest.param(
            DEFAULT_EVERYONE,
            [member(BOB, deny=VIEW_CHANNEL)],
            "public",
            id="one member denied",
        ),
        pytest.param(
            ADMINISTRATOR,
            [everyone(deny=VIEW_CHANNEL)],
            "public",
            id="everyone is ADMINISTRATOR",
        ),
        pytest.param(
            DEFAULT_EVERYONE,
            [Overwrite(GUILD, 2, 0, 0)],
            "members_only",
            id="unknown overwrite type",
        ),
        pytest.param(
            DEFAULT_EVERYONE, [Overwrite(GUILD, 0, -1, 0)], "members_only", id="negative bits"
        ),
        pytest.param(None, [], "members_only", id="unknown everyone permissions"),
        pytest.param(DEFAULT_EVERYONE, None, "members_only", id="unknown overwrites"),
        pytest.param(-5, [], "members_only", id="malformed everyone permissions"),
    ],
)
def test_channel_visibility(
    everyone_perms: int | None, overwrites: list[Overwrite] | None, expected: str
) -> None:
    assert channel_visibility(GUILD, everyone_perms, overwrites) == expected


def test_channel_visibility_without_everyone_role_fails_closed() -> None:
    assert channel_visibility(None, DEFAULT_EVERYONE, []) == "members_only"


def test_channel_visibility_rejects_non_overwrites() -> None:
    bogus: Any = [{"id": str(GUILD), "type": 0, "allow": "0", "deny": "0"}]
    assert channel_visibility(GUILD, DEFAULT_EVERYONE, bogus) == "members_only"


@pytest.mark.parametrize(
    ("wire", "parsed"),
    [
        ({"id": "5", "type": 0, "allow": "1024", "deny": "0"}, Overwrite(5, 0, 1024, 0)),
        ({"id": 5, "type": "1", "allow": 0, "deny": 8}, Overwrite(5, 1, 0, 8)),
        ({"id": "5", "type": 0, "allow": "x", "deny": "0"}, None),
        ({"id": "5", "type": 0, "allow": "-1", "deny": "0"}, None),
        ({"id": "5", "type": 0, "allow": "0"}, None),
        ({"id": "5", "type": None, "allow": "0", "deny": "0"}, None),
        ({"id": "5", "type": True, "allow": "0", "deny": "0"}, None),
    ],
)
def test_overwrite_from_wire(wire: dict[str, Any], parsed: Overwrite | None) -> None:
    assert Overwrite.from_wire(wire) == parsed


# -- member visibility ---------------------------------------------------------------

ROLES = {GUILD: DEFAULT_EVERYONE, MEMBER_ROLE: 0, MOD_ROLE: 8326, BRIDGE_ROLE: ADMINISTRATOR}
PRIVATE = [everyone(deny=VIEW_CHANNEL), role(MEMBER_ROLE, allow=VIEW_CHANNEL)]


@pytest.mark.parametrize(
    ("roles_held", "user", "overwrites", "is_owner", "sees"),
    [
        pytest.param([MEMBER_ROLE], BOB, PRIVATE, False, True, id="member role allowed"),
        pytest.param([], BOB, PRIVATE, False, False, id="no role"),
        pytest.param([MOD_ROLE], BOB, PRIVATE, False, False, id="other role"),
        pytest.param(
            [MEMBER_ROLE],
            BOB,
            [*PRIVATE, member(BOB, deny=VIEW_CHANNEL)],
            False,
            False,
            id="member-specific deny beats role allow",
        ),
        pytest.param(
            [],
            BOB,
            [*PRIVATE, member(BOB, allow=VIEW_CHANNEL)],
            False,
            True,
            id="member-specific allow",
        ),
        pytest.param(
            [MEMBER_ROLE, MOD_ROLE],
            BOB,
            [*PRIVATE, role(MOD_ROLE, deny=VIEW_CHANNEL)],
            False,
            True,
            id="role allow beats another role's deny",
        ),
        pytest.param(
            [MOD_ROLE],
            BOB,
            [role(MOD_ROLE, deny=VIEW_CHANNEL)],
            False,
            False,
            id="role deny in a public channel",
        ),
        pytest.param(
            [BRIDGE_ROLE],
            BOB,
            [*PRIVATE, member(BOB, deny=VIEW_CHANNEL)],
            False,
            True,
            id="ADMINISTRATOR ignores overwrites",
        ),
        pytest.param(
            [], ALICE, [*PRIVATE, member(ALICE, deny=VIEW_CHANNEL)], True, True, id="owner"
        ),
        pytest.param(
            [MEMBER_ROLE], BOB, [*PRIVATE, Overwrite(9, 7, 0, 0)], False, False, id="unknown type"
        ),
        pytest.param([MEMBER_ROLE, 999], BOB, PRIVATE, False, True, id="unknown role adds nothing"),
        pytest.param(
            [GUILD], BOB, PRIVATE, False, False, id="@everyone listed as a role changes nothing"
        ),
    ],
)
def test_member_can_view(
    roles_held: list[int], user: int, overwrites: list[Overwrite], is_owner: bool, sees: bool
) -> None:
    assert member_can_view(roles_held, user, ROLES, GUILD, overwrites, is_owner) is sees


@pytest.mark.parametrize(
    "args",
    [
        (None, BOB, ROLES, GUILD, PRIVATE),
        ([MEMBER_ROLE], None, ROLES, GUILD, PRIVATE),
        ([MEMBER_ROLE], BOB, None, GUILD, PRIVATE),
        ([MEMBER_ROLE], BOB, ROLES, None, PRIVATE),
        ([MEMBER_ROLE], BOB, ROLES, GUILD, None),
        ([MEMBER_ROLE], BOB, {MEMBER_ROLE: VIEW_CHANNEL}, GUILD, []),  # no @everyone role
    ],
)
def test_member_can_view_fails_closed(args: tuple[Any, ...]) -> None:
    assert member_can_view(*args) is False


def test_base_permissions_and_overwrites_directly() -> None:
    assert compute_base_permissions(everyone_id=GUILD, member_role_ids=[], roles={}, is_owner=True)
    assert (
        compute_base_permissions(everyone_id=GUILD, member_role_ids=[BRIDGE_ROLE], roles=ROLES)
        == ALL_PERMISSIONS
    )
    with pytest.raises(Undecidable):
        compute_base_permissions(everyone_id=GUILD, member_role_ids=[], roles={})
    with pytest.raises(Undecidable):
        compute_overwrites(0, everyone_id=GUILD, member_id=BOB, member_role_ids=[], overwrites=None)


def test_agrees_with_the_emulator_on_random_worlds() -> None:
    """The emulator's independent implementation of the same documented algorithm
    must agree on VIEW_CHANNEL for a few thousand random roles/overwrites."""
    rng = random.Random(5)
    bits = [VIEW_CHANNEL, ADMINISTRATOR, 1 << 11, 0]
    role_ids = [GUILD, 11, 12, 13]
    users = [21, 22, 23]
    for _ in range(3000):
        roles = {r: rng.choice(bits) | rng.choice(bits) for r in role_ids}
        overwrites = [
            Overwrite(
                rng.choice(role_ids + users),
                rng.choice((0, 1)),
                rng.choice(bits),
                rng.choice(bits),
            )
            for _ in range(rng.randrange(5))
        ]
        held = rng.sample(role_ids[1:], rng.randrange(4))
        user = rng.choice(users)
        owner = rng.choice([*users, 99])
        expected = emulator_perms.channel_permissions(
            guild_id=GUILD,
            owner_id=owner,
            user_id=user,
            member_roles=held,
            role_permissions=roles,
            overwrites=[
                emulator_perms.Overwrite(o.id, o.type, o.allow, o.deny) for o in overwrites
            ],
        )
        got = member_can_view(held, user, roles, GUILD, overwrites, is_owner=user == owner)
        assert got is bool(expected & VIEW_CHANNEL), (roles, overwrites, held, user, owner)
        # And a channel is public exactly when a member with no role and no own
        # overwrite (here: user 98, not the owner) can see it.
        nobody = member_can_view([], 98, roles, GUILD, overwrites)
        assert (channel_visibility(GUILD, roles[GUILD], overwrites) == "public") is nobody


@pytest.mark.parametrize(
    ("configured", "derived", "expected"),
    [
        ("public", "public", "public"),
        ("public", "members_only", "members_only"),
        ("members_only", "public", "members_only"),
        ("public", None, "members_only"),
        (None, "public", "members_only"),
        ("Public", "public", "members_only"),
    ],
)
def test_effective_access_is_the_stricter(
    configured: str | None, derived: str | None, expected: str
) -> None:
    assert effective_access(configured, derived) == expected


# -- verified members and access ---------------------------------------------------------


@pytest.mark.parametrize(
    ("discord_roles", "member_roles", "allowlisted", "verified"),
    [
        ([MEMBER_ROLE], [MEMBER_ROLE], False, True),
        ([MOD_ROLE, MEMBER_ROLE], [MEMBER_ROLE, 77], False, True),
        ([MOD_ROLE], [MEMBER_ROLE], False, False),
        ([], [MEMBER_ROLE], False, False),
        (None, [MEMBER_ROLE], False, False),
        ([MEMBER_ROLE], [], False, False),  # no member role configured: nobody by role
        ([MEMBER_ROLE], None, False, False),
        (None, None, True, True),  # the allowlist/roster
    ],
)
def test_is_verified_member(
    discord_roles: list[int] | None,
    member_roles: list[int] | None,
    allowlisted: bool,
    verified: bool,
) -> None:
    assert is_verified_member(discord_roles, member_roles, allowlisted) is verified


@pytest.mark.parametrize(
    ("access", "linked", "roles", "allowlisted", "decision"),
    [
        ("public", None, None, False, AccessDecision(True, "public")),
        ("members_only", BOB, [MEMBER_ROLE], False, AccessDecision(True, "member_role")),
        ("members_only", None, None, True, AccessDecision(True, "allowlisted")),
        ("members_only", None, [MEMBER_ROLE], False, AccessDecision(False, "not_linked")),
        ("members_only", BOB, None, False, AccessDecision(False, "not_in_guild")),
        ("members_only", BOB, [MOD_ROLE], False, AccessDecision(False, "no_member_role")),
        (None, BOB, [MEMBER_ROLE], False, AccessDecision(False, "unknown_access")),
        ("private", BOB, [MEMBER_ROLE], True, AccessDecision(False, "unknown_access")),
    ],
)
def test_access_decision(
    access: str | None,
    linked: int | None,
    roles: list[int] | None,
    allowlisted: bool,
    decision: AccessDecision,
) -> None:
    got = access_decision(
        access,
        linked_discord_id=linked,
        discord_roles=roles,
        member_role_ids=[MEMBER_ROLE],
        allowlisted=allowlisted,
    )
    assert got == decision


# -- link codes ---------------------------------------------------------------------


def test_new_link_code_shape_and_entropy() -> None:
    assert len(CODE_ALPHABET) == 32 and len(set(CODE_ALPHABET)) == 32
    assert not set("ILOU") & set(CODE_ALPHABET)
    rng = random.Random(1)
    codes = {new_link_code(rng) for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == 8 and set(code) <= set(CODE_ALPHABET)
        assert normalise_code(code) == code
    assert new_link_code(random.Random(7)) == new_link_code(random.Random(7))
    assert len(new_link_code()) == 8  # the system CSPRNG by default


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ABCD1234", "ABCD1234"),
        ("abcd-1234", "ABCD1234"),
        ("  abcd 1234\n", "ABCD1234"),
        ("ABCD.1234", "ABCD1234"),
        ("oIlA-2345", "011A2345"),  # O -> 0, I and L -> 1
        ("uuuu-2345", "VVVV2345"),
        ("ABCD123", None),
        ("ABCD12345", None),
        ("ABCD-12#4", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_code(text: str | None, code: str | None) -> None:
    assert normalise_code(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("abcd-1234", "ABCD1234"),
        ("link ABCD-1234", "ABCD1234"),
        ("!link abcd 1234", "ABCD1234"),
        ("/verify abcd1234", "ABCD1234"),
        ("hello everyone", None),  # code-shaped words are never picked out of prose
        ("my code is ABCD-1234", None),
        ("link", None),
        (None, None),
    ],
)
def test_extract_code(text: str | None, code: str | None) -> None:
    assert extract_code(text) == code


def test_display_code() -> None:
    assert display_code("ABCD1234") == "ABCD-1234"
    assert normalise_code(display_code("ABCD1234")) == "ABCD1234"


@pytest.mark.parametrize(
    ("created", "now", "ttl", "valid"),
    [
        (1000, 1000, 600_000, True),
        (1000, 600_999, 600_000, True),
        (1000, 601_000, 600_000, False),  # expiry is exclusive
        (1000, 999, 600_000, False),  # created in the future
        (1000, 1000, 0, False),
        (1000, 1000, -5, False),
    ],
)
def test_code_valid(created: int, now: int, ttl: int, valid: bool) -> None:
    assert code_valid(created, now, ttl) is valid


def test_french_link_commands_carry_a_code() -> None:
    assert extract_code("!lier abcd-1234") == "ABCD1234"
    assert extract_code("lier ABCD 1234") == "ABCD1234"
    assert extract_code("!vérifier abcd1234") == "ABCD1234"
