"""Matrix side: the MatrixPort over mautrix's appservice API and intents."""

from __future__ import annotations

import logging
import time
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
from mautrix.api import Method, Path
from mautrix.appservice import AppServiceAPI, IntentAPI
from mautrix.appservice.state_store import ASStateStore
from mautrix.client.state_store.memory import MemoryStateStore
from mautrix.errors import MatrixRequestError
from mautrix.types import (
    ContentURI,
    Event,
    EventType,
    Membership,
    MemberStateEventContent,
    RoomCreatePreset,
    RoomDirectoryVisibility,
    StateEvent,
)

from bridge import relay_clock
from bridge.ids import EventID, RoomID, UserID
from bridge.model import MatrixMedia, MatrixMessage, MatrixText, RoomPowerLevels
from bridge.transport import matrix_events, matrix_spaces
from bridge.transport.appservice_http import MediaStream
from bridge.transport.change_log import ChangeLog
from bridge.transport.matrix_events import MatrixEvent, media_fields, thread_root_of
from bridge.transport.matrix_media import MatrixMediaClient
from bridge.transport.matrix_power import MatrixPower
from bridge.transport.matrix_txn import UncertainSends, find_sent

log = logging.getLogger(__name__)

__all__ = ["MatrixEvent", "MatrixTransport", "MemoryASStateStore", "media_fields", "thread_root_of"]


# How long a user's global display name is kept (bridge.actions.name_clash asks for
# the moderators' names in rooms they are not in).
PROFILE_NAME_TTL = 600.0


class MemoryASStateStore(MemoryStateStore, ASStateStore):
    """mautrix's caches (membership, power levels, registration) kept in memory."""

    def __init__(self) -> None:
        MemoryStateStore.__init__(self)
        ASStateStore.__init__(self)


