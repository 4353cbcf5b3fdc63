"""REST: threads (public 11, private 12, announcement 10) in guild text channels.

A thread is a channel of its own (``state.channels``) with a ``parent_id``; it
has its parent's permissions (``State.permissions``), its own message list,
and is sent to clients in GUILD_CREATE ``threads`` and THREAD_CREATE /
THREAD_UPDATE / THREAD_DELETE dispatches. A thread started from a message has
that message's id, and the message gets a ``thread`` field. Posting in a thread
(``POST /channels/{thread}/messages``, or a webhook with ``?thread_id=``) needs
SEND_MESSAGES_IN_THREADS, unarchives it, and gives the message a ``position``.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from sandbox.discord import errors, forums, payloads
from sandbox.discord import permissions as perms
from sandbox.discord.context import (
    Ctx,
    channel_for,
    ctx_of,
    current_user,
    json_reply,
    read_json,
    snowflake_param,
)
from sandbox.discord.gateway import GUILD_MESSAGES, GUILDS
from sandbox.discord.snowflake import now_iso
from sandbox.discord.state import Channel

log = logging.getLogger(__name__)

THREAD_TYPES = (10, 11, 12)
ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
THREAD_CREATED = 18  # the system message a public thread without a starter leaves in its parent


def wrong_channel_type() -> errors.ApiError:
    return errors.ApiError(400, 50024, "Cannot execute action on this channel type")


def thread_exists() -> errors.ApiError:
    return errors.ApiError(400, 160004, "A thread has already been created for this message")


def thread_locked() -> errors.ApiError:
    return errors.ApiError(400, 50083, "Thread is archived")


# -- helpers used by message and webhook handlers ------------------------------------


def send_permission(channel: Channel) -> int:
    """What posting in ``channel`` needs: SEND_MESSAGES_IN_THREADS in a thread."""
    return perms.SEND_MESSAGES_IN_THREADS if channel.is_thread else perms.SEND_MESSAGES


def before_post(ctx: Ctx, channel: Channel, user_id: str | None) -> None:
    """Discord's side effects of posting in a thread: a locked one refuses (unless the
    poster may manage threads), an archived one is unarchived, a user poster joins it."""
    if not channel.is_thread:
        return
    meta = channel.thread_metadata or {}
    manager = user_id is not None and ctx.state.can(channel.id, user_id, perms.MANAGE_THREADS)
    if meta.get("locked") and not manager and user_id is not None:
        raise thread_locked()
    changed = False
    if meta.get("archived"):
        meta.update(archived=False, archive_timestamp=now_iso())
        changed = True
    if user_id is not None and user_id not in channel.thread_member_ids:
        channel.thread_member_ids.append(user_id)
        changed = True
    if changed:
        dispatch_thread(ctx, "THREAD_UPDATE", channel)


def stamp(ctx: Ctx, channel: Channel, msg: dict[str, Any]) -> None:
    """Give a message about to be stored in a thread its ``position``; refresh the starter."""
    if channel.is_thread:
        msg["position"] = channel.total_message_sent
        starter = ctx.state.messages.get(channel.id)
        if starter is not None and starter.get("thread", {}).get("id") == channel.id:
            # counts as of after this message is stored
            after = payloads.thread(channel)
            after["message_count"] += 1
            after["total_message_sent"] += 1
            after["last_message_id"] = msg["id"]
            starter["thread"] = after


def webhook_channel(ctx: Ctx, hook: dict[str, Any], thread_id: str | None) -> Channel:
    """Where a webhook posts: its channel, or with ``?thread_id=`` a thread of that channel."""
    if thread_id is None:
        return ctx.state.channels[hook["channel_id"]]
    if not thread_id.isdigit():
        raise errors.invalid_form(
            "thread_id", "NUMBER_TYPE_COERCE", f'Value "{thread_id}" is not snowflake.'
        )
    thread = ctx.state.channels.get(str(int(thread_id)))
    if thread is None or not thread.is_thread or thread.parent_id != hook["channel_id"]:
        raise errors.unknown_channel()
    before_post(ctx, thread, None)
    return thread


def webhook_message_scope(hook: dict[str, Any], msg: dict[str, Any], thread_id: str | None) -> bool:
    """A webhook message in a thread is only found with that thread's ``?thread_id=``."""
    expected = thread_id if thread_id is not None else hook["channel_id"]
    return bool(msg["channel_id"] == expected)


