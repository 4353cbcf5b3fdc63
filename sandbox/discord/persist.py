"""Save the emulator's world to a file and load it back (``sandbox up --dir``).

The state is plain dataclasses, dicts and bytes, so it is pickled whole. The
file is the sandbox's own (written and read by the same code on one machine);
never load one from elsewhere.
"""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path
from typing import Any

from sandbox.discord.state import State

log = logging.getLogger(__name__)

# Addresses are set by the running server, not restored.
_NOT_SAVED = ("cdn_base",)


def save_state(state: State, path: Path) -> None:
    """Write the state atomically (a SIGKILL mid-write keeps the previous file)."""
    data: dict[str, Any] = {k: v for k, v in vars(state).items() if k not in _NOT_SAVED}
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(tmp, path)
    log.debug("emulator_state_saved path=%s messages=%d", path, len(state.messages))


def load_state(state: State, path: Path) -> bool:
    """Replace ``state``'s contents with a saved file's; False when there is none."""
    if not path.exists():
        return False
    data = pickle.loads(path.read_bytes())  # our own file, see the module doc
    for key, value in data.items():
        if key not in _NOT_SAVED:
            setattr(state, key, value)
    log.info("emulator_state_loaded path=%s messages=%d", path, len(state.messages))
    return True
