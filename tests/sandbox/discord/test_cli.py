"""``python -m sandbox.discord``: serves the seed, stops cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "sandbox" / "discord" / "demo_seed.yaml"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_cli_runs_until_signalled(sig: signal.Signals) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox.discord",
        "--port",
        "0",
        "--seed",
        str(DEMO),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert line.startswith("Discord emulator on http://127.0.0.1:"), line
        url = line.split()[-1]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/api/v10/gateway") as resp:
                assert resp.status == 200
                assert (await resp.json())["url"].startswith("ws://127.0.0.1:")
        proc.send_signal(sig)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_cli_rejects_a_bad_seed(tmp_path: Path) -> None:
    bad = tmp_path / "seed.yaml"
    bad.write_text("users: []\n", encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox.discord",
        "--port",
        "0",
        "--seed",
        str(bad),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2
    assert "users: at least one user is required" in err.decode()
