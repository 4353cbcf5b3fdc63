"""The benchmarks still run: `python -m bench latency` with 5 messages each way (~10 s).

Only checks that it completes and prints its table; the figures are not judged here
(timed assertions would be flaky on a shared machine). See bench/README.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent


def test_latency_benchmark_runs_and_prints_its_table(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "latency",
            "--messages",
            "5",
            "--database",
            "sqlite",
            "--workdir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.startswith("machine: nproc=")
    for direction in ("Discord->Matrix", "Matrix->Discord"):
        row = re.search(rf"^{re.escape(direction)}\s+5\s+(\d+\.\d)\s", out, re.MULTILINE)
        assert row, out
        assert float(row.group(1)) > 0
    assert not any(tmp_path.iterdir()), "the benchmark must remove its work directory"
