"""The collaborators of every moderation flow, handed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bridge.actions.context import BridgeContext
from bridge.config import ModerationConfig
from bridge.db import Stores
from bridge.i18n import Translator, translator
from bridge.ids import GhostNamer
from moderation.ports import DiscordModerationPort, MatrixModerationPort
from moderation.state import ModerationState

if TYPE_CHECKING:
    from moderation.lockdown import LockdownService


@dataclass
class ModerationContext:
    bridge: BridgeContext
    discord: DiscordModerationPort
    matrix: MatrixModerationPort
    # Lockdown and join waves (moderation.lockdown); set when the service is made.
    lockdown: LockdownService | None = None

    @property
    def config(self) -> ModerationConfig:
        return self.bridge.config.moderation

    @property
    def stores(self) -> Stores:
        return self.bridge.stores

    @property
    def namer(self) -> GhostNamer:
        return self.bridge.namer

    @property
    def state(self) -> ModerationState:
        return self.bridge.moderation

    @property
    def tr(self) -> Translator:
        """What moderators read, in the configured language (``bridge.language``)."""
        return translator(self.bridge.config.bridge.language)