class MatrixTransport:
    """Implements :class:`bridge.ports.MatrixPort`."""

    def __init__(
        self, homeserver_url: str, as_token: str, bot_mxid: UserID, bot_displayname: str
    ) -> None:
        self.homeserver_url = homeserver_url
        self._as_token = as_token
        self.bot_mxid = bot_mxid
        self.bot_displayname = bot_displayname
        self.state_store = MemoryASStateStore()
        self._session: aiohttp.ClientSession | None = None
        self._api: AppServiceAPI | None = None
        self._media: MatrixMediaClient | None = None
        # (room, user) -> (display name, avatar mxc) from their member event
        self._profiles: dict[tuple[RoomID, UserID], tuple[str | None, str | None]] = {}
        # room -> joined members' display names, loaded once per room (member_names),
        # then kept current from member events; which members changed in each room.
        self._rosters: dict[RoomID, dict[UserID, str | None]] = {}
        self._roster_changes: ChangeLog[RoomID, UserID] = ChangeLog()
        # user -> (global display name, when read), for profile_name
        self._profile_names: dict[UserID, tuple[str | None, float]] = {}
        # Sends whose answer was lost (bridge.transport.matrix_txn).
        self._uncertain = UncertainSends()
        self.power = MatrixPower(lambda: self.bot)

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._api = AppServiceAPI(
            base_url=self.homeserver_url,
            bot_mxid=self.bot_mxid,
            token=self._as_token,
            log=logging.getLogger("bridge.transport.mautrix"),  # type: ignore[arg-type]
            state_store=self.state_store,
            client_session=self._session,
            default_retry_count=3,
        )
        self._media = MatrixMediaClient(
            self._session, self.homeserver_url, self._as_token, self.bot
        )
        await self.bot.ensure_registered()
        try:
            await self.bot.set_displayname(self.bot_displayname)
        except MatrixRequestError as exc:
            log.warning("matrix.bot-profile-failed error=%s", exc.message)

    async def ping_homeserver(self, appservice_id: str) -> None:
        """Ask the homeserver to reach us now.

        Besides checking both directions work, this makes Synapse retry a backed-off
        appservice at once, so events queued while we were down arrive immediately.
        """
        try:
            duration = await self.bot.appservice_ping(appservice_id)
            log.info("matrix.ping-ok duration_ms=%s", duration)
        except MatrixRequestError as exc:
            log.warning("matrix.ping-failed errcode=%s error=%s", exc.errcode, exc.message)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            self._media = None

    @property
    def api(self) -> AppServiceAPI:
        if self._api is None:
            raise RuntimeError("MatrixTransport used before start()")
        return self._api

    @property
    def bot(self) -> IntentAPI:
        return self.api.bot_intent()

    def intent(self, user_id: UserID) -> IntentAPI:
        return self.bot if user_id == self.bot_mxid else self.api.intent(user_id)

    @property
    def media(self) -> MatrixMediaClient:
        assert self._media is not None, "MatrixTransport media used outside start()..stop()"
        return self._media

    # -- incoming events -------------------------------------------------

    async def observe_state(self, raw: dict[str, Any]) -> None:
        """Keep the membership/name caches current from appservice events."""
        if raw.get("type") not in ("m.room.member", "m.room.power_levels"):
            return
        if raw.get("type") == "m.room.power_levels" and raw.get("sender") == self.bot_mxid:
            # The bot's own change: cached when it was sent. Its echo can arrive after a
            # newer one (the bot's, or a human's the bot read), and would bring it back.
            return
        try:
            event = StateEvent.deserialize(raw)  # type: ignore[arg-type]
        except Exception:  # a malformed event only loses a cache update
            log.warning("matrix.bad-state-event event=%s", raw.get("event_id"))
            return
        await self.state_store.update_state(event)
        if event.type == EventType.ROOM_MEMBER and isinstance(
            event.content, MemberStateEventContent
        ):
            key = (RoomID(event.room_id), UserID(event.state_key))
            member = event.content
            if member.membership == Membership.JOIN:
                self._profiles[key] = (member.displayname, member.avatar_url or None)
            else:
                self._profiles.pop(key, None)
            self._roster_changed(key[0], key[1], member)

    def _roster_changed(
        self, room_id: RoomID, user_id: UserID, member: MemberStateEventContent
    ) -> None:
        self._roster_changes.record(room_id, user_id)
        roster = self._rosters.get(room_id)
        if roster is None:
            return
        if member.membership == Membership.JOIN:
            roster[user_id] = member.displayname
        else:
            roster.pop(user_id, None)

    # Pure translations of raw room events (bridge.transport.matrix_events).
    parse_event = staticmethod(matrix_events.parse_event)
    parse_message = staticmethod(matrix_events.parse_message)
    parse_reaction = staticmethod(matrix_events.parse_reaction)
    parse_redaction = staticmethod(matrix_events.parse_redaction)
    parse_pins = staticmethod(matrix_events.parse_pins)

    # -- MatrixPort ------------------------------------------------------

    async def ensure_ghost(
        self, ghost: UserID, displayname: str | None, avatar_mxc: str | None
    ) -> None:
        intent = self.intent(ghost)
        await intent.ensure_registered()
        if displayname:
            await intent.set_displayname(displayname)
        if avatar_mxc:
            await intent.set_avatar_url(ContentURI(avatar_mxc))

    async def upload_avatar(self, url: str) -> str | None:
        return await self.media.upload_avatar(url)

    async def ensure_in_room(self, room_id: RoomID, user_id: UserID) -> None:
        await self.intent(user_id).ensure_joined(room_id)

    async def send_text(
        self,
        room_id: RoomID,
        sender: UserID,
        text: MatrixText,
        timestamp_ms: int | None,
        txn_id: str | None = None,
    ) -> EventID:
        return await self._send(
            room_id, sender, EventType.ROOM_MESSAGE, text.to_content(), timestamp_ms, txn_id
        )

    async def send_event(
        self,
        room_id: RoomID,
        sender: UserID,
        event_type: str,
        content: dict[str, Any],
        timestamp_ms: int | None,
        txn_id: str | None = None,
    ) -> EventID:
        kind = EventType.find(event_type, EventType.Class.MESSAGE)
        return await self._send(room_id, sender, kind, content, timestamp_ms, txn_id)

    async def _send(
        self,
        room_id: RoomID,
        sender: UserID,
        event_type: EventType,
        content: dict[str, Any],
        timestamp_ms: int | None,
        txn_id: str | None,
    ) -> EventID:
        """Send one message event. With a transaction ID, mautrix does not retry by
        itself: the caller's retry comes back here, where a try whose answer was lost is
        first looked for in the room (see :mod:`bridge.transport.matrix_txn`)."""
        intent = self.intent(sender)
        relay_clock.request_starts()
        if txn_id is None:
            return EventID(
                await intent.send_message_event(
                    room_id,
                    event_type,
                    content,  # type: ignore[arg-type]
                    timestamp=timestamp_ms,
                )
            )
        since = self._uncertain.started(txn_id)
        if since is not None:
            found = await self._find_sent(
                intent, room_id, sender, event_type, content, timestamp_ms, since
            )
            if found is not None:
                self._uncertain.forget(txn_id)
                log.info("matrix.send-found txn=%s event=%s room=%s", txn_id, found, room_id)
                return found
        started = int(time.time() * 1000)
        try:
            event_id = await intent.send_message_event(
                room_id,
                event_type,
                content,  # type: ignore[arg-type]
                timestamp=timestamp_ms,
                txn_id=txn_id,
                retry_count=0,
            )
        except MatrixRequestError as exc:
            if exc.http_status == 0 or exc.http_status >= 500:  # no clear "no"
                self._uncertain.mark(txn_id, since or started)
            raise
        except Exception:  # connection lost, timeout: it may have been stored
            self._uncertain.mark(txn_id, since or started)
            raise
        self._uncertain.forget(txn_id)
        return EventID(event_id)

    async def _find_sent(
        self,
        intent: IntentAPI,
        room_id: RoomID,
        sender: UserID,
        event_type: EventType,
        content: dict[str, Any],
        timestamp_ms: int | None,
        since_ms: int,
    ) -> EventID | None:
        """The event an uncertain send made, among the room's latest 50 (as the sender,
        who is joined since it sent)."""
        resp = await intent.api.request(
            Method.GET,
            Path.v3.rooms[room_id].messages,
            query_params={"dir": "b", "limit": "50"},
        )
        chunk = resp.get("chunk") if isinstance(resp, dict) else None
        events = [e for e in chunk or [] if isinstance(e, dict)]
        return find_sent(events, sender, str(event_type), content, timestamp_ms, since_ms)

    async def create_portal_room(
        self, name: str, topic: str, alias_localpart: str, public: bool, invite: list[UserID]
    ) -> RoomID:
        initial_state: list[dict[str, Any]] = [
            {
                "type": "m.room.history_visibility",
                "state_key": "",
                "content": {"history_visibility": "shared" if public else "joined"},
            },
            {
                "type": "m.room.guest_access",
                "state_key": "",
                "content": {"guest_access": "forbidden"},
            },
            {
                "type": "m.room.join_rules",
                "state_key": "",
                "content": {"join_rule": "public" if public else "invite"},
            },
        ]
        room_id = await self.bot.create_room(
            alias_localpart=alias_localpart,
            visibility=RoomDirectoryVisibility.PRIVATE,
            preset=RoomCreatePreset.PUBLIC if public else RoomCreatePreset.PRIVATE,
            name=name,
            topic=topic or None,
            invitees=invite,
            initial_state=initial_state,
        )
        await self.state_store.joined(room_id, self.bot_mxid)
        return RoomID(room_id)

    async def adopt_room(self, room_id: RoomID, name: str, topic: str) -> None:
        await self.bot.ensure_joined(room_id, bot=None)
        try:
            await self.bot.set_room_name(room_id, name)
            if topic:
                await self.bot.set_room_topic(room_id, topic)
        except MatrixRequestError as exc:
            log.warning("matrix.adopt-room-metadata-failed room=%s error=%s", room_id, exc.message)

    # -- spaces (bridge.transport.matrix_spaces) ---------------------------------

    async def create_space(
        self, name: str, topic: str, avatar_mxc: str | None, join_rule: dict[str, Any]
    ) -> RoomID:
        room_id = await matrix_spaces.create_space(self.bot, name, topic, avatar_mxc, join_rule)
        await self.state_store.joined(room_id, self.bot_mxid)
        return room_id

    async def set_room_state(
        self, room_id: RoomID, event_type: str, state_key: str, content: dict[str, Any]
    ) -> None:
        await matrix_spaces.set_state(self.bot, room_id, event_type, state_key, content)

    async def room_state(
        self, room_id: RoomID, event_type: str, state_key: str
    ) -> dict[str, Any] | None:
        return await matrix_spaces.get_state(self.bot, room_id, event_type, state_key)

    async def joined_members(self, room_id: RoomID) -> list[UserID]:
        return await matrix_spaces.joined_members(self.bot, room_id)

    async def invite(self, room_id: RoomID, user_id: UserID) -> None:
        await self.bot.invite_user(room_id, user_id)

    async def send_edit(
        self,
        room_id: RoomID,
        sender: UserID,
        target: EventID,
        text: MatrixText,
        timestamp_ms: int | None,
    ) -> EventID:
        new_content = text.to_content(with_relation=False)
        content: dict[str, Any] = {
            **new_content,
            "body": f"* {text.body}",
            "m.mentions": {},  # an edit pings nobody again
            "m.new_content": new_content,
            "m.relates_to": {"rel_type": "m.replace", "event_id": target},
        }
        if text.formatted_body is not None:
            content["formatted_body"] = f"* {text.formatted_body}"
        event_id = await self.intent(sender).send_message_event(
            room_id,
            EventType.ROOM_MESSAGE,
            content,  # type: ignore[arg-type]
            timestamp=timestamp_ms,
        )
        return EventID(event_id)

    async def send_reaction(
        self, room_id: RoomID, sender: UserID, target: EventID, key: str, shortcode: str | None
    ) -> EventID:
        content: dict[str, Any] = {
            "m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}
        }
        if shortcode is not None:
            content["com.beeper.reaction.shortcode"] = shortcode  # image keys: Element shows it
        event_id = await self.intent(sender).send_message_event(
            room_id,
            EventType.REACTION,
            content,  # type: ignore[arg-type]
        )
        return EventID(event_id)

    async def redact(self, room_id: RoomID, event_id: EventID, reason: str) -> None:
        await self.bot.redact(room_id, event_id, reason=reason)

    async def _get_event(self, room_id: RoomID, event_id: EventID) -> Event | None:
        try:
            return await self.bot.get_event(room_id, event_id)
        except MatrixRequestError as exc:
            log.warning("matrix.get-event-failed event=%s error=%s", event_id, exc.message)
            return None

    async def event_sender(self, room_id: RoomID, event_id: EventID) -> UserID | None:
        event = await self._get_event(room_id, event_id)
        return UserID(event.sender) if event is not None else None

    async def fetch_message(self, room_id: RoomID, event_id: EventID) -> MatrixMessage | None:
        """An earlier ``m.room.message`` of the room (for reply quotes), None if unusable."""
        event = await self._get_event(room_id, event_id)
        return self.parse_message(event.serialize()) if event is not None else None

    async def may_mention_room(self, room_id: RoomID, user_id: UserID) -> bool:
        """Whether the user's power level reaches the room's ``notifications.room`` level."""
        try:
            levels = await self.bot.get_power_levels(room_id)
        except MatrixRequestError:
            return False
        return bool(levels.get_user_level(user_id) >= levels.notifications.room)

    # -- media (bridge.transport.matrix_media) ------------------------------

    async def download_media(self, mxc: str, max_bytes: int) -> bytes | None:
        return await self.media.download_media(mxc, max_bytes)

    def open_media(
        self, server: str, media_id: str
    ) -> AbstractAsyncContextManager[MediaStream | None]:
        """Stream a homeserver file (for the bridge's signed public links)."""
        return self.media.open_media(server, media_id)

    async def upload_media(self, data: bytes, mimetype: str, filename: str) -> str:
        return await self.media.upload_media(data, mimetype, filename)

    async def fetch_url(self, url: str, max_bytes: int) -> tuple[bytes, str | None] | None:
        return await self.media.fetch_url(url, max_bytes)

    async def send_media(
        self,
        room_id: RoomID,
        sender: UserID,
        media: MatrixMedia,
        timestamp_ms: int | None,
        txn_id: str | None = None,
    ) -> EventID:
        sticker = media.event_type == "m.sticker"
        event_type = EventType.STICKER if sticker else EventType.ROOM_MESSAGE
        return await self._send(
            room_id, sender, event_type, media.to_content(), timestamp_ms, txn_id
        )

    async def pinned_events(self, room_id: RoomID) -> list[EventID]:
        try:
            content = await self.bot.get_state_event(room_id, EventType.ROOM_PINNED_EVENTS)
        except MatrixRequestError:  # M_NOT_FOUND: nothing pinned yet
            return []
        return [EventID(e) for e in content.serialize().get("pinned", []) if isinstance(e, str)]

    async def set_pinned_events(self, room_id: RoomID, events: list[EventID]) -> None:
        await self.bot.send_state_event(
            room_id,
            EventType.ROOM_PINNED_EVENTS,
            {"pinned": [str(e) for e in events]},  # type: ignore[dict-item]
        )

    async def is_joined(self, room_id: RoomID, user_id: UserID) -> bool:
        return bool(await self.state_store.is_joined(room_id, user_id))

    async def set_typing(self, room_id: RoomID, user_id: UserID, timeout_ms: int) -> None:
        try:
            await self.intent(user_id).set_typing(room_id, timeout=timeout_ms)
        except MatrixRequestError as exc:  # best effort
            log.info("matrix.typing-failed room=%s error=%s", room_id, exc.message)

    async def may_redact(self, room_id: RoomID, redactor: UserID, original: UserID) -> bool:
        if redactor == original:
            return True
        levels = await self.bot.get_power_levels(room_id)
        return bool(levels.get_user_level(redactor) >= levels.redact)

    async def room_power_levels(
        self, room_id: RoomID, fresh: bool = False
    ) -> RoomPowerLevels | None:
        return await self.power.read(room_id, fresh)

    async def set_room_power_levels(self, room_id: RoomID, content: dict[str, Any]) -> bool:
        return await self.power.write(room_id, content)

    async def _profile(self, room_id: RoomID, user_id: UserID) -> tuple[str | None, str | None]:
        key = (room_id, user_id)
        if key not in self._profiles:
            try:
                member = await self.bot.get_room_member_info(room_id, user_id)
            except MatrixRequestError:
                member = None
            self._profiles[key] = (
                (member.displayname, member.avatar_url or None) if member else (None, None)
            )
        return self._profiles[key]

    async def displayname(self, room_id: RoomID, user_id: UserID) -> str | None:
        return (await self._profile(room_id, user_id))[0]

    async def member_names(self, room_id: RoomID) -> dict[UserID, str | None]:
        roster = self._rosters.get(room_id)
        if roster is None:
            try:
                members = await self.bot.get_joined_members(room_id)
            except MatrixRequestError as exc:  # not cached: asked again next time
                log.warning("matrix.members-unknown room=%s error=%s", room_id, exc)
                return {}
            roster = {UserID(user): m.displayname for user, m in members.items()}
            self._rosters[room_id] = roster
        return roster

    def roster_version(self, room_id: RoomID) -> int:
        return self._roster_changes.version(room_id)

    def roster_changes(self, room_id: RoomID, since: int) -> frozenset[UserID] | None:
        return self._roster_changes.since(room_id, since)

    async def profile_name(self, user_id: UserID) -> str | None:
        kept = self._profile_names.get(user_id)
        if kept is not None and time.monotonic() - kept[1] < PROFILE_NAME_TTL:
            return kept[0]
        try:
            name = (await self.bot.get_profile(user_id)).displayname
        except MatrixRequestError:
            name = None
        self._profile_names[user_id] = (name, time.monotonic())
        return name

    async def avatar_mxc(self, room_id: RoomID, user_id: UserID) -> str | None:
        avatar = (await self._profile(room_id, user_id))[1]
        return str(avatar) if avatar else None
