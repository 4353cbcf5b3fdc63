"""Data access: the only package where SQL lives. One module per table family."""

from __future__ import annotations

import logging
from typing import Any

from mautrix.util.async_db import Database

from bridge.db.channels import (
    ChannelOverride,
    ChannelOverrideStore,
    RuleOverride,
    RuleOverrideStore,
)
from bridge.db.emoji import StickerRow, StickerStore
from bridge.db.links import LinkCodeRow, LinkCodeStore, LinkDirection, LinkRow, LinkStore
from bridge.db.lockdown import LockdownRow, LockdownStore, SavedValue
from bridge.db.messages import MessageMap, MessageRow
from bridge.db.moderation import (
    AuditEntry,
    AuditStore,
    BanOrigin,
    BanRow,
    BanStore,
    BridgeRoomStore,
    PolicyRuleRow,
    PolicyRuleStore,
    Side,
)
from bridge.db.outbox import (
    HistoryImportStore,
    ImportRow,
    InflightRow,
    InflightStore,
    OutboxRow,
    OutboxStore,
)
from bridge.db.polls import PollRow, PollStore
from bridge.db.portals import PortalRow, PortalStore
from bridge.db.protections import (
    ProtectionHeldStore,
    ProtectionMuteStore,
    ProtectionSwitchStore,
)
from bridge.db.puppets import PuppetRow, PuppetStore
from bridge.db.reactions import EmojiRow, ReactionRow, ReactionStore
from bridge.db.scheduled_events import EventNoticeRow, EventNoticeStore
from bridge.db.spaces import SpaceRow, SpaceStore
from bridge.db.threads import ThreadRow, ThreadStore
from bridge.db.txns import TransactionStore
from bridge.db.user_languages import UserLanguageStore
from bridge.db.web_accounts import WebAccountStore
from bridge.db.webhooks import WebhookRow, WebhookStore

__all__ = [
    "AuditEntry",
    "AuditStore",
    "BanOrigin",
    "BanRow",
    "BanStore",
    "BridgeRoomStore",
    "ChannelOverride",
    "ChannelOverrideStore",
    "Database",
    "EmojiRow",
    "EventNoticeRow",
    "EventNoticeStore",
    "HistoryImportStore",
    "ImportRow",
    "InflightRow",
    "InflightStore",
    "LinkCodeRow",
    "LinkCodeStore",
    "LinkDirection",
    "LinkRow",
    "LinkStore",
    "LockdownRow",
    "LockdownStore",
    "MessageMap",
    "MessageRow",
    "OutboxRow",
    "OutboxStore",
    "PolicyRuleRow",
    "PolicyRuleStore",
    "PollRow",
    "PollStore",
    "PortalRow",
    "PortalStore",
    "ProtectionHeldStore",
    "ProtectionMuteStore",
    "ProtectionSwitchStore",
    "PuppetRow",
    "PuppetStore",
    "ReactionRow",
    "ReactionStore",
    "RuleOverride",
    "RuleOverrideStore",
    "SavedValue",
    "Side",
    "SpaceRow",
    "SpaceStore",
    "StickerRow",
    "StickerStore",
    "Stores",
    "ThreadRow",
    "ThreadStore",
    "TransactionStore",
    "WebAccountStore",
    "WebhookRow",
    "WebhookStore",
    "open_database",
]

log = logging.getLogger(__name__)


async def _keep_session(conn: Any) -> None:
    """What asyncpg's pool does to a connection it takes back, instead of its default.

    asyncpg's default sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` at every release: one more round trip for every statement the bridge
    makes through the pool (half of its database round trips per relayed message).
    The bridge never takes advisory locks, opens cursors, listens or sets session
    settings on these connections, so there is nothing to reset; a transaction left
    open is still rolled back by asyncpg before this is called."""


def open_database(url: str) -> Database:
    """Create (not start) a connection pool for postgresql:// or sqlite:// URLs."""
    if url.startswith("postgresql://"):
        url = "postgres://" + url.removeprefix("postgresql://")
    pool_args: dict[str, Any] = {"min_size": 1, "max_size": 10, "reset": _keep_session}
    return Database.create(url, db_args=pool_args if url.startswith("postgres") else {})


class Stores:
    """Every store, over one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.portals = PortalStore(db)
        self.puppets = PuppetStore(db)
        self.messages = MessageMap(db)
        self.webhooks = WebhookStore(db)
        self.txns = TransactionStore(db)
        self.reactions = ReactionStore(db)
        self.threads = ThreadStore(db)
        self.bans = BanStore(db)
        self.policy_rules = PolicyRuleStore(db)
        self.audit = AuditStore(db)
        self.bridge_rooms = BridgeRoomStore(db)
        self.links = LinkStore(db)
        self.link_codes = LinkCodeStore(db)
        self.inflight = InflightStore(db, self.messages)
        self.outbox = OutboxStore(db, self.inflight)
        self.imports = HistoryImportStore(db)
        self.channel_overrides = ChannelOverrideStore(db)
        self.rule_overrides = RuleOverrideStore(db)
        self.polls = PollStore(db)
        self.spaces = SpaceStore(db)
        self.web_accounts = WebAccountStore(db)
        self.protection_switches = ProtectionSwitchStore(db)
        self.protection_mutes = ProtectionMuteStore(db)
        self.protection_held = ProtectionHeldStore(db)
        self.lockdown = LockdownStore(db)
        self.user_languages = UserLanguageStore(db)
        self.stickers = StickerStore(db)
        self.event_notices = EventNoticeStore(db)
