"""What `python -m sandbox up` prints once running: addresses, IDs, tokens and a
snippet pointing a plain discord.py at the emulator."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import quote

import aiohttp

from bridge.transport.discord_endpoints import derive_endpoints

if TYPE_CHECKING:
    from sandbox.stack import SandboxStack

log = logging.getLogger(__name__)


async def resolve_alias(homeserver: str, token: str, alias: str) -> str | None:
    """The room ID behind an alias, or None when it does not resolve (yet)."""
    url = f"{homeserver}/_matrix/client/v3/directory/room/{quote(alias, safe='')}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            async with session.get(url, headers=headers) as resp:
                if resp.status != 200:
                    return None
                return str((await resp.json())["room_id"])
    except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
        log.info("sandbox.alias-unresolved alias=%s reason=%s", alias, type(exc).__name__)
        return None


def discord_py_snippet(api_base: str, token: str, channel_id: str) -> str:
    """Copy-paste code: an unmodified discord.py 2.x client talking to the emulator
    (recipe of sandbox/discord/README.md, without the project's code)."""
    rest, gateway, cdn = derive_endpoints(api_base)
    return f"""\
import discord, discord.asset, discord.gateway, discord.http, yarl

discord.http.Route.BASE = "{rest}"
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL("{gateway}")
discord.asset.Asset.BASE = "{cdn}"

client = discord.Client(intents=discord.Intents.all())

@client.event
async def on_ready():
    print("ready as", client.user)
    await client.get_channel({channel_id}).send("Hello from my own discord.py!")

@client.event
async def on_message(message):
    print(f"#{{message.channel}} {{message.author}}: {{message.content}}")

client.run("{token}")"""


async def connection_lines(stack: SandboxStack, user_id: str, password: str) -> list[str]:
    """Everything a newcomer needs to use the running sandbox, one line each."""
    assert stack.synapse and stack.emulator and stack.config
    synapse, emulator, config = stack.synapse, stack.emulator, stack.config
    token = stack.matrix_tokens[user_id]
    lines = [
        f"  Matrix homeserver : {synapse.url}  (server name {synapse.server_name}, "
        f"pid {synapse.pid})",
        f"  Matrix test user  : {user_id}  password: {password}",
        f"  Discord emulator  : {emulator.url}  (REST {emulator.api_base})",
    ]
    for user in stack.seed["users"]:
        kind = "bridge bot" if user.get("bot") else "user"
        lines.append(
            f"  Discord {kind:<10}: {user['username']:<12} id {user['id']}  token: {user['token']}"
        )
    for guild in stack.seed["guilds"]:
        lines.append(f"  Discord guild     : {guild['name']}  id {guild['id']}")
    # In this process: the running list (rules expanded); else the config's.
    running = stack.bridge.config if stack.bridge is not None else config
    guild_names = {str(g["id"]): g["name"] for g in stack.seed["guilds"]}
    for chan in running.bridge.channels:
        alias = config.namer.portal_alias(chan.discord_channel)
        room_id = await resolve_alias(synapse.url, token, alias) or "(not created yet)"
        channel = emulator.state.channels.get(str(chan.discord_channel))
        name = f"#{channel.name}" if channel is not None else "?"
        guild = guild_names.get(str(chan.guild_id or ""), "")
        lines.append(
            f"  Portal            : {name:<14} channel {chan.discord_channel}  <->  room "
            f"{room_id}  {alias}  ({chan.access}; {guild})"
        )
    port = config.appservice.listen_port
    lines.append(f"  Bridge listener   : http://{config.appservice.listen_host}:{port}")
    lines.append(f"  Bridge health     : http://127.0.0.1:{port}/health")
    if stack.web_url:
        lines.append(f"  Members' page     : {stack.web_url}/  (log in on Discord as a user above:")
        lines.append("                      username, and its token as the password)")
    if stack.cas is not None:
        lines.append(f"  Homeserver SSO    : {stack.cas.url}  (sandbox CAS: any new username")
        lines.append("                      creates a Matrix account on its first login)")
    lines.append(f"  Bridge config     : {config.path}")
    if stack.bridge_process is not None:
        process = stack.bridge_process
        lines.append(
            f"  Bridge process    : pid {process.pid}, log {process.log_path} "
            "(kill it: it is started again)"
        )
    lines.append(f"  Database          : {config.database.url}")
    human = next((u for u in stack.seed["users"] if not u.get("bot")), None)
    first = running.bridge.channels[0].discord_channel if running.bridge.channels else None
    if human is not None and first is not None:
        lines.append("")
        lines.append(
            f"  Your own discord.py (pip install discord.py), as {human['username']}; "
            "paste into a file and run it:"
        )
        lines.append("")
        snippet = discord_py_snippet(emulator.api_base, human["token"], str(first))
        lines.extend(f"    {line}" if line else "" for line in snippet.splitlines())
    return lines
