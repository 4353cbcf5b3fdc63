"""The test world: ids, tokens and the seed the emulator tests run against."""

from __future__ import annotations

from typing import Any

GUILD = "3000000000000000001"
CAMPAIGN = "4000000000000000001"
MEMBERS = "4000000000000000002"
VOICE = "4000000000000000003"
BOT = "1000000000000000001"
ALICE = "2000000000000000001"
BOB = "2000000000000000002"
CAROL = "2000000000000000003"
DAVE = "2000000000000000004"  # not in any guild
EVERYONE_ROLE = GUILD
MEMBER_ROLE = "3000000000000000011"
BRIDGE_ROLE = "3000000000000000012"
MOD_ROLE = "3000000000000000013"
EMOJI = "5000000000000000001"
ANIMATED_EMOJI = "5000000000000000002"
STICKER = "6000000000000000001"
LOTTIE_STICKER = "6000000000000000002"

TOKENS = {
    BOT: "bot-token-test",
    ALICE: "alice-token",
    BOB: "bob-token",
    CAROL: "carol-token",
    DAVE: "dave-token",
}


def make_seed() -> dict[str, Any]:
    """The demo seed plus a moderator (carol), an outsider (dave) and a voice channel."""
    return {
        "application": {"id": BOT, "name": "Passerelle"},
        "users": [
            {
                "id": BOT,
                "username": "passerelle",
                "global_name": "Passerelle",
                "bot": True,
                "token": TOKENS[BOT],
            },
            {
                "id": ALICE,
                "username": "alice",
                "global_name": "Alice",
                "token": TOKENS[ALICE],
                "avatar": True,
            },
            {"id": BOB, "username": "bob", "global_name": "Bob", "token": TOKENS[BOB]},
            {"id": CAROL, "username": "carol", "global_name": None, "token": TOKENS[CAROL]},
            {"id": DAVE, "username": "dave", "token": TOKENS[DAVE]},
        ],
        "guilds": [
            {
                "id": GUILD,
                "name": "Campaign HQ",
                "owner_id": ALICE,
                "roles": [
                    {"id": EVERYONE_ROLE, "name": "@everyone", "permissions": "104324673"},
                    {"id": MEMBER_ROLE, "name": "Member", "permissions": "0"},
                    {"id": BRIDGE_ROLE, "name": "Bridge", "permissions": "8"},
                    # MANAGE_MESSAGES | MANAGE_WEBHOOKS | MANAGE_ROLES | MANAGE_NICKNAMES
                    {
                        "id": MOD_ROLE,
                        "name": "Moderator",
                        "permissions": str((1 << 13) | (1 << 29) | (1 << 28) | (1 << 27)),
                        "mentionable": True,
                    },
                ],
                "channels": [
                    {
                        "id": CAMPAIGN,
                        "name": "campaign",
                        "type": 0,
                        "topic": "Public campaign chat",
                        "position": 0,
                    },
                    {
                        "id": MEMBERS,
                        "name": "members",
                        "type": 0,
                        "topic": "Verified members only",
                        "position": 1,
                        "permission_overwrites": [
                            {"id": EVERYONE_ROLE, "type": 0, "allow": "0", "deny": "1024"},
                            {"id": MEMBER_ROLE, "type": 0, "allow": "1024", "deny": "0"},
                        ],
                    },
                    {"id": VOICE, "name": "Lounge", "type": 2, "position": 2},
                ],
                "members": [
                    {"user_id": BOT, "roles": [BRIDGE_ROLE]},
                    {"user_id": ALICE, "roles": [MEMBER_ROLE], "nick": "Alice (HQ)"},
                    {"user_id": BOB, "roles": []},
                    {"user_id": CAROL, "roles": [MOD_ROLE]},
                ],
                "emojis": [
                    {"id": EMOJI, "name": "passerelle"},
                    {"id": ANIMATED_EMOJI, "name": "wave_anim", "animated": True},
                ],
                "stickers": [
                    {"id": STICKER, "name": "Wave", "format_type": 1, "tags": "wave"},
                    {"id": LOTTIE_STICKER, "name": "Party Parrot", "format_type": 3},
                ],
            }
        ],
    }


# A second guild (for multi-guild tests): the bot and bob are in it, alice owns it.
GUILD2 = "3000000000000000002"
GUILD2_MOD_ROLE = "3000000000000000021"
GUILD2_CATEGORY = "4000000000000000011"
GUILD2_GENERAL = "4000000000000000012"


def with_second_guild(seed: dict[str, Any]) -> dict[str, Any]:
    """``seed`` plus GUILD2 (a category with one text channel); returns ``seed``."""
    seed["guilds"].append(
        {
            "id": GUILD2,
            "name": "Second Front",
            "owner_id": ALICE,
            "icon": True,
            "roles": [
                {"id": GUILD2, "name": "@everyone", "permissions": "104324673"},
                {"id": GUILD2_MOD_ROLE, "name": "Admin", "permissions": "8"},
            ],
            "channels": [
                {"id": GUILD2_CATEGORY, "name": "Front", "type": 4, "position": 0},
                {
                    "id": GUILD2_GENERAL,
                    "name": "general",
                    "type": 0,
                    "parent_id": GUILD2_CATEGORY,
                    "position": 0,
                },
            ],
            "members": [
                {"user_id": BOT, "roles": [GUILD2_MOD_ROLE]},
                {"user_id": ALICE, "roles": []},
                {"user_id": BOB, "roles": []},
            ],
        }
    )
    return seed
