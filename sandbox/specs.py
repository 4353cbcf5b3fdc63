"""Where the shared contract data (``../shared/specs``) is.

``$PASSERELLE_SHARED_SPECS`` if set; else ``shared/specs`` beside the checkout;
else, for a clone made from a local checkout (a fresh CI clone in /tmp, say),
beside the checkout it was cloned from.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ENV_VAR = "PASSERELLE_SHARED_SPECS"
REPO_ROOT = Path(__file__).resolve().parents[1]


def _origin_checkout() -> Path | None:
    try:
        url = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(url.removeprefix("file://"))
    return path.resolve() if path.is_absolute() and path.is_dir() else None


def specs_dir() -> Path:
    base = os.environ.get(ENV_VAR)
    if base:
        return Path(base)
    beside = REPO_ROOT.parent / "shared" / "specs"
    if beside.is_dir():
        return beside
    origin = _origin_checkout()
    if origin is not None and (origin.parent / "shared" / "specs").is_dir():
        return origin.parent / "shared" / "specs"
    return beside  # missing: the caller's error names the expected place
