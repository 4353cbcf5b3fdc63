"""Matrix ``m.room.message`` -> Discord webhook send arguments (text only).

Discord caps a message at 2000 characters: longer bodies are split on line,
then word boundaries. Mentions never ping: the send carries explicit empty
``allowed_mentions`` (set by the transport from ``DiscordSend``).
"""

from __future__ import annotations

import re
import unicodedata

from bridge.model import DiscordSend, MatrixMessage

DISCORD_MESSAGE_LIMIT = 2000
WEBHOOK_NAME_MAX = 80
# Discord refuses these substrings in webhook names.
_FORBIDDEN_NAME_PARTS = re.compile(r"discord|clyde", re.IGNORECASE)
_FORBIDDEN_NAMES = {"everyone", "here"}


def webhook_username(displayname: str | None, mxid: str) -> str:
    """A name Discord accepts for a webhook message, derived from the Matrix profile."""
    localpart = mxid[1:].split(":", 1)[0] if mxid.startswith("@") else mxid
    name = displayname or localpart
    # Drop control and format characters (zero-width, bidi overrides) and squeeze spaces.
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = " ".join(name.split())
    name = _FORBIDDEN_NAME_PARTS.sub(lambda m: m.group(0)[0] + "\u02cc" + m.group(0)[1:], name)
    name = name.replace("```", "'''").replace("@", "\uff20").replace("#", "\uff03")
    if name.lower() in _FORBIDDEN_NAMES or not name:
        name = localpart or "Matrix user"
    return name[:WEBHOOK_NAME_MAX]


def split_message(text: str, limit: int = DISCORD_MESSAGE_LIMIT) -> list[str]:
    """Split text into chunks of at most ``limit`` characters, at line or word breaks."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ") if cut < len(rest) else ""
    if rest.strip() or not chunks:
        chunks.append(rest)
    return [c for c in chunks if c.strip()]


def matrix_to_discord_text(
    message: MatrixMessage, sender_displayname: str | None
) -> list[DiscordSend]:
    """Convert a Matrix text/notice/emote message into one or more webhook sends."""
    username = webhook_username(sender_displayname, message.sender)
    body = message.body
    if message.msgtype == "m.emote":
        body = f"_{username} {body}_"
    if not body.strip():
        return []
    return [DiscordSend(content=part, username=username) for part in split_message(body)]
