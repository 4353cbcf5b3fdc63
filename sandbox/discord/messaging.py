"""Turning a send/edit request into a stored message: body parsing (JSON or
multipart with ``payload_json``), content checks, embeds, attachments and
mentions under ``allowed_mentions``. Shared by channel messages and webhooks.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from sandbox.discord import errors, payloads, polls, voice
from sandbox.discord.context import Ctx, read_json
from sandbox.discord.png import image_size
from sandbox.discord.snowflake import now_iso
from sandbox.discord.state import Attachment, Channel

log = logging.getLogger(__name__)

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_FILE = 10 * 1024 * 1024
MAX_TOTAL = 25 * 1024 * 1024
ALLOWED_FLAGS = 4 | 4096  # SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EVERYONE = re.compile(r"@(everyone|here)\b")


@dataclass
class Upload:
    field: str
    filename: str
    data: bytes
    content_type: str


async def read_body(request: web.Request) -> tuple[dict[str, Any], list[Upload]]:
    """The JSON payload and any uploaded files of a create/edit request."""
    if not request.content_type.startswith("multipart/"):
        return await read_json(request), []
    payload: dict[str, Any] = {}
    uploads: list[Upload] = []
    total = 0
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue  # nested multipart: not something Discord accepts
        name = part.name or ""
        if name == "payload_json":
            try:
                loaded = json.loads(await part.text())
            except ValueError as exc:
                raise errors.ApiError(
                    400, 50109, "The request body contains invalid JSON."
                ) from exc
            if not isinstance(loaded, dict):
                raise errors.ApiError(400, 50109, "The request body contains invalid JSON.")
            payload.update(loaded)
        elif part.filename is not None:
            data = await part.read()
            total += len(data)
            if len(data) > MAX_FILE or total > MAX_TOTAL:
                raise errors.too_large()
            ctype = part.headers.get("Content-Type") or "application/octet-stream"
            if ctype == "application/octet-stream":
                # discord.py sends every file as octet-stream; Discord derives the type.
                ctype = _guess(part.filename)
            uploads.append(Upload(name, part.filename, bytes(data), ctype))
        else:
            payload[name] = await part.text()
    return payload, uploads


def _guess(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def check_content(payload: dict[str, Any]) -> str | None:
    content = payload.get("content")
    if content is None:
        return None
    if not isinstance(content, str):
        content = str(content)
    if len(content) > MAX_CONTENT:
        raise errors.invalid_form(
            "content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length."
        )
    return content


def check_embeds(payload: dict[str, Any]) -> list[dict[str, Any]] | None:
    if "embeds" in payload and payload["embeds"] is not None:
        embeds = payload["embeds"]
    elif payload.get("embed") is not None:
        embeds = [payload["embed"]]
    else:
        return None
    if not isinstance(embeds, list):
        raise errors.invalid_form("embeds", "LIST_TYPE_CONVERT", "Must be an array.")
    if len(embeds) > MAX_EMBEDS:
        raise errors.invalid_form(
            "embeds", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length."
        )
    out = []
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            raise errors.invalid_form(
                f"embeds.{i}", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
            )
        item = {k: v for k, v in embed.items() if v is not None}
        item["type"] = "rich"
        if "fields" in item:
            item["fields"] = [
                {
                    "name": str(f.get("name", "")),
                    "value": str(f.get("value", "")),
                    "inline": bool(f.get("inline", False)),
                }
                for f in item["fields"]
                if isinstance(f, dict)
            ]
        for key in ("image", "thumbnail", "video"):
            if isinstance(item.get(key), dict) and "url" in item[key]:
                item[key] = {**item[key], "proxy_url": item[key]["url"]}
        out.append(item)
    return out


def store_uploads(
    ctx: Ctx, channel: Channel, uploads: list[Upload], payload: dict[str, Any]
) -> list[dict[str, Any]]:
    """Keep uploaded files, served from ``/cdn/attachments/{channel}/{id}/{filename}``."""
    described = {}
    for meta in payload.get("attachments") or []:
        if isinstance(meta, dict) and "id" in meta:
            described[str(meta["id"])] = meta
    out = []
    for index, up in enumerate(uploads):
        meta = described.get(str(index), {})
        filename = str(meta.get("filename") or up.filename)
        att_id = ctx.state.ids.next_str()
        path = f"{channel.id}/{att_id}/{filename}"
        ctx.state.attachments[path] = Attachment(up.data, up.content_type)
        # Discord measures images (width/height); the emulator reads PNG/GIF/JPEG headers.
        size = image_size(up.data) if up.content_type.startswith("image/") else None
        item = payloads.attachment(
            attachment_id=att_id,
            filename=filename,
            size=len(up.data),
            url=f"{ctx.cdn_base}/attachments/{channel.id}/{att_id}/{quote(filename)}",
            content_type=up.content_type,
            width=size[0] if size else None,
            height=size[1] if size else None,
        )
        if meta.get("description"):
            item["description"] = str(meta["description"])
        out.append(item)
    return out


def mentions(
    ctx: Ctx,
    channel: Channel,
    content: str,
    allowed: Any,
    *,
    can_mention_everyone: bool,
    replied_author: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], list[str], bool]:
    """(mentions, mention_roles, mention_everyone) honouring ``allowed_mentions``."""
    state = ctx.state
    guild = state.guilds.get(channel.guild_id)  # None in a DM: no role mentions there
    if allowed is None:
        parse = {"users", "roles", "everyone"}
        users_allowed: set[str] = set()
        roles_allowed: set[str] = set()
        replied_user = True
    else:
        if not isinstance(allowed, dict):
            raise errors.invalid_form(
                "allowed_mentions",
                "DICT_TYPE_CONVERT",
                "Only dictionaries may be used in a DictType",
            )
        parse = set(allowed.get("parse") or [])
        users_allowed = {str(u) for u in allowed.get("users") or []}
        roles_allowed = {str(r) for r in allowed.get("roles") or []}
        replied_user = bool(allowed.get("replied_user", False))
        if "users" in parse and users_allowed:
            raise errors.invalid_form(
                "allowed_mentions",
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                'parse:["users"] and users: [ids...] are mutually exclusive.',
            )
        if "roles" in parse and roles_allowed:
            raise errors.invalid_form(
                "allowed_mentions",
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                'parse:["roles"] and roles: [ids...] are mutually exclusive.',
            )
    users: list[dict[str, Any]] = []
    seen: set[str] = set()
    for uid in USER_MENTION.findall(content):
        uid = str(int(uid))
        if uid in seen or uid not in state.users:
            continue
        if "users" in parse or uid in users_allowed:
            users.append(payloads.user(state.users[uid]))
            seen.add(uid)
    if replied_author is not None and replied_user and replied_author["id"] not in seen:
        if replied_author["id"] in state.users:
            users.append(payloads.user(state.users[replied_author["id"]]))
    roles: list[str] = []
    for rid in ROLE_MENTION.findall(content):
        rid = str(int(rid))
        if guild is None:
            break
        role = guild.roles.get(rid)
        if role is None or rid in roles or rid == guild.id:
            continue
        if ("roles" in parse or rid in roles_allowed) and (
            role.mentionable or can_mention_everyone
        ):
            roles.append(rid)
    everyone = bool(EVERYONE.search(content)) and "everyone" in parse and can_mention_everyone
    return users, roles, everyone


def new_message(
    ctx: Ctx,
    channel: Channel,
    payload: dict[str, Any],
    uploads: list[Upload],
    *,
    author: dict[str, Any],
    can_mention_everyone: bool,
    webhook_id: str | None = None,
    application_id: str | None = None,
) -> dict[str, Any]:
    """Validate a create request and build (not store) the message."""
    voice_message = voice.requested(payload)  # sandbox.discord.voice
    if voice_message:
        voice.check(payload, [u.content_type for u in uploads], [u.data for u in uploads])
    content = check_content(payload) or ""
    embeds = check_embeds(payload) or []
    attachments = store_uploads(ctx, channel, uploads, payload)
    if voice_message:
        voice.stamp(attachments, payload)
    sticker_items = stickers(ctx, channel, payload.get("sticker_ids"))
    timestamp = now_iso()
    poll = polls.check_poll(payload, datetime.fromisoformat(timestamp))
    if not content and not embeds and not attachments and not sticker_items and not poll:
        raise errors.empty_message()
    nonce = payload.get("nonce")
    if nonce is not None and not isinstance(nonce, int | str):
        raise errors.invalid_form("nonce", "BASE_TYPE_BAD_TYPE", "Must be a string or integer.")
    if isinstance(nonce, str) and len(nonce) > 25:
        raise errors.invalid_form("nonce", "BASE_TYPE_BAD_LENGTH", "Must be 25 or fewer in length.")
    reference, referenced = _reference(ctx, channel, payload.get("message_reference"))
    found = mentions(
        ctx,
        channel,
        content,
        payload.get("allowed_mentions"),
        can_mention_everyone=can_mention_everyone,
        replied_author=referenced["author"]
        if referenced and not referenced.get("webhook_id")
        else None,
    )
    return payloads.message(
        message_id=ctx.state.ids.next_str(),
        channel_id=channel.id,
        author=author,
        content=content,
        timestamp=timestamp,
        mentions=found[0],
        mention_roles=found[1],
        mention_everyone=found[2],
        embeds=embeds,
        attachments=attachments,
        tts=bool(payload.get("tts", False)),
        nonce=nonce,
        webhook_id=webhook_id,
        application_id=application_id,
        reference=reference,
        referenced=payloads.basic_message(referenced) if referenced else None,
        flags=int(payload.get("flags") or 0) & (ALLOWED_FLAGS | voice.IS_VOICE_MESSAGE),
        sticker_items=sticker_items,
        poll=poll,
    )


def stickers(ctx: Ctx, channel: Channel, sticker_ids: Any) -> list[dict[str, Any]]:
    """``sticker_ids`` (up to 3) -> ``sticker_items``; only this guild's stickers exist here."""
    if not sticker_ids:
        return []
    if not isinstance(sticker_ids, list) or len(sticker_ids) > 3:
        raise errors.invalid_form(
            "sticker_ids", "BASE_TYPE_MAX_LENGTH", "Must be 3 or fewer in length."
        )
    items = []
    for sticker_id in sticker_ids:
        found = ctx.state.sticker(str(sticker_id))
        if found is None or found[0].id != channel.guild_id:
            raise errors.ApiError(400, 50081, "Invalid sticker sent")
        items.append(payloads.sticker_item(found[1]))
    return items


