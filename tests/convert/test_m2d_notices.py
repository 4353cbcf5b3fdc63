"""The flood notice, in English and French (bridge.convert.m2d.notices)."""

from __future__ import annotations

from bridge.convert.m2d.notices import flood_notice
from bridge.i18n import translator


def test_flood_notice_in_both_languages() -> None:
    assert flood_notice("@a:x", 10, 10, translator("en")) == (
        "@a:x: you are sending faster than 10 messages per 10 seconds;"
        " the rest is not relayed to Discord."
    )
    assert flood_notice("@a:x", 1, 2.5, translator("fr")) == (
        "@a:x : vous envoyez plus vite que 1 message par 2,5 secondes ;"
        " le reste n'est pas relayé sur Discord."
    )
