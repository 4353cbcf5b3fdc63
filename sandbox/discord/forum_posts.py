"""Forum (15) and media (16) posts: created with their first message, by a user
(``POST /channels/{forum}/threads`` with ``message``) or by a webhook of the forum
(execute with ``thread_name``); and the guild's active threads (posts included).

A post is a public thread (type 11) of the forum whose starter message has the
thread's id and lives in the thread. ``applied_tags`` are checked by
:func:`sandbox.discord.forums.applied_tags`; a forum with REQUIRE_TAG refuses a post
without one (40067). THREAD_CREATE (``newly_created``) is dispatched first, then the
starter's MESSAGE_CREATE, as Discord does. A webhook of a forum must name a post to
create (``thread_name``) or one to post in (``?thread_id=``), else 220001.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from sandbox.discord import errors, forums, messaging, payloads, rest_threads
from sandbox.discord import permissions as perms
from sandbox.discord.context import (
    Ctx,
    channel_for,
    ctx_of,
    current_user,
    guild_for,
    json_reply,
)
from sandbox.discord.messaging import Upload
from sandbox.discord.rest_messages import dispatch_created
from sandbox.discord.state import Channel

log = logging.getLogger(__name__)


def webhook_needs_thread() -> errors.ApiError:
    return errors.ApiError(
        400, 220001, "Webhooks posted to forum channels must have a thread_name or thread_id"
    )


def create_post(
    ctx: Ctx,
    forum: Channel,
    *,
    name: Any,
    message: dict[str, Any],
    uploads: list[Upload],
    applied: Any,
    author: dict[str, Any],
    user_id: str | None,
    duration: int = 4320,
    can_mention_everyone: bool = False,
    webhook_id: str | None = None,
    application_id: str | None = None,
    avatar_url: Any = None,
) -> tuple[Channel, dict[str, Any]]:
    """Validate and store a post and its starter message; dispatch both. ``user_id``
    None: a webhook's post (moderated tags are not refused)."""
    title = rest_threads.check_name({"name": name})
    tags = forums.applied_tags(ctx, forum, applied, user_id, [])
    if forum.flags & forums.REQUIRE_TAG and not tags:
        raise forums.tag_required()
    thread = rest_threads.new_thread(
        ctx,
        thread_id=ctx.state.ids.next_str(),
        parent=forum,
        owner_id=user_id or author["id"],
        name=title,
        kind=11,
        duration=duration,
        invitable=True,
    )
    try:
        msg = messaging.new_message(
            ctx,
            thread,
            message,
            uploads,
            author=author,
            can_mention_everyone=can_mention_everyone,
            webhook_id=webhook_id,
            application_id=application_id,
        )
    except errors.ApiError:
        del ctx.state.channels[thread.id]
        ctx.state.channel_messages.pop(thread.id, None)
        raise
    msg["id"] = thread.id  # the starter message has the post's id
    msg["position"] = 0
    thread.applied_tags = tags
    ctx.state.add_message(msg)
    if isinstance(avatar_url, str) and avatar_url:
        ctx.state.webhook_avatar_urls[msg["id"]] = avatar_url
    forum.last_message_id = thread.id
    rest_threads.dispatch_thread(ctx, "THREAD_CREATE", thread, newly_created=True)
    dispatch_created(ctx, msg)
    log.info("post created id=%s forum=%s tags=%s", thread.id, forum.id, tags)
    return thread, msg


async def start_thread(request: web.Request) -> web.Response:
    """``POST /channels/{channel_id}/threads``: in a forum or media channel, a post with
    its ``message`` (SEND_MESSAGES, ATTACH_FILES for files); elsewhere a thread without
    a starter (:func:`sandbox.discord.rest_threads.start_thread`)."""
    ctx = ctx_of(request)
    user = current_user(request)
    forum = channel_for(request, user)
    if not forum.is_forum:
        return await rest_threads.start_thread(request)
    body, uploads = await messaging.read_body(request)
    granted = ctx.state.permissions(forum.id, user.id)
    if not perms.has(granted, perms.SEND_MESSAGES):
        raise errors.missing_permissions()
    if uploads and not perms.has(granted, perms.ATTACH_FILES):
        raise errors.missing_permissions()
    message = body.get("message")
    if not isinstance(message, dict):
        raise errors.invalid_form("message", "BASE_TYPE_REQUIRED", "This field is required")
    thread, msg = create_post(
        ctx,
        forum,
        name=body.get("name"),
        message=message,
        uploads=uploads,
        applied=body.get("applied_tags"),
        author=payloads.user(user),
        user_id=user.id,
        duration=rest_threads.archive_duration(body),
        can_mention_everyone=perms.has(granted, perms.MENTION_EVERYONE),
    )
    return json_reply({**payloads.thread(thread), "message": msg}, 201)


def webhook_post(
    ctx: Ctx,
    hook: dict[str, Any],
    forum: Channel,
    payload: dict[str, Any],
    uploads: list[Upload],
    author: dict[str, Any],
) -> dict[str, Any]:
    """A webhook execution in a forum without ``?thread_id=``: a new post named
    ``thread_name``; returns its starter message."""
    name = payload.get("thread_name")
    if not name:
        raise webhook_needs_thread()
    _, msg = create_post(
        ctx,
        forum,
        name=name,
        message=payload,
        uploads=uploads,
        applied=payload.get("applied_tags"),
        author=author,
        user_id=None,
        can_mention_everyone=True,
        webhook_id=hook["id"],
        application_id=hook.get("application_id"),
        avatar_url=payload.get("avatar_url"),
    )
    return msg


async def active_threads(request: web.Request) -> web.Response:
    """``GET /guilds/{guild_id}/threads/active``: the guild's unarchived threads (posts
    included) that the caller can see."""
    ctx = ctx_of(request)
    user = current_user(request)
    guild = guild_for(request, user)
    threads = [
        payloads.thread(c)
        for c in ctx.state.channels.values()
        if c.guild_id == guild.id
        and c.is_thread
        and not (c.thread_metadata or {}).get("archived")
        and ctx.state.can(c.id, user.id, perms.VIEW_CHANNEL)
    ]
    return json_reply({"threads": threads, "members": [], "has_more": False})
