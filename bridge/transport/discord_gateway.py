"""Keeping discord.py's gateway connection alive through malformed dispatches."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import discord

log = logging.getLogger(__name__)


def harden_parsers(client: discord.Client) -> None:
    """A dispatch discord.py cannot parse (a malformed payload) is logged and dropped;
    left alone, its exception would end the gateway connection for good."""
    parsers: dict[str, Callable[[Any], None]] = client._connection.parsers

    def guarded(event: str, parse: Callable[[Any], None]) -> Callable[[Any], None]:
        def run(data: Any) -> None:
            try:
                parse(data)
            except Exception:
                log.exception("discord.bad-dispatch event=%s dropped", event)

        return run

    for event, parse in list(parsers.items()):
        parsers[event] = guarded(event, parse)
