"""Point discord.py at a non-default Discord API (the sandbox emulator).

discord.py has no setting for its endpoints, so the only way is to set the
class attributes it reads. This is process-wide; it is called once, by the
bridge's Discord transport (and by test clients), and only when the config
names an API base other than Discord's own.
"""

from __future__ import annotations

import logging

import discord
import discord.asset
import discord.gateway
import discord.http
import yarl

log = logging.getLogger(__name__)

DISCORD_API_BASE = "https://discord.com/api/v10"


def derive_endpoints(api_base: str) -> tuple[str, str, str]:
    """Return (rest_base, gateway_url, cdn_base) for an API base URL.

    ``api_base`` is the REST root including the version, e.g.
    ``http://127.0.0.1:8090/api/v10``. The emulator serves the gateway at the
    server root over ``ws://`` and the CDN under ``/cdn``.
    """
    url = yarl.URL(api_base.rstrip("/"))
    if not url.is_absolute() or url.scheme not in ("http", "https"):
        raise ValueError(f"Discord API base must be an http(s) URL, got {api_base!r}")
    root = url.with_path("/")
    ws_scheme = "wss" if url.scheme == "https" else "ws"
    gateway = str(root.with_scheme(ws_scheme))
    cdn = str(root.with_path("/cdn"))
    return str(url), gateway, cdn


def use_api_base(api_base: str) -> None:
    """Make every discord.py client in this process talk to ``api_base``."""
    if api_base.rstrip("/") == DISCORD_API_BASE:
        return
    rest, gateway, cdn = derive_endpoints(api_base)
    discord.http.Route.BASE = rest
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    discord.asset.Asset.BASE = cdn
    log.info("discord.py endpoints overridden rest=%s gateway=%s cdn=%s", rest, gateway, cdn)


Endpoints = tuple[str, yarl.URL, str]


def current_endpoints() -> Endpoints:
    """The endpoints discord.py uses now (to put back with :func:`restore_endpoints`)."""
    return (
        discord.http.Route.BASE,
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        discord.asset.Asset.BASE,
    )


def restore_endpoints(saved: Endpoints) -> None:
    """Point discord.py back where :func:`current_endpoints` saw it (a test stack that
    stops hands the process back to the emulator that was there before it)."""
    (
        discord.http.Route.BASE,
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        discord.asset.Asset.BASE,
    ) = saved
