"""Matrix ``m.room.message`` -> Discord webhook send arguments.

Formatting goes through :mod:`bridge.convert.m2d.html` and long results are
split by :mod:`bridge.convert.m2d.split` without breaking markup. Mentions
never ping unless meant to: pills to ghosts become ``<@id>`` and only those
users are listed in ``allowed_mentions``; ``@room`` becomes ``@everyone`` only
when the sender's power level allows room notifications.

Webhooks cannot reply natively, so a Matrix reply starts with a one-line quote
of the original: who wrote it, an excerpt, and a link to the Discord message.
The replied-to Discord user is pinged only when the Matrix reply mentions
them (Element does so by default, as Discord does for replies).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bridge.convert.m2d.html import M2DContext, escape_discord, matrix_to_discord_markdown
from bridge.convert.m2d.split import DISCORD_MESSAGE_LIMIT, split_discord_markdown
from bridge.convert.names import clean_name
from bridge.i18n import Translator, translator
from bridge.ids import DiscordUserID
from bridge.model import DiscordSend, MatrixMessage

__all__ = [
    "DISCORD_MESSAGE_LIMIT",
    "ReplyQuote",
    "matrix_to_discord_text",
    "reply_line",
    "webhook_username",
]

WEBHOOK_NAME_MAX = 80
# Discord refuses these substrings in webhook names.
_FORBIDDEN_NAME_PARTS = re.compile(r"discord|clyde", re.IGNORECASE)
_FORBIDDEN_NAMES = {"everyone", "here"}


def _clean_name(name: str) -> str:
    # Invisible and direction-changing characters go, spaces are squeezed, and a name
    # with nothing visible left is "" (the caller falls back), as for Discord names.
    name = clean_name(name, limit=WEBHOOK_NAME_MAX * 4)
    name = _FORBIDDEN_NAME_PARTS.sub(lambda m: m.group(0)[0] + "\u02cc" + m.group(0)[1:], name)
    return name.replace("```", "'''").replace("@", "\uff20").replace("#", "\uff03")


def webhook_username(
    displayname: str | None,
    mxid: str,
    template: str = "{name}",
    tr: Translator | None = None,
    *,
    disambiguate: bool = False,
) -> str:
    """A name Discord accepts for a webhook message, derived from the Matrix profile.

    The configured ``template`` (``{name} (Matrix)`` by default) marks every Matrix
    user so that nobody can pose as a Discord member or as the bridge; the name is
    shortened, never the template's own text, to fit Discord's 80 characters. A name
    with nothing left becomes "Matrix user" in ``tr``'s language (the channel's readers:
    ``bridge.language``).

    With ``disambiguate`` (the name looks like somebody else's in the room or the
    guild: :mod:`bridge.actions.name_clash`), the Matrix ID follows the name, as
    Element does: ``alice (@alice:example.org)``; its localpart alone when the whole
    ID would leave no room for the name. The ID is never shortened."""
    localpart = mxid[1:].split(":", 1)[0] if mxid.startswith("@") else mxid
    name = _clean_name(displayname or localpart)
    if name.lower() in _FORBIDDEN_NAMES or not name:
        name = _clean_name(localpart) or _clean_name((tr or translator())._("Matrix user"))
    # The template goes through the same cleaning, around a private-use placeholder.
    frame = _clean_name(template.replace("{name}", "\ue000")).replace("\ue000", "{name}")
    room = max(WEBHOOK_NAME_MAX - (len(frame) - len("{name}")), 1)
    if disambiguate:
        suffix = f" ({_clean_name(mxid)})"
        if room - len(suffix) < MIN_NAME_BESIDE_ID:
            suffix = f" ({_clean_name('@' + localpart)})"
        name = name[: max(room - len(suffix), 1)] + suffix
    return frame.replace("{name}", name[:room], 1)[:WEBHOOK_NAME_MAX]


# How much of the display name must stay beside a whole Matrix ID (else: its localpart).
MIN_NAME_BESIDE_ID = 8


@dataclass(frozen=True)
class ReplyQuote:
    """What the reply line shows; ``author_discord_id`` when the original's author is
    a Discord user (shown as a mention), else ``author_name`` in bold."""

    author_name: str
    excerpt: str
    jump_url: str
    author_discord_id: int | None = None
    ping: bool = False


REPLY_EXCERPT_MAX = 100


def reply_line(quote: ReplyQuote, tr: Translator | None = None) -> str:
    who = (
        f"<@{quote.author_discord_id}>"
        if quote.author_discord_id is not None
        else f"**{escape_discord(quote.author_name)}**"
    )
    excerpt = " ".join(quote.excerpt.split())
    if len(excerpt) > REPLY_EXCERPT_MAX:
        excerpt = excerpt[: REPLY_EXCERPT_MAX - 1].rstrip() + "\u2026"
    no_text = "*" + (tr or translator())._("(no text)") + "*"
    text = escape_discord(excerpt, line_start=False) if excerpt else no_text
    return f"> \u21aa {who}: {text} [\u2197](<{quote.jump_url}>)"


def matrix_to_discord_text(
    message: MatrixMessage,
    sender_displayname: str | None,
    ctx: M2DContext | None = None,
    reply: ReplyQuote | None = None,
    name_template: str = "{name}",
    avatar_url: str | None = None,
    tr: Translator | None = None,
    *,
    disambiguate: bool = False,
) -> list[DiscordSend]:
    """Convert a Matrix text/notice/emote message into one or more webhook sends
    (the bridge's own words in ``tr``'s language: the channel's; ``disambiguate``:
    the sender's name looks like somebody else's, see :func:`webhook_username`)."""
    username = webhook_username(
        sender_displayname, message.sender, name_template, tr, disambiguate=disambiguate
    )
    converted = matrix_to_discord_markdown(
        message.body, message.formatted_body, ctx or M2DContext()
    )
    content = converted.content
    if message.msgtype == "m.emote":
        content = f"\\* {escape_discord(username)} {content}"
    if not content.strip():
        return []
    users = list(converted.mentioned_user_ids)
    if reply is not None:
        content = reply_line(reply, tr) + "\n" + content
        if reply.ping and reply.author_discord_id is not None:
            users.append(reply.author_discord_id)
    allowed = tuple(DiscordUserID(u) for u in dict.fromkeys(users))
    return [
        DiscordSend(
            content=part,
            username=username,
            avatar_url=avatar_url,
            allowed_mention_users=allowed,
            mention_everyone=converted.mention_everyone,
        )
        for part in split_discord_markdown(content)
    ]
