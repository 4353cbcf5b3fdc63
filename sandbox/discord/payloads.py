"""Every JSON shape the emulator sends, in one place (REST bodies and gateway data).

Shapes follow Discord's OpenAPI spec (``*Response`` schemas) and the gateway
documentation; the contract tests validate the REST ones against the spec.
"""

from __future__ import annotations

from typing import Any

from sandbox.discord.permissions import VIEW_CHANNEL
from sandbox.discord.state import Channel, Emoji, Guild, Member, Role, State, Sticker, User

Json = dict[str, Any]


# -- users ---------------------------------------------------------------------


def user(u: User) -> Json:
    data: Json = {
        "id": u.id,
        "username": u.username,
        "avatar": u.avatar,
        "discriminator": u.discriminator,
        "public_flags": 0,
        "flags": 0,
        "global_name": u.global_name,
        "primary_guild": None,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "collectibles": None,
    }
    if u.bot:
        data["bot"] = True
    return data


def user_pii(u: User) -> Json:
    """``GET /users/@me`` and the gateway READY user."""
    return {**user(u), "mfa_enabled": False, "locale": u.locale, "verified": True, "email": None}


def webhook_author(webhook_id: str, username: str) -> Json:
    return {
        "id": webhook_id,
        "username": username,
        "avatar": None,
        "discriminator": "0000",
        "public_flags": 0,
        "flags": 0,
        "bot": True,
        "global_name": None,
        "primary_guild": None,
    }


def application(state: State, app: Json) -> Json:
    """``GET /oauth2/applications/@me`` (PrivateApplicationResponse)."""
    owner_id = app.get("owner_id")
    owner = state.users.get(owner_id) if owner_id else None
    bot = state.users.get(app.get("bot_id") or "")
    if owner is None:
        humans = [u for u in state.users.values() if not u.bot]
        owner = humans[0] if humans else bot
    assert owner is not None
    data: Json = {
        "id": app["id"],
        "name": app["name"],
        "icon": None,
        "description": app.get("description", ""),
        "type": None,
        "bot_public": False,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": int(app.get("flags", 0)),
        "flags_new": str(app.get("flags", 0)),
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "owner": user(owner),
        "approximate_guild_count": len(state.guilds_of(app.get("bot_id") or "")),
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "team": None,
        "eligible_oauth2_scopes": [],
        "tags": [],
    }
    if bot is not None:
        data["bot"] = user(bot)
    return data


# -- guilds ----------------------------------------------------------------------


def role(r: Role) -> Json:
    return {
        "id": r.id,
        "name": r.name,
        "permissions": str(r.permissions),
        "position": r.position,
        "color": r.color,
        "colors": {"primary_color": r.color, "secondary_color": None, "tertiary_color": None},
        "hoist": r.hoist,
        "managed": r.managed,
        "mentionable": r.mentionable,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
    }


def channel(ch: Channel) -> Json:
    if ch.is_thread:
        return thread(ch)
    data: Json = {
        "id": ch.id,
        "type": ch.type,
        "guild_id": ch.guild_id,
        "name": ch.name,
        "position": ch.position,
        "flags": ch.flags,
        "parent_id": ch.parent_id,
        "permission_overwrites": [dict(ow) for ow in ch.overwrites],
        "nsfw": ch.nsfw,
    }
    if ch.type in (0, 5):
        data.update(
            topic=ch.topic,
            last_message_id=ch.last_message_id,
            rate_limit_per_user=ch.rate_limit_per_user,
            last_pin_timestamp=None,
        )
    elif ch.type == 2:
        data.update(bitrate=64000, user_limit=0, rtc_region=None, last_message_id=None)
    elif ch.is_forum:
        # last_message_id: the newest post (thread) in a forum or media channel
        data.update(
            topic=ch.topic,
            last_message_id=ch.last_message_id,
            rate_limit_per_user=ch.rate_limit_per_user,
            default_thread_rate_limit_per_user=0,
            available_tags=[dict(t) for t in ch.available_tags],
            default_reaction_emoji=dict(ch.default_reaction_emoji)
            if ch.default_reaction_emoji
            else None,
            default_sort_order=ch.default_sort_order,
            default_tag_setting=None,
        )
        if ch.type == 15:  # the layout is a forum setting (not for media channels)
            data["default_forum_layout"] = ch.default_forum_layout
    return data


def dm_channel(state: State, ch: Channel, viewer: str) -> Json:
    """A DM channel (PrivateChannelResponse) as one participant sees it: ``recipients``
    lists the other participant."""
    others = [u for u in ch.recipient_ids if u != viewer] or list(ch.recipient_ids)
    return {
        "id": ch.id,
        "type": ch.type,
        "last_message_id": ch.last_message_id,
        "flags": 0,
        "last_pin_timestamp": None,
        "recipients": [user(state.users[u]) for u in others if u in state.users],
    }


