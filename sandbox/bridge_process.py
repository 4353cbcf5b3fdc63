"""The bridge as a child process (`python -m bridge run`), so tests can SIGKILL it and
benchmarks can measure it alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path

from sandbox.procs import die_with_parent

log = logging.getLogger(__name__)

READY_LINE = b"bridge.started"
REPO_ROOT = Path(__file__).resolve().parents[1]


class BridgeProcessError(RuntimeError):
    pass


class BridgeProcess:
    def __init__(self, config_path: Path, log_path: Path) -> None:
        self.config_path = config_path
        self.log_path = log_path
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.starts = 0
        # Of the latest start: wall-clock spawn time, where its log begins, seconds to ready.
        self.spawned_epoch = 0.0
        self.log_offset = 0
        self.ready_seconds = float("nan")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def log_text(self) -> str:
        """What the latest start has logged so far."""
        with self.log_path.open("rb") as fh:
            fh.seek(self.log_offset)
            return fh.read().decode("utf-8", errors="replace")

    async def start(self, timeout: float = 60, python_args: tuple[str, ...] = ()) -> float:
        """Start and wait for "bridge.started"; returns the seconds it took.

        ``python_args`` go before ``-m bridge`` (e.g. ``-m cProfile -o FILE``)."""
        if self.running:
            raise BridgeProcessError("the bridge is already running")
        self._ready = asyncio.Event()
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.spawned_epoch = time.time()
        began = time.monotonic()
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            *python_args,
            "-m",
            "bridge",
            "run",
            "-c",
            str(self.config_path),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=str(REPO_ROOT),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=die_with_parent(),  # SIGTERM when its parent dies, even by SIGKILL
        )
        self.starts += 1
        self._reader = asyncio.create_task(self._read(self._process))
        ready = asyncio.create_task(self._ready.wait())
        exited = asyncio.create_task(self._process.wait())
        done, _ = await asyncio.wait(
            {ready, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        ready.cancel()
        exited.cancel()
        if ready not in done:
            code = self._process.returncode
            await self.kill()
            tail = "\n".join(self.log_text().splitlines()[-30:])
            what = f"exited {code}" if code is not None else f"not ready within {timeout}s"
            raise BridgeProcessError(f"the bridge {what}; see {self.log_path}:\n{tail}")
        self.ready_seconds = time.monotonic() - began
        return self.ready_seconds

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        with self.log_path.open("ab") as out:
            out.write(f"---- start {self.starts} pid={process.pid}\n".encode())
            while line := await process.stdout.readline():
                out.write(line)
                out.flush()
                if READY_LINE in line:
                    self._ready.set()

    async def wait(self) -> int | None:
        """Wait until the running process exits (killed from outside, or crashed)."""
        process = self._process
        if process is None:
            return None
        code = await process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)
        if self._process is process:
            self._process = None
        return code

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as in a crash or an OOM kill."""
        await self._end(signal.SIGKILL, 10)

    async def terminate(self, timeout: float = 30) -> int | None:
        """SIGTERM (graceful drain); returns the exit code."""
        return await self._end(signal.SIGTERM, timeout)

    async def _end(self, sig: signal.Signals, timeout: float) -> int | None:
        process = self._process
        if process is None:
            return None
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                log.warning("bridge-process.kill pid=%s reason=no-exit", process.pid)
                process.kill()
                await process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)
        self._process = None
        return process.returncode
