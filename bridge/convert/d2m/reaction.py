"""Discord reaction -> the key (and optional shortcode) of a Matrix ``m.reaction``. Pure."""

from __future__ import annotations

from bridge.convert.d2m.limits import valid_unicode
from bridge.model import DiscordReaction


def matrix_reaction_key(reaction: DiscordReaction, mxc: str | None) -> tuple[str, str | None]:
    """Return ``(key, shortcode)`` for the ``m.reaction`` of a Discord reaction.

    A unicode emoji is its own key. A custom emoji's key is the mxc URI its
    image was uploaded to (``mxc``), with ``:name:`` as shortcode; when no image
    could be uploaded the key falls back to the ``:name:`` text.
    """
    name = valid_unicode(reaction.emoji_name)
    if reaction.emoji_id is None:
        return name, None
    shortcode = f":{name}:"
    return (mxc or shortcode), shortcode
