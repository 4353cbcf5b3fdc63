"""Issue 16: `run` with the homeserver down logs one plain line per attempt and keeps
retrying with backoff until it answers, instead of a 72-line traceback."""

from __future__ import annotations

import asyncio
import copy
import logging
import signal
import sys
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from bridge.config import load_config
from bridge.registration import build_registration, write_registration
from bridge.startup import wait_for_homeserver
from sandbox.synapse import free_port
from tests.test_config import ROOT, VALID


async def test_waits_for_a_homeserver_that_appears(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stop = asyncio.Event()

    async def versions(request: web.Request) -> web.Response:
        return web.json_response({"versions": ["v1.11"]})

    app = web.Application()
    app.router.add_get("/_matrix/client/versions", versions)
    runner = web.AppRunner(app)
    await runner.setup()
    with caplog.at_level(logging.WARNING, logger="bridge.startup"):
        waiting = asyncio.create_task(
            wait_for_homeserver(url, stop, first_delay=0.2, max_delay=0.4)
        )
        await asyncio.sleep(1.0)
        assert not waiting.done()  # still retrying
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()  # the homeserver comes back
        try:
            assert await asyncio.wait_for(waiting, 5) is True
        finally:
            await runner.cleanup()
    lines = [r.getMessage() for r in caplog.records]
    unreachable = [line for line in lines if "startup.homeserver-unreachable" in line]
    assert len(unreachable) >= 2
    assert all("\n" not in line for line in lines)
    assert "retry_in=0s" in unreachable[0] and "retry_in=0s" in unreachable[1]  # 0.2, 0.4
    assert any("startup.homeserver-back" in line for line in lines)


async def test_stop_while_waiting_returns_false() -> None:
    stop = asyncio.Event()
    waiting = asyncio.create_task(wait_for_homeserver(f"http://127.0.0.1:{free_port()}", stop))
    await asyncio.sleep(0.3)
    stop.set()
    assert await asyncio.wait_for(waiting, 5) is False


async def test_run_with_the_homeserver_down_logs_plain_lines_and_keeps_waiting(
    tmp_path: Path,
) -> None:
    data = copy.deepcopy(VALID)
    data["homeserver"]["url"] = f"http://127.0.0.1:{free_port()}"
    data["database"]["url"] = f"sqlite:///{tmp_path / 'bridge.db'}"
    data["discord"]["api_base"] = f"http://127.0.0.1:{free_port()}/api/v10"
    data["appservice"]["listen_port"] = free_port()
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    path.chmod(0o600)
    config = load_config(path)
    write_registration(build_registration(config), config.appservice.registration)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "run",
        "-c",
        str(path),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    await asyncio.sleep(4)
    assert proc.returncode is None  # still running: waiting, not exited
    proc.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(proc.communicate(), 20)
    text = out.decode()
    assert proc.returncode == 0, text
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if "startup.homeserver-unreachable" in line]
    assert len(lines) >= 2, text  # retried (after 1 s, then 2 s)
    assert "reason=ClientConnectorError" in lines[0], lines[0]
