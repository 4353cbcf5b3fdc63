"""Posting a Discord voice message through a webhook.

discord.py's ``Webhook.send`` cannot set IS_VOICE_MESSAGE nor an attachment's
``duration_secs`` and ``waveform``, so this builds the same multipart request with
discord.py's own helpers and sends it through the webhook adapter.
"""

from __future__ import annotations

import io
from typing import Any

import discord
from discord.http import handle_message_parameters
from discord.webhook.async_ import async_context

from bridge.model import DiscordSend, DiscordVoice

IS_VOICE_MESSAGE = 1 << 13


class VoiceFile(discord.File):
    """A file whose ``attachments`` entry carries a voice message's length and waveform."""

    def __init__(self, data: bytes, filename: str, voice: DiscordVoice) -> None:
        super().__init__(io.BytesIO(data), filename=filename)
        self.voice = voice

    def to_dict(self, index: int) -> dict[str, Any]:
        payload = super().to_dict(index)
        payload["duration_secs"] = self.voice.duration_secs
        payload["waveform"] = self.voice.waveform
        return payload


async def send_voice(
    hook: discord.Webhook, send: DiscordSend, thread: discord.abc.Snowflake | None
) -> int:
    """Execute the webhook with ``send``'s one file as a voice message; its message ID."""
    assert send.voice is not None and len(send.files) == 1
    name, data, _spoiler = send.files[0]
    flags = discord.MessageFlags._from_value(IS_VOICE_MESSAGE)
    with handle_message_parameters(
        username=send.username,
        avatar_url=send.avatar_url or discord.utils.MISSING,
        file=VoiceFile(data, name, send.voice),
        flags=flags,
        allowed_mentions=discord.AllowedMentions.none(),
        thread_name=send.thread_name or discord.utils.MISSING,  # a new forum post
    ) as params:
        data_out = await async_context.get().execute_webhook(
            hook.id,
            hook.token or "",
            session=hook.session,
            proxy=hook.proxy,
            proxy_auth=hook.proxy_auth,
            payload=params.payload,
            multipart=params.multipart,
            files=params.files,
            thread_id=thread.id if thread is not None else None,
            wait=True,
        )
    if data_out is None:  # only without wait=True
        raise RuntimeError("Discord returned no message for a voice message")
    return int(data_out["id"])