def dispatch_thread(ctx: Ctx, event: str, thread: Channel, **extra: Any) -> int:
    """THREAD_CREATE / THREAD_UPDATE to every session that can see the thread."""
    data = {**payloads.thread(thread), **extra}
    return ctx.hub.dispatch_channel(event, data, thread.id, GUILDS)


# -- handlers ----------------------------------------------------------------------------


def _parent(request: web.Request) -> tuple[Channel, str]:
    user = current_user(request)
    channel = channel_for(request, user)
    if channel.is_thread or channel.type not in (0, 5):
        raise wrong_channel_type()
    return channel, user.id


def check_name(body: dict[str, Any]) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise errors.invalid_form(
            "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    return name


def archive_duration(body: dict[str, Any]) -> int:
    value = body.get("auto_archive_duration")
    if value is None:
        return 1440
    if value not in ARCHIVE_DURATIONS:
        raise errors.invalid_form(
            "auto_archive_duration",
            "BASE_TYPE_CHOICES",
            f"Value must be one of {ARCHIVE_DURATIONS}.",
        )
    return int(value)


def new_thread(
    ctx: Ctx,
    *,
    thread_id: str,
    parent: Channel,
    owner_id: str,
    name: str,
    kind: int,
    duration: int,
    invitable: bool,
) -> Channel:
    created = now_iso()
    meta: dict[str, Any] = {
        "archived": False,
        "archive_timestamp": created,
        "auto_archive_duration": duration,
        "locked": False,
        "create_timestamp": created,
    }
    if kind == 12:
        meta["invitable"] = invitable
    thread = Channel(
        id=thread_id,
        guild_id=parent.guild_id,
        name=name,
        type=kind,
        parent_id=parent.id,
        owner_id=owner_id,
        thread_metadata=meta,
        thread_member_ids=[owner_id],
    )
    ctx.state.channels[thread.id] = thread
    ctx.state.channel_messages.setdefault(thread.id, [])
    log.info("thread created id=%s parent=%s type=%s", thread.id, parent.id, kind)
    return thread


async def start_thread_from_message(request: web.Request) -> web.Response:
    """``POST /channels/{channel_id}/messages/{message_id}/threads``: the thread gets the
    message's id; the message gets a ``thread`` field."""
    ctx = ctx_of(request)
    parent, user_id = _parent(request)
    mid = snowflake_param(request, "message_id", errors.unknown_message())
    msg = ctx.state.messages.get(mid)
    if msg is None or msg["channel_id"] != parent.id:
        raise errors.unknown_message()
    needed = perms.CREATE_PUBLIC_THREADS | perms.READ_MESSAGE_HISTORY
    if not ctx.state.can(parent.id, user_id, needed):
        raise errors.missing_permissions()
    if mid in ctx.state.channels:
        raise thread_exists()
    body = await read_json(request)
    thread = new_thread(
        ctx,
        thread_id=mid,
        parent=parent,
        owner_id=user_id,
        name=check_name(body),
        kind=10 if parent.type == 5 else 11,
        duration=archive_duration(body),
        invitable=True,
    )
    msg["thread"] = payloads.thread(thread)
    dispatch_thread(ctx, "THREAD_CREATE", thread, newly_created=True)
    return json_reply(payloads.thread(thread), 201)


async def start_thread(request: web.Request) -> web.Response:
    """``POST /channels/{channel_id}/threads``: a thread without a starter message
    (type 12 private by default, as documented; 11 public leaves a type 18 notice)."""
    ctx = ctx_of(request)
    parent, user_id = _parent(request)
    body = await read_json(request)
    name = check_name(body)
    kind = body.get("type")
    if kind is None:
        kind = 12
    if kind not in (11, 12) and not (kind == 10 and parent.type == 5):
        raise errors.invalid_form("type", "BASE_TYPE_CHOICES", "Value must be one of (11, 12).")
    needed = perms.CREATE_PRIVATE_THREADS if kind == 12 else perms.CREATE_PUBLIC_THREADS
    if not ctx.state.can(parent.id, user_id, needed):
        raise errors.missing_permissions()
    thread = new_thread(
        ctx,
        thread_id=ctx.state.ids.next_str(),
        parent=parent,
        owner_id=user_id,
        name=name,
        kind=int(kind),
        duration=archive_duration(body),
        invitable=body.get("invitable") is not False,
    )
    dispatch_thread(ctx, "THREAD_CREATE", thread, newly_created=True)
    if kind != 12:
        _thread_created_notice(ctx, parent, thread, user_id)
    return json_reply(payloads.thread(thread), 201)


def _thread_created_notice(ctx: Ctx, parent: Channel, thread: Channel, user_id: str) -> None:
    """Discord leaves "X started a thread" (type 18) in the parent, pointing at the thread."""
    notice = payloads.message(
        message_id=ctx.state.ids.next_str(),
        channel_id=parent.id,
        author=payloads.user(ctx.state.users[user_id]),
        content=thread.name,
        timestamp=now_iso(),
        reference={"type": 0, "channel_id": thread.id, "guild_id": thread.guild_id},
    )
    notice["type"] = THREAD_CREATED
    ctx.state.add_message(notice)
    data = payloads.message_event(ctx.state, notice)
    ctx.hub.dispatch_channel("MESSAGE_CREATE", data, parent.id, GUILD_MESSAGES)


async def patch_thread(request: web.Request, thread: Channel) -> web.Response:
    """``PATCH /channels/{thread_id}``: name, archived, locked, auto_archive_duration and,
    on a forum post, applied_tags.

    The owner may rename and (un)archive their thread; others need MANAGE_THREADS,
    and locking always does."""
    ctx = ctx_of(request)
    user = current_user(request)
    body = await read_json(request)
    manager = ctx.state.can(thread.id, user.id, perms.MANAGE_THREADS)
    if not manager and (thread.owner_id != user.id or "locked" in body):
        raise errors.missing_permissions()
    meta = thread.thread_metadata if thread.thread_metadata is not None else {}
    if "name" in body:
        thread.name = check_name(body)
    if "auto_archive_duration" in body:
        meta["auto_archive_duration"] = archive_duration(body)
    if "archived" in body and bool(body["archived"]) != bool(meta.get("archived")):
        meta.update(archived=bool(body["archived"]), archive_timestamp=now_iso())
    if "locked" in body:
        meta["locked"] = bool(body["locked"])
    if "applied_tags" in body and thread.applied_tags is not None:  # a forum post
        forum = ctx.state.channels[thread.parent_id or ""]
        thread.applied_tags = forums.applied_tags(
            ctx, forum, body["applied_tags"], user.id, thread.applied_tags
        )
    thread.thread_metadata = meta
    starter = ctx.state.messages.get(thread.id)
    if starter is not None and "thread" in starter:
        starter["thread"] = payloads.thread(thread)
    dispatch_thread(ctx, "THREAD_UPDATE", thread)
    return json_reply(payloads.thread(thread))


def delete_thread(ctx: Ctx, thread: Channel, user_id: str) -> web.Response:
    """``DELETE /channels/{thread_id}`` (needs MANAGE_THREADS): the thread and its messages."""
    if not ctx.state.can(thread.id, user_id, perms.MANAGE_THREADS):
        raise errors.missing_permissions()
    data = {
        "id": thread.id,
        "guild_id": thread.guild_id,
        "parent_id": thread.parent_id,
        "type": thread.type,
    }
    body = payloads.thread(thread)
    # Dispatch while the thread still exists, so visibility can be computed.
    ctx.hub.dispatch_channel("THREAD_DELETE", data, thread.id, GUILDS)
    for mid in list(ctx.state.channel_messages.get(thread.id, [])):
        ctx.state.remove_message(mid)
    del ctx.state.channels[thread.id]
    ctx.state.channel_messages.pop(thread.id, None)
    starter = ctx.state.messages.get(thread.id)
    if starter is not None:
        starter.pop("thread", None)
    log.info("thread deleted id=%s", thread.id)
    return json_reply(body)
