"""A Discord forward (``message_reference.type`` 1) -> a Matrix quote. Pure: no I/O.

The forwarded copy (Discord's message snapshot) is converted like any relayed text by
the caller; this module decides whether it may be shown in the room at all
(:func:`forward_hidden`) and wraps it under a "Forwarded" line naming the origin.

The rule (README, "Forwarded messages"): in a public room, a forward shows nothing of a
message from a members-only channel, that is a bridged channel whose portal is not
public, or a channel of the guild that @everyone cannot see. A forward from a channel
the bridge does not know at all (another server, a channel the bot cannot see) is
shown: Discord showed the copy to everyone in the channel it was forwarded to, and the
forwarder chose to share it there. In a members-only room everything is shown.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from bridge.convert.d2m.limits import EVENT_CONTENT_MAX, fit_content
from bridge.convert.names import clean_name
from bridge.i18n import Translator, translator
from bridge.model import DiscordForward, MatrixText

MESSAGE_REFERENCE_FORWARD = 1
PUBLIC = "public"


@dataclass(frozen=True)
class ForwardOrigin:
    """Where the forwarded message was: the origin channel's name (None: unknown), and a
    link to it (the Matrix event when bridged and known, else Discord's jump link)."""

    channel_name: str | None
    link: str


def forward_hidden(target_access: str, origin_access: str | None, origin_hidden: bool) -> bool:
    """Whether a forward into a portal of ``target_access`` must hide its content.

    ``origin_access`` is the origin's access when its channel (or, for a thread, the
    channel it belongs to) is bridged: its portal's, else its configured one (None when
    not bridged); ``origin_hidden`` that @everyone cannot see it on Discord (False when
    the bridge does not know the channel). Either one is enough to hide it.
    """
    if target_access != PUBLIC:
        return False
    return (origin_access is not None and origin_access != PUBLIC) or origin_hidden


def jump_url(forward: DiscordForward) -> str:
    """Discord's link to the original message (or its channel when the ID is unknown)."""
    guild = str(forward.guild_id) if forward.guild_id is not None else "@me"
    url = f"https://discord.com/channels/{guild}/{forward.channel_id}"
    return f"{url}/{forward.message_id}" if forward.message_id is not None else url


def _header(origin: ForwardOrigin | None, tr: Translator) -> tuple[str, str]:
    """The plain and HTML "Forwarded from #channel" line."""
    if origin is None:
        label = tr._("A forwarded message from a members-only channel")
        return f"↪️ {label}", f"<p>↪️ <em>{html.escape(label)}</em></p>"
    name = clean_name(origin.channel_name) if origin.channel_name else ""
    href = html.escape(origin.link, quote=True)
    if name:
        channel = f"#{name}"
        plain = tr._("Forwarded from {channel}", channel=channel)
        rich = tr._(
            "Forwarded from {channel}",
            channel=f'<a href="{href}">{html.escape(channel)}</a>',
        )
        return f"↪️ {plain} ({origin.link})", f"<p>↪️ <em>{rich}</em></p>"
    plain = tr._("Forwarded message")
    return (
        f"↪️ {plain} ({origin.link})",
        f'<p>↪️ <em><a href="{href}">{html.escape(plain)}</a></em></p>',
    )


def forward_to_matrix(
    inner: MatrixText | None, origin: ForwardOrigin | None, tr: Translator | None = None
) -> MatrixText:
    """The forward as one message: the "Forwarded" line, then the forwarded text quoted.

    ``origin`` None means hidden: only a line saying a members-only message was
    forwarded, nothing of it (``inner`` is ignored). ``inner`` None: a forward of media
    only (the files follow as their own events)."""
    tr = tr or translator()
    plain_head, rich_head = _header(origin, tr)
    if origin is None or inner is None:
        return MatrixText(body=plain_head, formatted_body=rich_head, msgtype="m.text")
    quoted = "\n".join(f"> {line}" if line else ">" for line in inner.body.splitlines())
    rich_inner = inner.formatted_body
    if rich_inner is None:
        rich_inner = html.escape(inner.body).replace("\n", "<br>")
    text = MatrixText(
        body=f"{plain_head}\n{quoted}",
        formatted_body=f"{rich_head}<blockquote>{rich_inner}</blockquote>",
        msgtype=inner.msgtype,
        mentioned_user_ids=(),  # a forward pings nobody (Discord does not either)
        mentions_room=False,
    )
    return fit_content(text, limit=EVENT_CONTENT_MAX)