def partial_member(m: Member) -> Json:
    """A member without its user, as in MESSAGE_CREATE's ``member``."""
    return {
        "roles": list(m.roles),
        "nick": m.nick,
        "avatar": None,
        "banner": None,
        "joined_at": m.joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": m.communication_disabled_until,
    }


def member(state: State, m: Member) -> Json:
    return {**partial_member(m), "user": user(state.users[m.user_id])}


def guild(state: State, g: Guild) -> Json:
    """``GET /guilds/{id}`` (GuildWithCountsResponse)."""
    return {
        "id": g.id,
        "name": g.name,
        "icon": g.icon,
        "description": g.description,
        "home_header": None,
        "splash": None,
        "discovery_splash": None,
        "features": [],
        "banner": None,
        "owner_id": g.owner_id,
        "application_id": None,
        "region": "deprecated",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "widget_enabled": False,
        "widget_channel_id": None,
        "verification_level": g.verification_level,
        "roles": [role(r) for r in g.roles.values()],
        "default_message_notifications": 0,
        "mfa_level": 0,
        "explicit_content_filter": 0,
        "max_presences": None,
        "max_members": 500000,
        "max_stage_video_channel_users": 50,
        "max_video_channel_users": 25,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "rules_channel_id": None,
        "safety_alerts_channel_id": None,
        "public_updates_channel_id": None,
        "premium_progress_bar_enabled": False,
        "nsfw": False,
        "nsfw_level": 0,
        "emojis": [emoji(e) for e in g.emojis.values()],
        "stickers": [sticker(g, s) for s in g.stickers.values()],
        "incidents_data": None,
        "approximate_member_count": len(g.members),
        "approximate_presence_count": 0,
    }


def guild_update(state: State, g: Guild) -> Json:
    """The gateway GUILD_UPDATE (a guild object, as ``PATCH /guilds/{id}`` returns)."""
    data = guild(state, g)
    del data["approximate_member_count"], data["approximate_presence_count"]
    return data


def role_event(g: Guild, r: Role) -> Json:
    """GUILD_ROLE_CREATE / GUILD_ROLE_UPDATE data."""
    return {"guild_id": g.id, "role": role(r)}


def emoji(e: Emoji) -> Json:
    """A guild custom emoji (EmojiResponse)."""
    return {
        "id": e.id,
        "name": e.name,
        "roles": [],
        "require_colons": True,
        "managed": False,
        "animated": e.animated,
        "available": True,
    }


def guild_create(state: State, g: Guild, for_user: str) -> Json:
    """The gateway GUILD_CREATE for one guild, as ``for_user`` sees it."""
    from sandbox.discord import voice_states  # it builds on this module

    data = guild_update(state, g)
    member_of = g.members.get(for_user)
    data.update(
        joined_at=member_of.joined_at if member_of else None,
        large=len(g.members) >= 250,
        unavailable=False,
        member_count=len(g.members),
        voice_states=voice_states.guild_voice_states(state, g.id),
        members=[member(state, m) for m in g.members.values()],
        channels=[channel(c) for c in state.channels_of(g)],
        threads=[
            thread(c)
            for c in state.channels.values()
            if c.is_thread and c.guild_id == g.id and state.can(c.id, for_user, VIEW_CHANNEL)
        ],
        presences=[],
        stage_instances=[],
        guild_scheduled_events=[
            {**e, "user_count": len(state.event_interest.get(e["id"], []))}
            for e in state.scheduled_events.values()
            if e["guild_id"] == g.id
            and (
                e.get("channel_id") is None
                or state.can(str(e["channel_id"]), for_user, VIEW_CHANNEL)
            )
        ],
        soundboard_sounds=[],
    )
    return data


def thread(ch: Channel) -> Json:
    """A thread channel (ThreadResponse): type 10/11/12 with its parent and metadata."""
    data: Json = {
        "id": ch.id,
        "type": ch.type,
        "guild_id": ch.guild_id,
        "name": ch.name,
        "parent_id": ch.parent_id,
        "owner_id": ch.owner_id,
        "last_message_id": ch.last_message_id,
        "flags": ch.flags,
        "rate_limit_per_user": 0,
        "last_pin_timestamp": None,
        "thread_metadata": dict(ch.thread_metadata or {}),
        "message_count": ch.message_count,
        "member_count": len(ch.thread_member_ids),
        "total_message_sent": ch.total_message_sent,
    }
    if ch.applied_tags is not None:  # a post in a forum or media channel
        data["applied_tags"] = list(ch.applied_tags)
    return data


# -- webhooks ----------------------------------------------------------------------