def _reference(
    ctx: Ctx, channel: Channel, ref: Any
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    if ref is None:
        return None, None
    if not isinstance(ref, dict) or "message_id" not in ref:
        raise errors.invalid_form(
            "message_reference", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
        )
    mid = str(ref["message_id"])
    target = ctx.state.messages.get(mid)
    if target is None or target["channel_id"] != channel.id:
        if ref.get("fail_if_not_exists", True):
            raise errors.invalid_form(
                "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
            )
        return None, None
    reference = {"type": 0, "channel_id": channel.id, "message_id": mid}
    if channel.guild_id:  # not in a DM
        reference["guild_id"] = channel.guild_id
    return reference, target


def apply_edit(
    ctx: Ctx,
    channel: Channel,
    message: dict[str, Any],
    payload: dict[str, Any],
    uploads: list[Upload],
    *,
    can_mention_everyone: bool,
) -> dict[str, Any]:
    """A copy of ``message`` with the edit applied (content, embeds, attachments, flags)."""
    if int(message.get("flags") or 0) & voice.IS_VOICE_MESSAGE:
        raise errors.ApiError(400, 50162, "Voice messages cannot be edited.")
    edited = dict(message)
    if "content" in payload:
        edited["content"] = check_content(payload) or ""
    if "embeds" in payload or "embed" in payload:
        edited["embeds"] = check_embeds(payload) or []
    if "attachments" in payload and payload["attachments"] is not None:
        keep = {str(a.get("id")) for a in payload["attachments"] if isinstance(a, dict)}
        edited["attachments"] = [a for a in message["attachments"] if a["id"] in keep]
    if uploads:
        edited["attachments"] = [*edited["attachments"], *store_uploads(ctx, channel, uploads, {})]
    if "flags" in payload and payload["flags"] is not None:
        edited["flags"] = int(payload["flags"]) & ALLOWED_FLAGS
    empty = not edited["content"] and not edited["embeds"] and not edited["attachments"]
    if empty and not edited.get("poll"):
        raise errors.empty_message()
    if "content" in payload or "allowed_mentions" in payload:
        found = mentions(
            ctx,
            channel,
            edited["content"],
            payload.get("allowed_mentions"),
            can_mention_everyone=can_mention_everyone,
        )
        edited["mentions"], edited["mention_roles"], edited["mention_everyone"] = found
    edited["edited_timestamp"] = now_iso()
    return edited
