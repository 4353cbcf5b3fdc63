"""Short notices the bridge bot sends to a Matrix sender about their messages. Pure."""

from __future__ import annotations

from bridge.i18n import Translator


def flood_notice(sender: str, burst: int, per_seconds: float, tr: Translator) -> str:
    """The sender is over the flood limit: the rest is not relayed."""
    return tr.ngettext(
        "{sender}: you are sending faster than {n} message per {seconds} seconds; "
        "the rest is not relayed to Discord.",
        "{sender}: you are sending faster than {n} messages per {seconds} seconds; "
        "the rest is not relayed to Discord.",
        burst,
        sender=sender,
        seconds=tr.number(per_seconds),
    )
