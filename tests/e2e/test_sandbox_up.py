"""The README's sandbox command works: `python -m sandbox up` on SQLite shows both directions.

Runs in a subprocess (discord.py's endpoints are process-wide, so one emulator per process).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


async def test_sandbox_up_shows_messages_crossing(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        "up",
        "--dir",
        str(tmp_path / "sandbox"),
        "--synapse-port",
        "0",
        "--discord-port",
        "0",
        "--appservice-port",
        "0",
        "--web-port",
        "0",
        "--exit-after-demo",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    text = out.decode()
    print(text)
    assert proc.returncode == 0, text
    d2m = re.search(r"Discord -> Matrix: @_discord_\d+:localhost said .* in (\d+) ms", text)
    m2d = re.search(
        # The Matrix demo user and Discord's alice share a name: the Matrix ID tells
        # them apart (see "Names nobody can borrow" in the README).
        r"Matrix -> Discord: webhook 'alice \(\uff20alice:localhost\) \(Matrix\)' said "
        r"'Hello from Matrix!' in (\d+) ms",
        text,
    )
    assert d2m and m2d, text
    assert int(d2m.group(1)) < 1000 and int(m2d.group(1)) < 1000
    assert "sqlite://" in text  # the embedded default database
    assert "Matrix test user  : @alice:localhost" in text
    assert re.search(r"Members' page     : http://127\.0\.0\.1:\d+/", text)
    # Issue 16: IDs, the listener, /health and a discord.py snippet are printed.
    assert re.search(r"Discord guild     : .* id \d+", text), text
    assert re.search(r"Portal            : #\S+ +channel \d+  <->  room ![^ ]+  #", text), text
    assert re.search(r"Bridge listener   : http://127\.0\.0\.1:\d+", text), text
    assert re.search(r"Bridge health     : http://127\.0\.0\.1:\d+/health", text), text
    assert "discord.http.Route.BASE = " in text and 'client.run("' in text, text


def _up(workdir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sandbox",
        "up",
        "--dir",
        str(workdir),
        "--synapse-port",
        "0",
        "--discord-port",
        "0",
        "--appservice-port",
        "0",
        "--web-port",
        "0",
        *extra,
    ]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by a dead parent's reaper) counts as gone.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


async def _wait_gone(pid: int, seconds: float = 30) -> bool:
    for _ in range(int(seconds * 10)):
        if not _alive(pid):
            return True
        await asyncio.sleep(0.1)
    return False


async def _read_until(stream: asyncio.StreamReader, marker: str, seconds: float = 120) -> str:
    seen = []

    async def read() -> None:
        while line := await stream.readline():
            seen.append(line.decode())
            if marker in seen[-1]:
                return
        raise AssertionError("".join(seen))

    await asyncio.wait_for(read(), seconds)
    return "".join(seen)


async def test_sandbox_restarts_on_the_same_dir_with_its_discord_state(tmp_path: Path) -> None:
    """Issue 16: a second `up` on the same --dir works (the demo user logs in instead of
    failing with M_USER_IN_USE) and finds the emulator's messages of the first run."""
    texts = []
    for _ in range(2):
        proc = await asyncio.create_subprocess_exec(
            *_up(tmp_path / "sandbox", "--exit-after-demo"),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 120)
        texts.append(out.decode())
        assert proc.returncode == 0, texts[-1]
    assert "M_USER_IN_USE" not in texts[1]
    loaded = re.search(r"Discord emulator state loaded from .* \((\d+) messages\)", texts[1])
    assert loaded and int(loaded.group(1)) >= 2, texts[1]
    assert "Matrix -> Discord: webhook" in texts[1], texts[1]


async def test_bridge_process_restarts_alone_and_children_die_with_the_sandbox(
    tmp_path: Path,
) -> None:
    """Issue 16: with --bridge-process the bridge is a child that is started again when
    killed; SIGKILL of the sandbox takes Synapse and the bridge down with it."""
    workdir = tmp_path / "sandbox"
    proc = await asyncio.create_subprocess_exec(
        *_up(workdir, "--no-demo", "--bridge-process"),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    try:
        text = await _read_until(proc.stdout, "Bridge process    : pid")
        bridge_pid = int(re.findall(r"Bridge process    : pid (\d+)", text)[0])
        synapse_pid = int(re.findall(r"Matrix homeserver : .*pid (\d+)\)", text)[0])
        assert _alive(bridge_pid) and _alive(synapse_pid)
        health_url = re.findall(r"Bridge health     : (\S+)", text)[0]
        async with aiohttp.ClientSession() as session, session.get(health_url) as resp:
            assert resp.status == 200, await resp.text()
        os.kill(bridge_pid, signal.SIGKILL)
        text = await _read_until(proc.stdout, "Bridge process restarted: pid")
        new_bridge = int(re.findall(r"restarted: pid (\d+)", text)[0])
        assert new_bridge != bridge_pid and _alive(new_bridge)
        assert _alive(synapse_pid)  # only the bridge went down
        proc.kill()  # SIGKILL: no clean-up code runs in the sandbox
        await proc.wait()
        assert await _wait_gone(synapse_pid), "Synapse outlived the SIGKILLed sandbox"
        assert await _wait_gone(new_bridge), "the bridge outlived the SIGKILLed sandbox"
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
