"""The emulator's seed: users, guilds, roles, channels and members, from YAML.

:func:`load_seed` reads and validates a file; :func:`validate_seed` checks a
dict and returns a normalised copy (snowflakes as strings, defaults filled in).
Errors are :class:`SeedError` with a message naming the offending key, e.g.
``guilds[0].channels[1].type: expected an integer``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

TOP_KEYS = {"application", "users", "guilds"}
APPLICATION_KEYS = {"id", "name", "description", "owner_id", "flags"}
USER_KEYS = {"id", "username", "global_name", "bot", "token", "avatar", "discriminator"}
GUILD_KEYS = {"id", "name", "owner_id", "roles", "channels", "members", "description"}
GUILD_KEYS |= {"emojis"}
GUILD_KEYS |= {"stickers", "icon"}
STICKER_KEYS = {"id", "name", "format_type", "description", "tags"}
STICKER_FORMATS = {1, 2, 3, 4}  # PNG, APNG, Lottie, GIF
EMOJI_KEYS = {"id", "name", "animated"}
ROLE_KEYS = {"id", "name", "permissions", "position", "color", "hoist", "mentionable"}
CHANNEL_KEYS = {"id", "name", "type", "topic", "position", "permission_overwrites", "parent_id"}
CHANNEL_KEYS |= {"nsfw"}
FORUM_KEYS = {"available_tags", "default_reaction_emoji", "default_sort_order"}
FORUM_KEYS |= {"default_forum_layout"}
CHANNEL_KEYS |= FORUM_KEYS
TAG_KEYS = {"id", "name", "moderated", "emoji_id", "emoji_name"}
REACTION_KEYS = {"emoji_id", "emoji_name"}
OVERWRITE_KEYS = {"id", "type", "allow", "deny"}
MEMBER_KEYS = {"user_id", "roles", "nick", "joined_at"}
CHANNEL_TYPES = {0, 2, 4, 5, 15, 16}  # text, voice, category, announcement, forum, media
FORUM_TYPES = {15, 16}


class SeedError(ValueError):
    """The seed is not valid; the message says where and why."""


def load_seed(path: str | Path) -> dict[str, Any]:
    """Read a seed YAML file and return the validated, normalised seed."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeedError(f"cannot read seed {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SeedError(f"seed {path} is not valid YAML: {exc}") from exc
    return validate_seed(data)


def _keys(where: str, obj: Any, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise SeedError(f"{where}: expected a mapping, got {type(obj).__name__}")
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise SeedError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )
    missing = sorted(required - set(obj))
    if missing:
        raise SeedError(f"{where}: missing required key {missing[0]!r}")
    return obj


def _snowflake(where: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SeedError(f"{where}: expected a snowflake string, got {value!r}")
    text = str(value)
    if not text.isdigit() or int(text) <= 0 or int(text) >= 1 << 64:
        raise SeedError(f"{where}: expected a snowflake (decimal digits), got {value!r}")
    return str(int(text))


def _bitfield(where: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise SeedError(f"{where}: expected a permission bitfield as a decimal string")
    return str(int(value))


def _str(where: str, value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not optional and not value):
        raise SeedError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _int(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SeedError(f"{where}: expected an integer, got {value!r}")
    return value


def _bool(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SeedError(f"{where}: expected true or false, got {value!r}")
    return value


def _list(where: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SeedError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _user(where: str, raw: Any) -> dict[str, Any]:
    obj = _keys(where, raw, USER_KEYS, {"id", "username", "token"})
    user: dict[str, Any] = {
        "id": _snowflake(f"{where}.id", obj["id"]),
        "username": _str(f"{where}.username", obj["username"]),
        "global_name": _str(f"{where}.global_name", obj.get("global_name"), optional=True),
        "bot": _bool(f"{where}.bot", obj.get("bot", False)),
        "token": _str(f"{where}.token", obj["token"]),
        "avatar": _bool(f"{where}.avatar", obj.get("avatar", False)),
        "discriminator": str(obj.get("discriminator", "0")),
    }
    return user


def _overwrite(where: str, raw: Any) -> dict[str, Any]:
    obj = _keys(where, raw, OVERWRITE_KEYS, {"id", "type"})
    kind = _int(f"{where}.type", obj["type"])
    if kind not in (0, 1):
        raise SeedError(f"{where}.type: expected 0 (role) or 1 (member), got {kind}")
    return {
        "id": _snowflake(f"{where}.id", obj["id"]),
        "type": kind,
        "allow": _bitfield(f"{where}.allow", obj.get("allow", "0")),
        "deny": _bitfield(f"{where}.deny", obj.get("deny", "0")),
    }


def _guild(where: str, raw: Any, user_ids: set[str]) -> dict[str, Any]:
    obj = _keys(where, raw, GUILD_KEYS, {"id", "name", "owner_id"})
    gid = _snowflake(f"{where}.id", obj["id"])
    owner = _snowflake(f"{where}.owner_id", obj["owner_id"])
    if owner not in user_ids:
        raise SeedError(f"{where}.owner_id: unknown user {owner}")
    roles: list[dict[str, Any]] = []
    for i, r in enumerate(_list(f"{where}.roles", obj.get("roles"))):
        w = f"{where}.roles[{i}]"
        ro = _keys(w, r, ROLE_KEYS, {"id", "name"})
        roles.append(
            {
                "id": _snowflake(f"{w}.id", ro["id"]),
                "name": _str(f"{w}.name", ro["name"]),
                "permissions": _bitfield(f"{w}.permissions", ro.get("permissions", "0")),
                "position": _int(f"{w}.position", ro.get("position", i)),
                "color": _int(f"{w}.color", ro.get("color", 0)),
                "hoist": _bool(f"{w}.hoist", ro.get("hoist", False)),
                "mentionable": _bool(f"{w}.mentionable", ro.get("mentionable", False)),
            }
        )
    if not any(r["id"] == gid for r in roles):
        # Every guild has an @everyone role whose id is the guild's id. Discord's default
        # permissions, including CREATE_PUBLIC/PRIVATE_THREADS and SEND_MESSAGES_IN_THREADS.
        roles.insert(0, {"id": gid, "name": "@everyone", "permissions": "378061446721"})
        roles[0].update(position=0, color=0, hoist=False, mentionable=False)
    role_ids = [str(r["id"]) for r in roles]
    _unique(f"{where}.roles", role_ids)
    channels = []
    for i, c in enumerate(_list(f"{where}.channels", obj.get("channels"))):
        w = f"{where}.channels[{i}]"
        co = _keys(w, c, CHANNEL_KEYS, {"id", "name"})
        kind = _int(f"{w}.type", co.get("type", 0))
        if kind not in CHANNEL_TYPES:
            raise SeedError(f"{w}.type: unsupported channel type {kind} (use 0, 2, 4, 5, 15 or 16)")
        parent = co.get("parent_id")
        channel: dict[str, Any] = _forum_fields(w, co, kind)
        channels.append(
            {
                **channel,
                "id": _snowflake(f"{w}.id", co["id"]),
                "name": _str(f"{w}.name", co["name"]),
                "type": kind,
                "topic": _str(f"{w}.topic", co.get("topic"), optional=True),
                "position": _int(f"{w}.position", co.get("position", i)),
                "nsfw": _bool(f"{w}.nsfw", co.get("nsfw", False)),
                "parent_id": None if parent is None else _snowflake(f"{w}.parent_id", parent),
                "permission_overwrites": [
                    _overwrite(f"{w}.permission_overwrites[{j}]", ow)
                    for j, ow in enumerate(
                        _list(f"{w}.permission_overwrites", co.get("permission_overwrites"))
                    )
                ],
            }
        )
    _check_parents(where, channels)
    members: list[dict[str, Any]] = []
    for i, m in enumerate(_list(f"{where}.members", obj.get("members"))):
        w = f"{where}.members[{i}]"
        mo = _keys(w, m, MEMBER_KEYS, {"user_id"})
        uid = _snowflake(f"{w}.user_id", mo["user_id"])
        if uid not in user_ids:
            raise SeedError(f"{w}.user_id: unknown user {uid}")
        mroles = [_snowflake(f"{w}.roles", r) for r in _list(f"{w}.roles", mo.get("roles"))]
        for r in mroles:
            if r not in role_ids:
                raise SeedError(f"{w}.roles: unknown role {r} in guild {gid}")
        members.append(
            {
                "user_id": uid,
                "roles": mroles,
                "nick": _str(f"{w}.nick", mo.get("nick"), optional=True),
                "joined_at": _str(f"{w}.joined_at", mo.get("joined_at"), optional=True),
            }
        )
    _unique(f"{where}.members", [m["user_id"] for m in members])
    emojis = [
        _emoji(f"{where}.emojis[{i}]", e)
        for i, e in enumerate(_list(f"{where}.emojis", obj.get("emojis")))
    ]
    _unique(f"{where}.emojis", [e["id"] for e in emojis])
    return {
        "id": gid,
        "name": _str(f"{where}.name", obj["name"]),
        "owner_id": owner,
        "description": _str(f"{where}.description", obj.get("description"), optional=True),
        "icon": _bool(f"{where}.icon", obj.get("icon", False)),
        "roles": roles,
        "channels": channels,
        "members": members,
        "emojis": emojis,
        "stickers": _stickers(where, obj),
    }


def _check_parents(where: str, channels: list[dict[str, Any]]) -> None:
    """A ``parent_id`` names a category (type 4) of the same guild."""
    categories = {c["id"] for c in channels if c["type"] == 4}
    for i, c in enumerate(channels):
        if c["parent_id"] is not None and (c["type"] == 4 or c["parent_id"] not in categories):
            raise SeedError(
                f"{where}.channels[{i}].parent_id: {c['parent_id']} is not a category of this guild"
            )


def _forum_fields(where: str, obj: dict[str, Any], kind: int) -> dict[str, Any]:
    """``available_tags``, ``default_reaction_emoji``, ``default_sort_order`` and
    ``default_forum_layout``: only on forum (15) and media (16) channels."""
    present = sorted(k for k in FORUM_KEYS if k in obj)
    if kind not in FORUM_TYPES:
        if present:
            raise SeedError(f"{where}.{present[0]}: only forum (15) and media (16) channels")
        return {}
    tags: list[dict[str, Any]] = []
    for i, raw in enumerate(_list(f"{where}.available_tags", obj.get("available_tags"))):
        w = f"{where}.available_tags[{i}]"
        tag = _keys(w, raw, TAG_KEYS, {"id", "name"})
        name = _str(f"{w}.name", tag["name"])
        assert name is not None
        if len(name) > 20:
            raise SeedError(f"{w}.name: at most 20 characters")
        emoji_id = tag.get("emoji_id")
        tags.append(
            {
                "id": _snowflake(f"{w}.id", tag["id"]),
                "name": name,
                "moderated": _bool(f"{w}.moderated", tag.get("moderated", False)),
                "emoji_id": None if emoji_id is None else _snowflake(f"{w}.emoji_id", emoji_id),
                "emoji_name": _str(f"{w}.emoji_name", tag.get("emoji_name"), optional=True),
            }
        )
    if len(tags) > 20:
        raise SeedError(f"{where}.available_tags: at most 20 tags")
    _unique(f"{where}.available_tags", [t["id"] for t in tags])
    reaction = obj.get("default_reaction_emoji")
    if reaction is not None:
        w = f"{where}.default_reaction_emoji"
        ro = _keys(w, reaction, REACTION_KEYS, set())
        emoji_id = ro.get("emoji_id")
        reaction = {
            "emoji_id": None if emoji_id is None else _snowflake(f"{w}.emoji_id", emoji_id),
            "emoji_name": _str(f"{w}.emoji_name", ro.get("emoji_name"), optional=True),
        }
    order = obj.get("default_sort_order")
    if order is not None and _int(f"{where}.default_sort_order", order) not in (0, 1):
        raise SeedError(f"{where}.default_sort_order: expected 0 (latest activity) or 1 (creation)")
    layout = _int(f"{where}.default_forum_layout", obj.get("default_forum_layout", 0))
    if layout not in (0, 1, 2):
        raise SeedError(f"{where}.default_forum_layout: expected 0, 1 (list) or 2 (gallery)")
    return {
        "available_tags": tags,
        "default_reaction_emoji": reaction,
        "default_sort_order": order,
        "default_forum_layout": layout,
    }


def _stickers(where: str, guild: dict[str, Any]) -> list[dict[str, Any]]:
    """A guild's stickers: served at ``/cdn/stickers/{id}.png`` (``.json`` for Lottie)."""
    stickers: list[dict[str, Any]] = []
    for i, raw in enumerate(_list(f"{where}.stickers", guild.get("stickers"))):
        w = f"{where}.stickers[{i}]"
        obj = _keys(w, raw, STICKER_KEYS, {"id", "name"})
        fmt = _int(f"{w}.format_type", obj.get("format_type", 1))
        if fmt not in STICKER_FORMATS:
            raise SeedError(f"{w}.format_type: expected 1 (PNG), 2 (APNG), 3 (Lottie) or 4 (GIF)")
        stickers.append(
            {
                "id": _snowflake(f"{w}.id", obj["id"]),
                "name": _str(f"{w}.name", obj["name"]),
                "format_type": fmt,
                "description": _str(f"{w}.description", obj.get("description"), optional=True),
                "tags": _str(f"{w}.tags", obj.get("tags", obj["name"])),
            }
        )
    _unique(f"{where}.stickers", [s["id"] for s in stickers])
    return stickers


def _emoji(where: str, raw: Any) -> dict[str, Any]:
    """A guild custom emoji: name of 2-32 letters, digits or underscores."""
    obj = _keys(where, raw, EMOJI_KEYS, {"id", "name"})
    name = _str(f"{where}.name", obj["name"])
    assert name is not None
    if not (2 <= len(name) <= 32) or not all(
        c.isascii() and (c.isalnum() or c == "_") for c in name
    ):
        raise SeedError(f"{where}.name: expected 2-32 letters, digits or underscores, got {name!r}")
    return {
        "id": _snowflake(f"{where}.id", obj["id"]),
        "name": name,
        "animated": _bool(f"{where}.animated", obj.get("animated", False)),
    }


def _unique(where: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise SeedError(f"{where}: duplicate id {value}")
        seen.add(value)


def validate_seed(data: Any) -> dict[str, Any]:
    """Check a seed mapping and return a normalised deep copy."""
    top = _keys("seed", data, TOP_KEYS, {"users"})
    raw_users = _list("users", top["users"])
    if not raw_users:
        raise SeedError("users: at least one user is required")
    users = [_user(f"users[{i}]", u) for i, u in enumerate(raw_users)]
    _unique("users", [u["id"] for u in users])
    tokens = [u["token"] for u in users]
    if len(set(tokens)) != len(tokens):
        raise SeedError("users: two users share a token")
    user_ids = {u["id"] for u in users}
    guilds = [
        _guild(f"guilds[{i}]", g, user_ids)
        for i, g in enumerate(_list("guilds", top.get("guilds")))
    ]
    all_ids = [g["id"] for g in guilds] + [c["id"] for g in guilds for c in g["channels"]]
    all_ids += [e["id"] for g in guilds for e in g["emojis"]]
    # Role ids are snowflakes too: unique across guilds (@everyone's is its guild's id).
    all_ids += [r["id"] for g in guilds for r in g["roles"] if r["id"] != g["id"]]
    all_ids += [s["id"] for g in guilds for s in g["stickers"]]
    _unique("guilds", all_ids)
    application = None
    if top.get("application") is not None:
        w = "application"
        ao = _keys(w, top["application"], APPLICATION_KEYS, {"id", "name"})
        application = {
            "id": _snowflake(f"{w}.id", ao["id"]),
            "name": _str(f"{w}.name", ao["name"]),
            "description": str(ao.get("description", "")),
            "owner_id": None
            if ao.get("owner_id") is None
            else _snowflake(f"{w}.owner_id", ao["owner_id"]),
            "flags": _int(f"{w}.flags", ao.get("flags", 0)),
        }
        if application["owner_id"] is not None and application["owner_id"] not in user_ids:
            raise SeedError(f"application.owner_id: unknown user {application['owner_id']}")
    return copy.deepcopy({"application": application, "users": users, "guilds": guilds})
