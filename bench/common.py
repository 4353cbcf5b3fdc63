"""Small helpers every benchmark uses: percentiles, tables, machine facts, /proc readings."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (as numpy's default); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    n: int
    p50: float
    p95: float
    p99: float
    mean: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan, nan)
        return cls(
            len(values),
            percentile(values, 50),
            percentile(values, 95),
            percentile(values, 99),
            sum(values) / len(values),
            max(values),
        )


def fmt(value: object, digits: int = 1) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.{digits}f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str = "") -> str:
    """A plain text table, columns right-aligned except the first."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(items: Sequence[str]) -> str:
        parts = [
            items[i].ljust(widths[i]) if i == 0 else items[i].rjust(widths[i])
            for i in range(len(items))
        ]
        return "  ".join(parts).rstrip()

    out = []
    if title:
        out.append(title)
    out.append(line(list(headers)))
    out.append(line(["-" * w for w in widths]))
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def code_version() -> str:
    """The commit benchmarked, and whether the work tree differed from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "bridge", "moderation"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+uncommitted bridge changes" if dirty else "")


def machine_line() -> str:
    cpu = "?"
    try:
        for raw in Path("/proc/cpuinfo").read_text().splitlines():
            if raw.startswith("model name"):
                cpu = raw.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for raw in Path("/proc/meminfo").read_text().splitlines():
            if raw.startswith("MemTotal"):
                mem = f"{int(raw.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return (
        f"machine: nproc={os.cpu_count()} cpu={cpu!r} mem={mem} "
        f"python={platform.python_version()} ({sys.implementation.name}) "
        f"kernel={platform.release()} loadavg={loadavg()} code={code_version()}"
    )


def rss_kib(pid: int | str = "self") -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB, from /proc/<pid>/status."""
    rss = hwm = 0
    for raw in Path(f"/proc/{pid}/status").read_text().splitlines():
        if raw.startswith("VmRSS:"):
            rss = int(raw.split()[1])
        elif raw.startswith("VmHWM:"):
            hwm = int(raw.split()[1])
    return rss, hwm


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process (seconds), from /proc/<pid>/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = raw.rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime is field 14, stime 15 -> indices 11, 12
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return float("nan"), float("nan")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


Pids = int | str | list[int]


def _cpu(pids: Pids) -> float:
    if isinstance(pids, list):
        return sum(cpu_seconds(p) for p in pids)
    return cpu_seconds(pids)


class CpuMeter:
    """CPU use of some processes over a span of wall time, as % of one core; ``machine``
    is the whole machine's busy time in the same unit (200% = both cores busy)."""

    def __init__(self, pids: dict[str, Pids]) -> None:
        self.pids = pids
        self._start = {name: _cpu(p) for name, p in pids.items()}
        self._machine = machine_busy()
        self._t0 = time.perf_counter()

    def percent(self) -> dict[str, float]:
        wall = max(1e-9, time.perf_counter() - self._t0)
        out = {name: (_cpu(p) - self._start[name]) / wall * 100 for name, p in self.pids.items()}
        busy, _ = machine_busy()
        out["machine"] = (busy - self._machine[0]) / wall * 100
        return out