def webhook(
    *,
    webhook_id: str,
    token: str,
    name: str,
    channel: Channel,
    creator: User,
    application_id: str | None,
    api_base: str,
) -> Json:
    """A type 1 (incoming) webhook, with its token, as stored and as its creator sees it."""
    return {
        "id": webhook_id,
        "type": 1,
        "guild_id": channel.guild_id,
        "channel_id": channel.id,
        "name": name,
        "avatar": None,
        "token": token,
        "application_id": application_id,
        "user": user(creator),
        "url": f"{api_base}/webhooks/{webhook_id}/{token}",
    }


def webhook_without_token(hook: Json) -> Json:
    """How Discord shows a webhook through ``GET /webhooks/{id}/{token}``."""
    return {k: v for k, v in hook.items() if k not in ("token", "url", "user")}


# -- messages ----------------------------------------------------------------------


def message(
    *,
    message_id: str,
    channel_id: str,
    author: Json,
    content: str,
    timestamp: str,
    mentions: list[Json] | None = None,
    mention_roles: list[str] | None = None,
    mention_everyone: bool = False,
    embeds: list[Json] | None = None,
    attachments: list[Json] | None = None,
    tts: bool = False,
    nonce: int | str | None = None,
    webhook_id: str | None = None,
    application_id: str | None = None,
    referenced: Json | None = None,
    reference: Json | None = None,
    flags: int = 0,
    sticker_items: list[Json] | None = None,
    poll: Json | None = None,
) -> Json:
    data: Json = {
        "id": message_id,
        "type": 19 if reference else 0,
        "content": content,
        "channel_id": channel_id,
        "author": author,
        "attachments": [] if attachments is None else attachments,
        "embeds": [] if embeds is None else embeds,
        "mentions": [] if mentions is None else mentions,
        "mention_roles": [] if mention_roles is None else mention_roles,
        "pinned": False,
        "mention_everyone": mention_everyone,
        "tts": tts,
        "timestamp": timestamp,
        "edited_timestamp": None,
        "flags": flags,
        "components": [],
    }
    if sticker_items:
        data["sticker_items"] = sticker_items
    if poll is not None:
        data["poll"] = poll
    if nonce is not None:
        data["nonce"] = nonce
    if webhook_id is not None:
        data["webhook_id"] = webhook_id
    if application_id is not None:
        data["application_id"] = application_id
    if reference is not None:
        data["message_reference"] = reference
        data["referenced_message"] = referenced
    return data


def basic_message(msg: Json) -> Json:
    """A message as nested in ``referenced_message`` (no further nesting)."""
    return {k: v for k, v in msg.items() if k not in ("referenced_message", "nonce")}


def attachment(
    *,
    attachment_id: str,
    filename: str,
    size: int,
    url: str,
    content_type: str,
    width: int | None = None,
    height: int | None = None,
) -> Json:
    data: Json = {
        "id": attachment_id,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
        "content_type": content_type,
    }
    if width is not None and height is not None:
        data["width"], data["height"] = width, height
    return data


def sticker(g: Guild, s: Sticker) -> Json:
    """A guild sticker (GuildStickerResponse)."""
    return {
        "id": s.id,
        "name": s.name,
        "tags": s.tags,
        "type": 2,
        "format_type": s.format_type,
        "description": s.description,
        "available": True,
        "guild_id": g.id,
    }


def sticker_item(s: Sticker) -> Json:
    """A message's ``sticker_items`` entry (MessageStickerItemResponse)."""
    return {"id": s.id, "name": s.name, "format_type": s.format_type}


def message_event(state: State, msg: Json) -> Json:
    """MESSAGE_CREATE / MESSAGE_UPDATE data: the message plus guild_id and partial members."""
    ch = state.channels.get(msg["channel_id"])
    data = dict(msg)
    g = state.guilds.get(ch.guild_id) if ch is not None else None
    if g is None:  # a DM: no guild_id, no member
        return data
    data["guild_id"] = g.id
    author_member = g.members.get(msg["author"]["id"])
    if author_member is not None and not msg.get("webhook_id"):
        data["member"] = partial_member(author_member)
    mentions = []
    for mentioned in msg.get("mentions", []):
        m = g.members.get(mentioned["id"])
        mentions.append({**mentioned, "member": partial_member(m)} if m else mentioned)
    data["mentions"] = mentions
    return data


# -- errors --------------------------------------------------------------------------


def error(code: int, message: str, errors: Json | None = None) -> Json:
    data: Json = {"code": code, "message": message}
    if errors is not None:
        data["errors"] = errors
    return data


def slowmode(retry_after: float) -> Json:
    """The 429 of a message posted within a channel's slowmode (code 20016)."""
    return {
        "message": "This action cannot be performed due to slowmode rate limit.",
        "retry_after": retry_after,
        "global": False,
        "code": 20016,
    }


def ratelimited(retry_after: float, *, is_global: bool) -> Json:
    return {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
        "code": 0,
    }
