"""Shared fixtures: real PostgreSQL databases, and the whole sandbox stack
(real Synapse + Discord emulator + bridge) for end-to-end tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.clients import DiscordUser, MatrixUser
from sandbox.postgres import create_database, drop_database, postgres_available
from sandbox.stack import SandboxStack, StackOptions

IN_CI = os.environ.get("CI", "").lower() == "true"


async def _require_postgres() -> None:
    reason = await postgres_available()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL is required under CI=true but is unreachable: {reason}")
    pytest.skip(f"PostgreSQL unreachable ({reason}); set PASSERELLE_TEST_PG or start it")


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    await _require_postgres()
    dsn = await create_database()
    try:
        yield dsn
    finally:
        await drop_database(dsn)


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each supported database in turn: SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'bridge.db'}"
        return
    await _require_postgres()
    dsn = await create_database()
    try:
        yield dsn
    finally:
        await drop_database(dsn)


# -- the whole stack: real Synapse + Discord emulator + bridge on PostgreSQL ------------


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SandboxStack]:
    await _require_postgres()
    dsn = await create_database(prefix="passerelle_e2e")
    opts = StackOptions(
        workdir=tmp_path_factory.mktemp("stack"),
        database_url=dsn,
        matrix_users=[
            ("alice", "alice-password"),
            ("carol", "carol-password"),
            ("dave", "dave-password"),
            ("erin", "erin-password"),
        ],
        moderators=["@carol:localhost"],
        # Verified members without a link; erin is not one (members-only tests).
        members_allowlist=["@alice:localhost", "@carol:localhost", "@dave:localhost"],
        # The tests send quickly; the flood test installs a strict limiter of its own.
        sender_burst=1000,
        # Synapse offers SSO (a sandbox CAS server) besides passwords: the members'
        # page's SSO link and account creation (tests/e2e/test_web_sso.py).
        sso=True,
        config_overrides={
            "moderation": {
                # The demo seed's members all joined when the emulator started, and the
                # tests post links, mentions and the same words in several channels: the
                # other protections start off (tests/e2e/test_protections.py switches
                # them on).
                "protections": {
                    "mentions": {"enabled": False},
                    "newcomers": {"enabled": False},
                    "repeats": {"enabled": False},
                },
                # The tests make new accounts in quick succession, which the join alert
                # would take for a raid building (tests/faults/test_raid.py runs it with
                # defaults).
                "lockdown": {"join_wave": {"alert_joins": 0}},
            }
        },
    )
    try:
        async with SandboxStack(opts) as running:
            yield running
    finally:
        await drop_database(dsn)


def matrix_token(stack: SandboxStack, localpart: str) -> tuple[str, str]:
    user_id = f"@{localpart}:{stack.synapse.server_name}"  # type: ignore[union-attr]
    return user_id, stack.matrix_tokens[user_id]


def discord_token(stack: SandboxStack, username: str) -> str:
    """The emulator's token of a seeded Discord user."""
    return str(next(u["token"] for u in stack.seed["users"] if u["username"] == username))


async def element_moderator(stack: SandboxStack, *, policy_room: bool = False) -> MatrixUser:
    """Carol on Element, a configured moderator: joined to every portal room and the
    moderators' room (and the policy room); close it when done."""
    user_id, token = matrix_token(stack, "carol")
    user = MatrixUser(stack.synapse.url, user_id, token)  # type: ignore[union-attr]
    moderation = stack.bridge.ctx.moderation  # type: ignore[union-attr]
    for portal in await stack.bridge.ctx.stores.portals.all():  # type: ignore[union-attr]
        await user.join(portal.room_id)
    await user.join(moderation.mod_room)  # type: ignore[arg-type]
    if policy_room:
        await user.join(moderation.policy_room)  # type: ignore[arg-type]
    await user.prime()
    return user


@pytest.fixture(scope="session")
async def matrix_alice(stack: SandboxStack) -> AsyncIterator[MatrixUser]:
    """Alice on Element: joined to every portal room."""
    user_id, token = matrix_token(stack, "alice")
    user = MatrixUser(stack.synapse.url, user_id, token)  # type: ignore[union-attr]
    await user.client.set_displayname("Alice Liddell")
    for portal in await stack.bridge.ctx.stores.portals.all():  # type: ignore[union-attr]
        await user.join(portal.room_id)
    await user.prime()
    yield user
    await user.close()


@pytest.fixture(scope="session")
async def discord_bob(stack: SandboxStack) -> AsyncIterator[DiscordUser]:
    """Bob on Discord: an unmodified discord.py client logged in to the emulator."""
    bob = next(u for u in stack.seed["users"] if u["username"] == "bob")
    user = DiscordUser(stack.emulator.api_base, bob["token"])  # type: ignore[union-attr]
    await user.start()
    yield user
    await user.close()
