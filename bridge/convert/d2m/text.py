"""Discord message text -> Matrix ``m.room.message`` content (text only).

User mentions ``<@id>`` / ``<@!id>`` become the mentioned user's name, which
the caller passes in (no lookups here). Formatting is relayed as written
(Discord markdown reads fine as plain text); HTML rendering comes with the
formatting converter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bridge.ids import DiscordUserID
from bridge.model import DiscordMessage, MatrixText

USER_MENTION_RE = re.compile(r"<@!?(\d{1,20})>")


def ghost_displayname(template: str, name: str, username: str, user_id: int) -> str:
    """Fill the configured ghost display-name template."""
    clean = " ".join(name.split()) or username
    return template.format(name=clean, username=username, id=user_id)


def discord_to_matrix_text(
    message: DiscordMessage, mention_names: Mapping[DiscordUserID, str] | None = None
) -> MatrixText | None:
    """Convert a Discord message's text; None when there is nothing to send."""
    names = mention_names or {}

    def replace(match: re.Match[str]) -> str:
        user_id = DiscordUserID(int(match.group(1)))
        name = names.get(user_id)
        return f"@{name}" if name else match.group(0)

    body = USER_MENTION_RE.sub(replace, message.content)
    if not body.strip():
        return None
    return MatrixText(body=body)
