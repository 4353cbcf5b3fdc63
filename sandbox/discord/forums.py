"""Forum (type 15) and media (type 16) channels: their settings (tags, default reaction,
sort order, layout) and their posts.

A post is a public thread (type 11) whose parent is the forum; it is created with its
starter message, which has the thread's id and lives in the thread. Posts carry
``applied_tags`` (ids of the forum's ``available_tags``, at most 5; moderated tags only
with MANAGE_THREADS; a forum with the REQUIRE_TAG flag refuses posts without one, 40067).
Nothing can be posted in the forum itself (50008).
"""

from __future__ import annotations

import logging
from typing import Any

from sandbox.discord import errors
from sandbox.discord import permissions as perms
from sandbox.discord.context import Ctx
from sandbox.discord.state import FORUM_TYPES as FORUM_TYPES
from sandbox.discord.state import Channel

log = logging.getLogger(__name__)

REQUIRE_TAG = 1 << 4  # channel flag: posts need at least one tag
MAX_TAGS = 20
MAX_APPLIED = 5


def tag_required() -> errors.ApiError:
    return errors.ApiError(400, 40067, "A tag is required to create a forum post in this channel")


# -- forum settings ----------------------------------------------------------------------


def _emoji_pair(field: str, raw: dict[str, Any]) -> tuple[str | None, str | None]:
    emoji_id, emoji_name = raw.get("emoji_id"), raw.get("emoji_name")
    if emoji_id is not None and not str(emoji_id).isdigit():
        raise errors.invalid_form(
            f"{field}.emoji_id", "NUMBER_TYPE_COERCE", f'Value "{emoji_id}" is not snowflake.'
        )
    if emoji_name is not None and not isinstance(emoji_name, str):
        raise errors.invalid_form(f"{field}.emoji_name", "BASE_TYPE_BAD_TYPE", "Must be a string.")
    if emoji_id is not None and emoji_name:
        raise errors.invalid_form(
            field, "BASE_TYPE_BAD_VALUE", "Only one of emoji_id and emoji_name may be set."
        )
    return (None if emoji_id is None else str(int(emoji_id))), emoji_name or None


def _tags(ctx: Ctx, value: Any, current: Channel | None) -> list[dict[str, Any]]:
    """``available_tags``: a tag keeps its id when it names one of the channel's tags,
    else it gets a new one (as Discord does for tags sent without an id)."""
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise errors.invalid_form(
            "available_tags", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_TAGS} or fewer in length."
        )
    known = {t["id"] for t in current.available_tags} if current is not None else set()
    out = []
    for i, raw in enumerate(value):
        field = f"available_tags.{i}"
        if not isinstance(raw, dict):
            raise errors.invalid_form(
                field, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
            )
        name = raw.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 20:
            raise errors.invalid_form(
                f"{field}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 20 in length."
            )
        emoji_id, emoji_name = _emoji_pair(field, raw)
        tag_id = str(raw.get("id") or "")
        out.append(
            {
                "id": tag_id if tag_id in known else ctx.state.ids.next_str(),
                "name": name,
                "moderated": bool(raw.get("moderated", False)),
                "emoji_id": emoji_id,
                "emoji_name": emoji_name,
            }
        )
    return out


def settings(ctx: Ctx, body: dict[str, Any], current: Channel | None) -> dict[str, Any]:
    """The forum settings of a create or modify body, as Channel attributes."""
    out: dict[str, Any] = {}
    if body.get("available_tags") is not None:
        out["available_tags"] = _tags(ctx, body["available_tags"], current)
    if "default_reaction_emoji" in body:
        raw = body["default_reaction_emoji"]
        if raw is None:
            out["default_reaction_emoji"] = None
        elif isinstance(raw, dict):
            emoji_id, emoji_name = _emoji_pair("default_reaction_emoji", raw)
            reaction = {"emoji_id": emoji_id, "emoji_name": emoji_name}
            out["default_reaction_emoji"] = reaction if emoji_id or emoji_name else None
        else:
            raise errors.invalid_form(
                "default_reaction_emoji",
                "DICT_TYPE_CONVERT",
                "Only dictionaries may be used in a DictType",
            )
    if "default_sort_order" in body:
        order = body["default_sort_order"]
        if order not in (None, 0, 1):
            raise errors.invalid_form(
                "default_sort_order", "BASE_TYPE_CHOICES", "Value must be one of (0, 1)."
            )
        out["default_sort_order"] = order
    if body.get("default_forum_layout") is not None:
        layout = body["default_forum_layout"]
        if layout not in (0, 1, 2):
            raise errors.invalid_form(
                "default_forum_layout", "BASE_TYPE_CHOICES", "Value must be one of (0, 1, 2)."
            )
        out["default_forum_layout"] = layout
    return out


# -- tags on posts ---------------------------------------------------------------------------


def applied_tags(
    ctx: Ctx, forum: Channel, value: Any, user_id: str | None, before: list[str]
) -> list[str]:
    """Validate ``applied_tags`` for a post of ``forum``: ids of its tags, at most 5;
    adding or removing a moderated tag needs MANAGE_THREADS (webhooks: never refused)."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_APPLIED:
        raise errors.invalid_form(
            "applied_tags", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_APPLIED} or fewer in length."
        )
    tags = {t["id"]: t for t in forum.available_tags}
    wanted = list(dict.fromkeys(str(t) for t in value))
    for i, tag_id in enumerate(wanted):
        if tag_id not in tags:
            raise errors.invalid_form(
                f"applied_tags.{i}", "FORUM_TAG_INVALID", "Unknown tag for this channel."
            )
    moderated = {t for t in set(wanted) ^ set(before) if tags.get(t, {}).get("moderated")}
    if moderated and user_id is not None:
        if not ctx.state.can(forum.id, user_id, perms.MANAGE_THREADS):
            raise errors.missing_permissions()
    return wanted
