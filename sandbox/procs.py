"""Child processes that die with the sandbox, even when it is SIGKILLed.

On Linux the kernel sends a child a chosen signal when its parent dies
(``prctl(PR_SET_PDEATHSIG)``); it is set in the child between fork and exec.
Elsewhere this is a no-op: the sandbox then only stops its children on a
clean exit.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` making the child receive ``sig`` when this process dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c") or "libc.so.6"
    parent = os.getpid()

    def preexec() -> None:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return preexec
