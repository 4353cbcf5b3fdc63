"""Discord reaction -> the key (and optional shortcode) of a Matrix ``m.reaction``. Pure."""

from __future__ import annotations

from bridge.model import DiscordReaction


def matrix_reaction_key(reaction: DiscordReaction, mxc: str | None) -> tuple[str, str | None]:
    """Return ``(key, shortcode)`` for the ``m.reaction`` of a Discord reaction.

    A unicode emoji is its own key. A custom emoji's key is the mxc URI its
    image was uploaded to (``mxc``), with ``:name:`` as shortcode; when no image
    could be uploaded the key falls back to the ``:name:`` text.
    """
    if reaction.emoji_id is None:
        return reaction.emoji_name, None
    shortcode = f":{reaction.emoji_name}:"
    return (mxc or shortcode), shortcode
