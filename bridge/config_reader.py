"""Reading the YAML document: the errors that name a key, the typed reader every
config section uses, and the checks shared by several sections (URLs, secrets,
localparts, room IDs). :mod:`bridge.config` re-exports what others import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bridge.i18n import cli
from bridge.ids import RoomID

PLACEHOLDER_MARKERS = ("change_me", "changeme", "your_token", "<", "xxxx", "placeholder")
ROOM_ID_RE = re.compile(r"^![^:\s]+:\S+$")
ROOM_ALIAS_RE = re.compile(r"^#[^:\s]+:\S+$")
USER_ID_RE = re.compile(r"^@[^:\s]+:\S+$")
LOCALPART_RE = re.compile(r"^[a-z0-9._=/+-]+$")


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and says why."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(cli()._("config key '{key}': {problem}", key=key, problem=problem))
        self.key = key
        self.problem = problem


class UnknownKeyError(ConfigError):
    """A key the bridge does not know (an error under ``strict`` only)."""


class ConfigErrors(ConfigError):
    """Several problems, reported at once (one per line)."""

    def __init__(self, errors: list[ConfigError]) -> None:
        if len(errors) == 1:
            super().__init__(errors[0].key, errors[0].problem)
        else:
            ValueError.__init__(
                self,
                cli().ngettext("{n} problem:", "{n} problems:", len(errors))
                + "\n"
                + "\n".join(f"  {e}" for e in errors),
            )
            self.key = errors[0].key
            self.problem = "; ".join(str(e) for e in errors)
        self.errors = errors


class _Reader:
    """Typed access to a nested mapping that reports the full key path on error."""

    def __init__(
        self, data: Mapping[str, Any], prefix: str = "", problems: list[ConfigError] | None = None
    ) -> None:
        self.data = data
        self.prefix = prefix
        # Problems reported together at the end of parsing (placeholders), if given.
        self.problems = problems

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def section(self, name: str) -> _Reader:
        value = self.data.get(name)
        if not isinstance(value, Mapping):
            raise ConfigError(self.key(name), cli()._("missing section (expected a mapping)"))
        return _Reader(value, f"{self.key(name)}.", self.problems)

    def reader(self, data: Mapping[str, Any], prefix: str) -> _Reader:
        """A reader of another part of the document, sharing this one's problems."""
        return _Reader(data, prefix, self.problems)

    def text(self, name: str, default: str | None = None) -> str:
        value = self.data.get(name, default)
        if value is None:
            raise ConfigError(self.key(name), cli()._("is required"))
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ConfigError(
                self.key(name), cli()._("expected text, got {type}", type=type(value).__name__)
            )
        text = str(value).strip()
        if not text:
            raise ConfigError(self.key(name), cli()._("must not be empty"))
        return text

    def integer(self, name: str, default: int | None = None, lo: int = 0, hi: int = 2**63) -> int:
        value = self.data.get(name, default)
        if value is None:
            raise ConfigError(self.key(name), cli()._("is required"))
        if isinstance(value, bool):
            raise ConfigError(self.key(name), cli()._("expected a number, got true/false"))
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(
                self.key(name), cli()._("expected a number, got {value}", value=repr(value))
            ) from None
        if not lo <= number <= hi:
            raise ConfigError(
                self.key(name),
                cli()._("must be between {lo} and {hi}, got {value}", lo=lo, hi=hi, value=number),
            )
        return number

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise ConfigError(
                self.key(name), cli()._("expected true or false, got {value}", value=repr(value))
            )
        return value

    def snowflake(self, name: str) -> int:
        value = self.data.get(name)
        if value is None:
            raise ConfigError(self.key(name), cli()._("is required (a Discord ID, digits only)"))
        text = str(value).strip()
        if not text.isdigit() or not 1 <= len(text) <= 20:
            raise ConfigError(
                self.key(name),
                cli()._("expected a Discord ID (digits only), got {value}", value=repr(value)),
            )
        return int(text)

    def items(self, name: str) -> list[Any]:
        value = self.data.get(name, [])
        if value is None:
            return []
        if not isinstance(value, list):
            raise ConfigError(self.key(name), cli()._("expected a list"))
        return value


def _http_url(reader: _Reader, name: str, default: str | None = None) -> str:
    url = reader.text(name, default).rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(
            reader.key(name),
            cli()._("expected an http:// or https:// URL, got {value}", value=repr(url)),
        )
    return url


def _secret(reader: _Reader, name: str) -> str:
    value = reader.text(name)
    lowered = value.lower()
    if any(marker in lowered for marker in PLACEHOLDER_MARKERS):
        error = ConfigError(
            reader.key(name),
            cli()._("still holds the example placeholder; put the real secret here"),
        )
        if reader.problems is None:
            raise error
        reader.problems.append(error)  # every placeholder is reported at once
    return value


def _localpart(reader: _Reader, name: str, default: str) -> str:
    value = reader.text(name, default)
    if not LOCALPART_RE.match(value):
        raise ConfigError(
            reader.key(name),
            cli()._("may only contain lowercase letters, digits and . _ = - / +"),
        )
    return value


def _room_or_create(reader: _Reader, name: str) -> RoomID | None:
    room = reader.text(name, "create")
    if room == "create":
        return None
    if not ROOM_ID_RE.match(room):
        raise ConfigError(
            reader.key(name),
            cli()._(
                "expected 'create' or a room ID like !abc:server, got {value}", value=repr(room)
            ),
        )
    return RoomID(room)
