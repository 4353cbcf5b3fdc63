"""sandbox.synapse: a real Synapse starts, accepts our registration and stops cleanly."""

from __future__ import annotations

import os
import time
from pathlib import Path

import aiohttp
import pytest
import yaml

from sandbox.synapse import Synapse, SynapseError, SynapseOptions, rate_limits, start_synapse

AS_TOKEN = "as_token_for_sandbox_test"
HS_TOKEN = "hs_token_for_sandbox_test"


def write_registration(path: Path) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "id": "passerelle-test",
                "url": "http://127.0.0.1:9/",  # nothing listens; Synapse just retries
                "as_token": AS_TOKEN,
                "hs_token": HS_TOKEN,
                "sender_localpart": "_discord_bot",
                "rate_limited": False,
                "namespaces": {
                    "users": [{"exclusive": True, "regex": "@_discord_.*"}],
                    "aliases": [],
                    "rooms": [],
                },
            }
        ),
        encoding="utf-8",
    )
    return path


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); look at its state too.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def whoami(session: aiohttp.ClientSession, url: str, token: str) -> tuple[int, dict]:
    async with session.get(
        f"{url}/_matrix/client/v3/account/whoami",
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        return resp.status, await resp.json()


def test_rate_limits_cover_nested_keys() -> None:
    limits = rate_limits()
    assert limits["rc_login"]["failed_attempts"]["burst_count"] >= 100_000
    assert limits["rc_joins"]["local"]["per_second"] >= 1000
    assert set(limits["rc_invites"]) == {"per_room", "per_user", "per_issuer"}


async def test_synapse_lifecycle(tmp_path: Path) -> None:
    registration = write_registration(tmp_path / "registration.yaml")
    began = time.monotonic()
    synapse = await start_synapse(
        SynapseOptions(registration_files=[registration], workdir=tmp_path / "synapse")
    )
    startup = time.monotonic() - began
    print(f"\nSynapse start-up: {startup:.2f} s ({synapse.url})")
    pid = synapse.pid
    assert pid is not None
    try:
        assert synapse.url.startswith("http://127.0.0.1:")
        assert synapse.server_name == "localhost"
        assert synapse.registration_shared_secret
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            async with session.get(f"{synapse.url}/_matrix/client/versions") as resp:
                assert resp.status == 200
                assert "versions" in await resp.json()

            user_id, token = await synapse.register_user(
                "alice", "correct horse", admin=True, displayname="Alice"
            )
            assert user_id == "@alice:localhost"
            status, body = await whoami(session, synapse.url, token)
            assert (status, body["user_id"]) == (200, user_id)

            # Password login works too.
            async with session.post(
                f"{synapse.url}/_matrix/client/v3/login",
                json={
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": "alice"},
                    "password": "correct horse",
                },
            ) as resp:
                assert resp.status == 200, await resp.text()
                login = await resp.json()
            status, body = await whoami(session, synapse.url, login["access_token"])
            assert (status, body["user_id"]) == (200, user_id)

            async with session.get(
                f"{synapse.url}/_matrix/client/v3/profile/{user_id}/displayname"
            ) as resp:
                assert (await resp.json())["displayname"] == "Alice"

            # The appservice token authenticates as the bridge bot.
            status, body = await whoami(session, synapse.url, AS_TOKEN)
            assert (status, body["user_id"]) == (200, "@_discord_bot:localhost")

            # Its exclusive namespace is reserved: ordinary registration is refused.
            with pytest.raises(SynapseError):
                await synapse.register_user("_discord_123", "pw")

            # Many logins in a row are not throttled (rc_login raised).
            for _ in range(8):
                async with session.post(
                    f"{synapse.url}/_matrix/client/v3/login",
                    json={
                        "type": "m.login.password",
                        "identifier": {"type": "m.id.user", "user": "alice"},
                        "password": "wrong",
                    },
                ) as resp:
                    assert resp.status == 403, await resp.text()
    finally:
        await synapse.stop()
    assert not synapse.running
    assert not process_alive(pid)
    await synapse.stop()  # idempotent


async def test_restart_keeps_data(tmp_path: Path) -> None:
    opts = SynapseOptions(workdir=tmp_path / "synapse")
    async with Synapse(opts) as synapse:
        await synapse.register_user("bob", "pw")
        key = (tmp_path / "synapse" / "signing.key").read_text()
    assert not synapse.running
    async with Synapse(opts) as synapse:
        assert (tmp_path / "synapse" / "signing.key").read_text() == key
        with pytest.raises(SynapseError, match="User ID already taken"):
            await synapse.register_user("bob", "pw")


async def test_missing_registration_refused_before_start(tmp_path: Path) -> None:
    synapse = Synapse(SynapseOptions(registration_files=[tmp_path / "nope.yaml"], workdir=tmp_path))
    with pytest.raises(SynapseError, match=r"nope\.yaml"):
        await synapse.start()
    assert synapse.pid is None


async def test_failed_start_reports_log_tail(tmp_path: Path) -> None:
    broken = tmp_path / "broken-registration.yaml"
    broken.write_text("id: broken\nurl: http://127.0.0.1:9/\n", encoding="utf-8")  # no tokens
    synapse = Synapse(SynapseOptions(registration_files=[broken], workdir=tmp_path / "s"))
    with pytest.raises(SynapseError, match="exited with code") as info:
        await synapse.start(timeout=30)
    assert "tail of" in str(info.value)
    assert not synapse.running
