"""The fault-injection stack: the bridge as a child process (to SIGKILL it) and its
database behind a TCP proxy (to cut it as a PostgreSQL restart would)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from sandbox.postgres import create_database, drop_database
from sandbox.stack import SandboxStack, StackOptions
from sandbox.tcp_proxy import TcpProxy
from tests.conftest import _require_postgres

# Each fault's figures, printed at the end of the run (see pytest_terminal_summary).
REPORT: list[str] = []


class FaultStack:
    def __init__(self, stack: SandboxStack, proxy: TcpProxy) -> None:
        self.stack = stack
        self.proxy = proxy


@pytest.fixture(scope="module")
async def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultStack]:
    await _require_postgres()
    dsn = await create_database(prefix="passerelle_faults")
    parts = urlsplit(dsn)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    netloc = f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}"
    proxied = urlunsplit(parts._replace(netloc=netloc))
    workdir: Path = tmp_path_factory.mktemp("faults")
    opts = StackOptions(
        workdir=workdir,
        database_url=proxied,
        matrix_users=[("alice", "alice-password")],
        members_allowlist=["@alice:localhost"],
        sender_burst=10000,
        # Only the flood limit (raised above): the faults stream is not spam.
        config_overrides={
            "moderation": {
                "protections": {
                    "mentions": {"enabled": False},
                    "newcomers": {"enabled": False},
                    "repeats": {"enabled": False},
                }
            }
        },
        bridge_subprocess=True,
    )
    try:
        async with SandboxStack(opts) as stack:
            yield FaultStack(stack, proxy)
    finally:
        await proxy.stop()
        await drop_database(dsn)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("fault injection: messages sent / delivered / duplicated / lost")
        for line in REPORT:
            terminalreporter.write_line(line)
