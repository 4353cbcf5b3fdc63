"""Emulator seeds with N public text channels (format: sandbox/discord/README.md)."""

from __future__ import annotations

from typing import Any

GUILD_ID = 3000000000000000001
BOT_ID = 1000000000000000001
MEMBER_ROLE = 3000000000000000011
BRIDGE_ROLE = 3000000000000000012
FIRST_CHANNEL = 4000000000000000001
FIRST_USER = 2000000000000000001
# @everyone: view, send, read history, threads ... (the demo seed's value)
EVERYONE_PERMISSIONS = "378061446721"


def user_token(index: int) -> str:
    return f"bench-user-{index}-token"


def channel_id(index: int) -> int:
    return FIRST_CHANNEL + index


def make_seed(channels: int, users: int = 2) -> dict[str, Any]:
    """One guild with ``channels`` public text channels (all bridged by the sandbox config),
    the bridge bot (administrator) and ``users`` ordinary users ``user0``, ``user1`` ..."""
    if channels < 1:
        raise ValueError("at least one channel")
    people = [
        {
            "id": str(FIRST_USER + i),
            "username": f"user{i}",
            "global_name": f"User {i}",
            "token": user_token(i),
        }
        for i in range(users)
    ]
    return {
        "application": {"id": str(BOT_ID), "name": "Passerelle"},
        "users": [
            {
                "id": str(BOT_ID),
                "username": "passerelle",
                "global_name": "Passerelle",
                "bot": True,
                "token": "bench-bot-token",
            },
            *people,
        ],
        "guilds": [
            {
                "id": str(GUILD_ID),
                "name": "Bench guild",
                "owner_id": str(FIRST_USER),
                "roles": [
                    {"id": str(GUILD_ID), "name": "@everyone", "permissions": EVERYONE_PERMISSIONS},
                    {"id": str(MEMBER_ROLE), "name": "Member", "permissions": "0"},
                    {"id": str(BRIDGE_ROLE), "name": "Bridge", "permissions": "8"},
                ],
                "channels": [
                    {
                        "id": str(channel_id(i)),
                        "name": f"chan-{i:04d}",
                        "type": 0,
                        "topic": f"Bench channel {i}",
                        "position": i,
                    }
                    for i in range(channels)
                ],
                "members": [
                    {"user_id": str(BOT_ID), "roles": [str(BRIDGE_ROLE)]},
                    *({"user_id": p["id"], "roles": [str(MEMBER_ROLE)]} for p in people),
                ],
            }
        ],
    }


def make_guilds_seed(guilds: int, channels: int, per_category: int = 20) -> dict[str, Any]:
    """``guilds`` guilds of ``channels`` public text channels each, grouped in categories
    of ``per_category`` (the party's structure at scale). The sandbox config lists the
    first guild's channels one by one and bridges the others whole (``all_channels``)."""
    seed = make_seed(1)
    template = seed["guilds"][0]
    seed["guilds"] = []
    for g in range(guilds):
        guild_id = GUILD_ID + g * 1000
        categories = (channels + per_category - 1) // per_category
        chans: list[dict[str, Any]] = [
            {
                "id": str(category_id(g, c)),
                "name": f"Catégorie {c}",
                "type": 4,
                "position": c,
            }
            for c in range(categories)
        ]
        chans += [
            {
                "id": str(guild_channel_id(g, i)),
                "name": f"g{g}-chan-{i:04d}",
                "type": 0,
                "topic": f"Guild {g} channel {i}",
                "position": i % per_category,
                "parent_id": str(category_id(g, i // per_category)),
            }
            for i in range(channels)
        ]
        seed["guilds"].append(
            {
                **template,
                "id": str(guild_id),
                "name": f"Fédération {g}",
                "roles": [
                    {"id": str(guild_id), "name": "@everyone", "permissions": EVERYONE_PERMISSIONS},
                    {"id": str(guild_id + 11), "name": "Member", "permissions": "0"},
                    {"id": str(guild_id + 12), "name": "Bridge", "permissions": "8"},
                ],
                "channels": chans,
                "members": [
                    {"user_id": str(BOT_ID), "roles": [str(guild_id + 12)]},
                    {"user_id": str(FIRST_USER), "roles": [str(guild_id + 11)]},
                ],
            }
        )
    return seed


def guild_channel_id(guild: int, index: int) -> int:
    return FIRST_CHANNEL + guild * 100_000 + index


def category_id(guild: int, index: int) -> int:
    return FIRST_CHANNEL + guild * 100_000 + 90_000 + index
