"""The members' page's language choice and the messages its Python code picks (the
templates mark their own texts with ``_()``/``ngettext()``). Every text is in the
gettext catalogs (``bridge/locale``), extracted by ``make catalogs``. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale

from bridge.i18n import LANGUAGES, N_, normalize

LANGS = LANGUAGES

# The messages a refused form or the error page shows, by key (PageError's key).
ERRORS: Mapping[str, str] = {
    "err_expired": N_(
        "The login expired or did not come from this page. Nothing was changed: start again."
    ),
    "err_denied": N_("You refused access on Discord. Nothing was changed."),
    "err_not_in_guild": N_(
        "This Discord account is in none of the party's servers. "
        "Join the Discord server first, then come back."
    ),
    "err_discord_down": N_(
        "Discord does not answer. Nothing was changed: try again in a few minutes."
    ),
    "err_homeserver_down": N_(
        "The Matrix server does not answer. Nothing was changed: try again in a few minutes."
    ),
    "err_rate": N_("Too many attempts. Wait a little before trying again."),
    "err_name_taken": N_("That name is taken. Try another one."),
    "err_name_too_short": N_("That name is too short (at least 3 characters)."),
    "err_name_too_long": N_("That name is too long (at most 32 characters)."),
    "err_name_bad_characters": N_("Use only lowercase letters without accents, digits and . _ -"),
    "err_name_reserved": N_("That name is reserved. Choose another one."),
    "err_password": N_("The password needs at least 10 characters."),
    "err_login": N_("Wrong username or password."),
    "err_no_password_login": N_(
        "This server does not take password logins here. Link your account with the "
        "!link command (see the help)."
    ),
    "err_already_linked": N_(
        "This Discord account is already linked to {mxid}. Unlink it first to change."
    ),
    "err_registration_off": N_("Account creation is closed here."),
    "err_already_created": N_(
        "An account was already created for this Discord account: {mxid}. "
        "Link it with its password below."
    ),
    "err_not_found": N_("This page does not exist."),
    "err_internal": N_(
        "An error on our side. What was done is kept: try again, or tell the admins if it "
        "happens again."
    ),
}


def _accepted(accept_language: str) -> list[str]:
    """The browser's languages, best first (RFC 9110 quality values; q=0 means no)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        tag = tag.strip()
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, index, tag.replace("-", "_")))
    return [tag for _, _, tag in sorted(ranked)]


def browser_language(accept_language: str | None) -> str | None:
    """The first of our languages the browser accepts (Babel's negotiation, which
    also lets ``fr_CA`` match ``fr``), None when none."""
    if not accept_language:
        return None
    found = negotiate_locale(_accepted(accept_language), list(LANGS), sep="_")
    if found is None:
        return None
    try:
        return Locale.parse(found).language
    except (ValueError, UnknownLocaleError):
        return None


def pick_lang(
    accept_language: str | None,
    chosen: str | None = None,
    default: str = "fr",
    discord_locale: str | None = None,
) -> str:
    """The page's language for a visitor: what they chose with the page's switch;
    else their Discord client's language once logged in (``locale`` of Discord's
    ``/users/@me``, kept in the session); else the first of ours their browser
    accepts; else ``default`` (``bridge.language``)."""
    if chosen in LANGS:
        return str(chosen)
    if discord_locale and normalize(discord_locale, "") in LANGS:
        return normalize(discord_locale)
    return browser_language(accept_language) or normalize(default)
