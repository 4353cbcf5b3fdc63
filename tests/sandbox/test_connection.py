"""The snippet `sandbox up` prints points an unmodified discord.py at the emulator."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

from sandbox.connection import discord_py_snippet
from sandbox.discord.server import Emulator
from sandbox.stack import DEMO_SEED


async def test_printed_discord_py_snippet_connects_and_sends(tmp_path: Path) -> None:
    """Run as its own process (discord.py's endpoints are process-wide): it logs in,
    sends to the channel and the emulator has the message."""
    async with Emulator(DEMO_SEED) as emu:
        user = next(u for u in emu.seed["users"] if not u.get("bot"))
        channel = next(
            c for g in emu.seed["guilds"] for c in g["channels"] if int(c.get("type", 0)) == 0
        )
        code = discord_py_snippet(emu.api_base, user["token"], str(channel["id"]))
        # Stop once the message is sent, so the test ends.
        code = code.replace(
            'send("Hello from my own discord.py!")',
            'send("Hello from my own discord.py!"); await client.close()',
        )
        script = tmp_path / "mine.py"
        script.write_text(code, encoding="utf-8")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, out.decode()
        assert "ready as" in out.decode()
        texts = [m["content"] for m in emu.state.messages_in(channel["id"])]
        assert "Hello from my own discord.py!" in texts, textwrap.shorten(str(texts), 300)
