"""The ``web:`` part of the configuration: the members' page (log in with Discord,
create or link a Matrix account, join the rooms). Absent or ``enabled: false``: no page.

Kept apart from :mod:`bridge.config` (which calls it); every error names its key and
placeholder secrets are refused, as everywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bridge.i18n import cli

if TYPE_CHECKING:
    from bridge.config import _Reader

Registration = Literal["disabled", "synapse_shared_secret", "registration_token"]
_REGISTRATIONS: tuple[Registration, ...] = (
    "disabled",
    "synapse_shared_secret",
    "registration_token",
)


@dataclass(frozen=True)
class WebConfig:
    listen_host: str
    listen_port: int
    # Where members reach the page (behind the reverse proxy): redirect URI, cookies.
    public_url: str
    # Signs the session cookies (at least 32 characters).
    session_secret: str = field(repr=False)
    discord_client_id: str
    discord_client_secret: str = field(repr=False)
    # How new accounts are made: "synapse_shared_secret" (Synapse's admin register
    # endpoint, /_synapse/admin/v1/register, with registration_shared_secret),
    # "registration_token" (a single-use registration token made with the admin API
    # and registration_admin_token for each account, then the ordinary client-server
    # /register with the m.login.registration_token stage), or "disabled" (members can
    # only link an account they already have).
    registration: Registration = "disabled"
    registration_shared_secret: str = field(default="", repr=False)
    # An access token of a homeserver admin account (registration_token only).
    registration_admin_token: str = field(default="", repr=False)
    # The homeserver's address as browsers reach it (SSO linking redirects there);
    # None: homeserver.url.
    homeserver_public_url: str | None = None
    # Where the "open Element" links go; room links use matrix.to.
    element_url: str = "https://app.element.io"
    # Trust the last X-Forwarded-For entry for the client IP (behind a reverse proxy).
    trust_forwarded_for: bool = False
    # Per client IP: at most this many requests a minute on the page's actions.
    ip_per_minute: int = 30
    # Per Discord account: at most this many account creations or link attempts an hour.
    account_per_hour: int = 10

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/callback"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


def parse_web(
    data: Mapping[str, Any], reader_cls: Callable[[Mapping[str, Any], str], _Reader]
) -> WebConfig | None:
    """The ``web`` section, or None when it is absent or not enabled."""
    from bridge.config import ConfigError, _http_url, _secret

    raw = data.get("web")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ConfigError("web", cli()._("expected a mapping (or leave the section out)"))
    web = reader_cls(raw, "web.")
    if not web.boolean("enabled", True):
        return None
    session_secret = _secret(web, "session_secret")
    if len(session_secret) < 32:
        raise ConfigError(web.key("session_secret"), cli()._("must be at least 32 characters long"))
    client_id = web.text("discord_client_id")
    if not re.fullmatch(r"\d{1,20}", client_id):
        raise ConfigError(
            web.key("discord_client_id"), cli()._("expected the application's ID (digits only)")
        )
    registration = web.text("registration", "disabled")
    if registration not in _REGISTRATIONS:
        raise ConfigError(
            web.key("registration"),
            cli()._("expected one of {values}", values=", ".join(_REGISTRATIONS)),
        )
    shared = admin_token = ""
    if registration == "synapse_shared_secret":
        shared = _secret(web, "registration_shared_secret")
    if registration == "registration_token":
        admin_token = _secret(web, "registration_admin_token")
    return WebConfig(
        listen_host=web.text("listen_host", "127.0.0.1"),
        listen_port=web.integer("listen_port", 29331, lo=1, hi=65535),
        public_url=_http_url(web, "public_url"),
        session_secret=session_secret,
        discord_client_id=client_id,
        discord_client_secret=_secret(web, "discord_client_secret"),
        registration=registration,
        registration_shared_secret=shared,
        registration_admin_token=admin_token,
        homeserver_public_url=(
            _http_url(web, "homeserver_public_url") if raw.get("homeserver_public_url") else None
        ),
        element_url=_http_url(web, "element_url", "https://app.element.io"),
        trust_forwarded_for=web.boolean("trust_forwarded_for", False),
        ip_per_minute=web.integer("ip_per_minute", 30, lo=1, hi=100_000),
        account_per_hour=web.integer("account_per_hour", 10, lo=1, hi=100_000),
    )
