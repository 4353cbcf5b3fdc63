"""Appservice registration: generate it, and read the tokens back from it.

The registration file is the single home of the as/hs tokens: the homeserver
loads it, and the bridge reads its tokens from the same file (the config only
names its path), so the two can never disagree.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bridge.config import Config, ConfigError
from bridge.i18n import cli

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tokens:
    as_token: str = field(repr=False)
    hs_token: str = field(repr=False)


def build_registration(config: Config, tokens: Tokens | None = None) -> dict[str, Any]:
    tokens = tokens or Tokens(secrets.token_urlsafe(48), secrets.token_urlsafe(48))
    namer = config.namer
    return {
        "id": config.appservice.id,
        "url": config.appservice.public_url,
        "as_token": tokens.as_token,
        "hs_token": tokens.hs_token,
        "sender_localpart": config.appservice.bot_localpart,
        "rate_limited": False,
        "namespaces": {
            "users": [{"exclusive": True, "regex": namer.user_regex()}],
            "aliases": [{"exclusive": True, "regex": namer.alias_regex()}],
            "rooms": [],
        },
        # Typing notifications reach the bridge as ephemeral events.
        "de.sorunome.msc2409.push_ephemeral": False,
        "receive_ephemeral": True,
    }


def write_registration(registration: dict[str, Any], path: Path) -> None:
    """Write the registration readable by its owner only (it holds secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(registration, fh, sort_keys=False)
    os.chmod(path, 0o600)


def load_tokens(config: Config) -> Tokens:
    path = config.appservice.registration
    key = "appservice.registration"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            key,
            cli()._(
                "{file} does not exist; run {command} and give that file to your homeserver",
                file=path,
                command=f"`python -m bridge generate-registration -c CONFIG -o {path}`",
            ),
        ) from None
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(
            key, cli()._("cannot read {file}: {error}", file=path, error=exc)
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(key, cli()._("{file} is not a registration file", file=path))
    as_token, hs_token = data.get("as_token"), data.get("hs_token")
    if not isinstance(as_token, str) or not isinstance(hs_token, str) or not as_token:
        raise ConfigError(key, cli()._("{file} lacks as_token/hs_token", file=path))
    if data.get("sender_localpart") != config.appservice.bot_localpart:
        raise ConfigError(
            key,
            cli()._(
                "{file} was made for bot '{bot}', config says '{configured}'; regenerate it",
                file=path,
                bot=data.get("sender_localpart"),
                configured=config.appservice.bot_localpart,
            ),
        )
    return Tokens(as_token=as_token, hs_token=hs_token)
