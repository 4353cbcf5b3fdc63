"""Issue 16: `python -m bridge run` started while the homeserver is down logs one plain
line per attempt (no traceback), and starts normally once the homeserver is back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sandbox.stack import SandboxStack, StackOptions

pytestmark = pytest.mark.e2e


async def test_bridge_waits_for_the_homeserver_then_starts(tmp_path: Path) -> None:
    opts = StackOptions(workdir=tmp_path, web_port=None, bridge_subprocess=True)
    async with SandboxStack(opts) as stack:
        assert stack.synapse is not None and stack.bridge_process is not None
        process = stack.bridge_process
        await process.terminate()
        await stack.synapse.stop()  # the homeserver goes down (same port when back)
        starting = asyncio.create_task(process.start(timeout=120))
        await asyncio.sleep(4)
        assert not starting.done()  # waiting for the homeserver, not exited
        waiting = process.log_text()
        assert "startup.homeserver-unreachable" in waiting, waiting
        await stack.synapse.start()  # the homeserver comes back
        await asyncio.wait_for(starting, 120)  # "bridge.started": a normal start
        text = process.log_text()
        assert "Traceback" not in text, text
        assert "startup.homeserver-back" in text, text
