"""The README's sandbox command works: `python -m sandbox up` on SQLite shows both directions.

Runs in a subprocess (discord.py's endpoints are process-wide, so one emulator per process).
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

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
        r"Matrix -> Discord: webhook 'alice \(Matrix\)' said 'Hello from Matrix!' in (\d+) ms", text
    )
    assert d2m and m2d, text
    assert int(d2m.group(1)) < 1000 and int(m2d.group(1)) < 1000
    assert "sqlite://" in text  # the embedded default database
    assert "Matrix test user  : @alice:localhost" in text
    assert re.search(r"Members' page     : http://127\.0\.0\.1:\d+/", text)
