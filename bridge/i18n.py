"""What the bridge says to people, in their language: gettext catalogs read with Babel.

The catalogs are ``bridge/locale/<lang>/LC_MESSAGES/passerelle.po`` (shipped as
package data). They are compiled in memory the first time a language is used (Babel's
``read_po`` + ``write_mo``), so neither ``pip install .`` nor ``pip install -e .`` needs
a build step and no binary ``.mo`` is committed.

Who reads in which language: shared rooms get ``translator(config.bridge.language)``;
one person gets theirs (:mod:`bridge.actions.languages`: their ``!bridge language``
choice, else their Discord client's ``locale``, else the configured one); the command
line gets :func:`cli` (``--lang``, else ``bridge.language`` once the config is read,
else ``LANG`` and friends, else English). Then::

    tr._("Banned {who} from every bridged room.", who=mxid)
    tr.ngettext("{n} shared ban:", "{n} shared bans:", count)
    tr.pgettext("command", "ban")

Messages are whole sentences with named ``{placeholders}`` (``str.format``), never
fragments glued together; ``ngettext`` passes the count as ``{n}``, formatted for the
language. Extraction (``make catalogs``) and ``tests/test_i18n.py`` look for calls named
``_``, ``ngettext`` and ``pgettext``; :func:`N_` marks a string for extraction where it
is defined and translated later.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from importlib import resources
from typing import Any

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.dates import format_timedelta as _babel_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal as _babel_decimal

log = logging.getLogger(__name__)

DOMAIN = "passerelle"
LANGUAGES: tuple[str, ...] = ("fr", "en")
DEFAULT_LANGUAGE = "en"  # in code (tests); the example config says fr


def N_(message: str) -> str:
    """Mark ``message`` for extraction; translate it later with ``tr._(message)``."""
    return message


def normalize(locale: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """One of :data:`LANGUAGES` for a locale tag such as ``fr``, ``fr-FR``, ``en_GB``
    or ``en-US`` (Discord's); ``default`` when unknown or empty."""
    if locale:
        base = locale.replace("_", "-").split("-", 1)[0].strip().lower()
        if base in LANGUAGES:
            return base
    return default


@functools.cache
def _catalog(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (cached: the .po files do not change)."""
    path = resources.files("bridge").joinpath("locale", language, "LC_MESSAGES", DOMAIN + ".po")
    try:
        with path.open("rb") as po:
            catalog = read_po(po, locale=language, domain=DOMAIN)
    except FileNotFoundError:
        log.warning("i18n.missing_catalog language=%s", language)
        return gettext.NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@dataclass(frozen=True)
class Translator:
    """gettext bound to one language, with Babel's number and date formats for it."""

    language: str

    @property
    def _t(self) -> gettext.NullTranslations:
        return _catalog(self.language)

    def _(self, message: str, /, **values: Any) -> str:
        text = self._t.gettext(message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text.format(n=self.number(n), **values)

    def pgettext(self, context: str, message: str, /, **values: Any) -> str:
        text = self._t.pgettext(context, message)
        return text.format(**values) if values else text

    def number(self, value: float) -> str:
        return str(_babel_decimal(value, locale=self.language))

    def datetime(self, value: datetime, format: str = "medium", zone: tzinfo | None = None) -> str:
        return str(_babel_datetime(value, format=format, tzinfo=zone, locale=self.language))

    def date(self, value: date, format: str = "medium") -> str:
        return str(_babel_date(value, format=format, locale=self.language))

    def duration(self, seconds: float, *, add_direction: bool = False) -> str:
        """``5 minutes`` / ``5 minutes``, ``3 hours`` / ``3 heures`` (the largest unit,
        rounded); with ``add_direction``, ``in 5 minutes`` / ``dans 5 minutes``."""
        return str(
            _babel_timedelta(
                timedelta(seconds=seconds),
                threshold=1,
                add_direction=add_direction,
                locale=self.language,
            )
        )

    def join(self, items: list[str]) -> str:
        """``a, b and c`` / ``a, b et c``."""
        from babel.lists import format_list

        return str(format_list(items, locale=self.language))


@functools.cache
def translator(language: str | None = None) -> Translator:
    """The translator of a configured language (``fr`` or ``en``)."""
    return Translator(normalize(language))


def for_locale(locale: str | None, configured: str) -> Translator:
    """A person's language when their side tells it (a Discord interaction's
    ``locale``), else the configured one."""
    return translator(normalize(locale, normalize(configured)))


# -- the command line's language ---------------------------------------------------

_cli_language: str | None = None


def environment_language(environ: dict[str, str] | None = None) -> str | None:
    """The language the shell asks for, as gettext reads it: ``LANGUAGE`` (a list
    such as ``fr:en``), then ``LC_ALL``, ``LC_MESSAGES``, ``LANG``
    (``fr_FR.UTF-8`` -> ``fr``); None when unset, ``C``/``POSIX`` or none of ours."""
    env = os.environ if environ is None else environ
    locale_value = next(
        (env[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(name)), ""
    )
    if locale_value.split(".")[0] in ("C", "POSIX"):
        return None  # gettext ignores LANGUAGE under the C locale
    for tag in env.get("LANGUAGE", "").split(":"):
        found = normalize(tag.split(".")[0], "")
        if found:
            return found
    return normalize(locale_value.split(".")[0], "") or None


def set_cli_language(language: str | None) -> None:
    """What the command line says from now on: ``--lang``, or ``bridge.language``
    once the config was read (None: back to the environment's)."""
    global _cli_language
    _cli_language = normalize(language, "") or None if language else None


def cli() -> Translator:
    """The command line's translator (doctor, config errors, the CLI's own lines):
    ``--lang`` or ``bridge.language`` when set, else the environment's language
    (:func:`environment_language`), else English."""
    return translator(_cli_language or environment_language() or DEFAULT_LANGUAGE)
