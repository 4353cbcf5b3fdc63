"""Matrix side: the MatrixPort over mautrix's appservice API and intents."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from mautrix.appservice import AppServiceAPI, IntentAPI
from mautrix.appservice.state_store import ASStateStore
from mautrix.client.state_store.memory import MemoryStateStore
from mautrix.errors import MatrixRequestError
from mautrix.types import (
    ContentURI,
    EventType,
    Membership,
    MemberStateEventContent,
    RoomCreatePreset,
    RoomDirectoryVisibility,
    StateEvent,
)

from bridge.ids import EventID, RoomID, UserID
from bridge.model import (
    MatrixEdit,
    MatrixMedia,
    MatrixMessage,
    MatrixPins,
    MatrixReaction,
    MatrixRedaction,
    MatrixText,
)
from bridge.ports import MediaTooLarge
from bridge.transport.appservice_http import MediaStream

log = logging.getLogger(__name__)

AVATAR_MAX_BYTES = 8 * 1024 * 1024
DOWNLOAD_CHUNK = 64 * 1024

MatrixEvent = MatrixMessage | MatrixEdit | MatrixRedaction | MatrixReaction


def thread_root_of(relates: Any) -> EventID | None:
    """The root of an ``m.thread`` relation (``{"rel_type": "m.thread", "event_id": ...}``)."""
    if not isinstance(relates, dict) or relates.get("rel_type") != "m.thread":
        return None
    root = relates.get("event_id")
    return EventID(root) if isinstance(root, str) and root else None


def media_fields(content: dict[str, Any]) -> dict[str, Any]:
    """url, filename, mimetype, size and spoiler of a media event's content."""
    url = content.get("url")
    if not isinstance(url, str) or not url.startswith("mxc://"):
        return {}
    info = content.get("info") if isinstance(content.get("info"), dict) else {}
    assert isinstance(info, dict)
    filename, mimetype, size = content.get("filename"), info.get("mimetype"), info.get("size")
    spoiler = bool(content.get("page.codeberg.everypizza.msc4193.spoiler")) or isinstance(
        content.get("town.robin.msc3725.content_warning"), dict
    )
    return {
        "url": url,
        "filename": filename if isinstance(filename, str) and filename else None,
        "mimetype": mimetype if isinstance(mimetype, str) else None,
        "size": size if isinstance(size, int) and not isinstance(size, bool) else None,
        "spoiler": spoiler,
    }


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
        # (room, user) -> (display name, avatar mxc) from their member event
        self._profiles: dict[tuple[RoomID, UserID], tuple[str | None, str | None]] = {}

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

    # -- incoming events -------------------------------------------------

    async def observe_state(self, raw: dict[str, Any]) -> None:
        """Keep the membership/name caches current from appservice events."""
        if raw.get("type") not in ("m.room.member", "m.room.power_levels"):
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

    @classmethod
    def parse_event(
        cls, raw: dict[str, Any]
    ) -> MatrixMessage | MatrixEdit | MatrixRedaction | MatrixReaction | MatrixPins | None:
        """Translate a raw room event into the dataclass the actions take, if relayed."""
        if raw.get("type") == "m.room.redaction":
            return cls.parse_redaction(raw)
        if raw.get("type") == "m.reaction":
            return cls.parse_reaction(raw)
        if raw.get("type") == "m.room.pinned_events":
            return cls.parse_pins(raw)
        message = cls.parse_message(raw)
        if message is None:
            return None
        content = raw["content"]
        relates = content.get("m.relates_to")
        if isinstance(relates, dict) and relates.get("rel_type") == "m.replace":
            new = content.get("m.new_content")
            target = relates.get("event_id")
            if not isinstance(new, dict) or not isinstance(target, str):
                return None
            new_message = cls.parse_message({**raw, "content": new})
            if new_message is None:
                return None
            return MatrixEdit(
                message.room_id, message.event_id, message.sender, EventID(target), new_message
            )
        return message

    @staticmethod
    def parse_reaction(raw: dict[str, Any]) -> MatrixReaction | None:
        """An ``m.reaction`` annotating an event with a key; None if malformed."""
        if "state_key" in raw:
            return None
        content = raw.get("content")
        relates = content.get("m.relates_to") if isinstance(content, dict) else None
        if not isinstance(relates, dict) or relates.get("rel_type") != "m.annotation":
            return None
        target, key = relates.get("event_id"), relates.get("key")
        room_id, event_id, sender = raw.get("room_id"), raw.get("event_id"), raw.get("sender")
        if not all(isinstance(v, str) and v for v in (target, key, room_id, event_id, sender)):
            return None
        return MatrixReaction(
            room_id=RoomID(str(room_id)),
            event_id=EventID(str(event_id)),
            sender=UserID(str(sender)),
            target=EventID(str(target)),
            key=str(key),
        )

    @staticmethod
    def parse_redaction(raw: dict[str, Any]) -> MatrixRedaction | None:
        content = raw.get("content") if isinstance(raw.get("content"), dict) else {}
        assert isinstance(content, dict)
        redacts = raw.get("redacts") or content.get("redacts")  # room v11 moved it to content
        room_id, event_id, sender = raw.get("room_id"), raw.get("event_id"), raw.get("sender")
        if not all(isinstance(v, str) for v in (redacts, room_id, event_id, sender)):
            return None
        reason = content.get("reason")
        return MatrixRedaction(
            room_id=RoomID(str(room_id)),
            event_id=EventID(str(event_id)),
            sender=UserID(str(sender)),
            redacts=EventID(str(redacts)),
            reason=reason if isinstance(reason, str) else None,
        )

    @staticmethod
    def parse_message(raw: dict[str, Any]) -> MatrixMessage | None:
        """Translate a raw ``m.room.message`` into our dataclass; None if unusable."""
        if raw.get("type") not in ("m.room.message", "m.sticker") or "state_key" in raw:
            return None
        content = raw.get("content")
        if not isinstance(content, dict):
            return None
        if raw.get("type") == "m.sticker":  # stickers have no msgtype; relay them as media
            content = {**content, "msgtype": "m.sticker"}
        body, msgtype = content.get("body"), content.get("msgtype")
        room_id, event_id, sender = raw.get("room_id"), raw.get("event_id"), raw.get("sender")
        if not all(isinstance(v, str) for v in (body, msgtype, room_id, event_id, sender)):
            return None
        formatted = content.get("formatted_body")
        ts = raw.get("origin_server_ts")
        relates = content.get("m.relates_to")
        in_reply_to = relates.get("m.in_reply_to") if isinstance(relates, dict) else None
        reply_to = in_reply_to.get("event_id") if isinstance(in_reply_to, dict) else None
        thread_root = thread_root_of(relates)
        if isinstance(relates, dict) and thread_root and relates.get("is_falling_back") is True:
            reply_to = None  # only the fallback for clients without threads
        mentions = content.get("m.mentions")
        mentions = mentions if isinstance(mentions, dict) else {}
        user_ids = mentions.get("user_ids")
        user_ids = user_ids if isinstance(user_ids, list) else []
        return MatrixMessage(
            room_id=RoomID(str(room_id)),
            event_id=EventID(str(event_id)),
            sender=UserID(str(sender)),
            msgtype=str(msgtype),
            body=str(body),
            formatted_body=formatted if isinstance(formatted, str) else None,
            timestamp_ms=ts if isinstance(ts, int) else 0,
            reply_to=EventID(reply_to) if isinstance(reply_to, str) else None,
            thread_root=thread_root,
            mentioned_user_ids=tuple(UserID(u) for u in user_ids if isinstance(u, str)),
            mentions_room=mentions.get("room") is True,
            **media_fields(content),
        )

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
        assert self._session is not None
        try:
            async with self._session.get(url) as resp:
                if resp.status != 200:
                    log.warning("matrix.avatar-download-failed status=%s", resp.status)
                    return None
                data = await resp.content.read(AVATAR_MAX_BYTES + 1)
                mime = resp.content_type or "image/png"
        except aiohttp.ClientError as exc:
            log.warning("matrix.avatar-download-failed error=%s", type(exc).__name__)
            return None
        if len(data) > AVATAR_MAX_BYTES:
            log.warning("matrix.avatar-too-large bytes>%s", AVATAR_MAX_BYTES)
            return None
        return str(await self.bot.upload_media(data, mime_type=mime, filename="avatar"))

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
        event_id = await self.intent(sender).send_message_event(
            room_id,
            EventType.ROOM_MESSAGE,
            text.to_content(),  # type: ignore[arg-type]
            timestamp=timestamp_ms,
            txn_id=txn_id,
        )
        return EventID(event_id)

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

    async def event_sender(self, room_id: RoomID, event_id: EventID) -> UserID | None:
        try:
            event = await self.bot.get_event(room_id, event_id)
        except MatrixRequestError as exc:
            log.warning("matrix.get-event-failed event=%s error=%s", event_id, exc.message)
            return None
        return UserID(event.sender)

    async def fetch_message(self, room_id: RoomID, event_id: EventID) -> MatrixMessage | None:
        """An earlier ``m.room.message`` of the room (for reply quotes), None if unusable."""
        try:
            event = await self.bot.get_event(room_id, event_id)
        except MatrixRequestError as exc:
            log.warning("matrix.get-event-failed event=%s error=%s", event_id, exc.message)
            return None
        return self.parse_message(event.serialize())

    async def may_mention_room(self, room_id: RoomID, user_id: UserID) -> bool:
        """Whether the user's power level reaches the room's ``notifications.room`` level."""
        try:
            levels = await self.bot.get_power_levels(room_id)
        except MatrixRequestError:
            return False
        return bool(levels.get_user_level(user_id) >= levels.notifications.room)

    # -- media ---------------------------------------------------------------

    async def _read_capped(
        self, url: str, max_bytes: int, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, str | None]:
        """(status, body, content type) of a GET; raises MediaTooLarge past ``max_bytes``."""
        assert self._session is not None
        async with self._session.get(url, headers=headers) as resp:
            if resp.status != 200:
                return resp.status, b"", None
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise MediaTooLarge(max_bytes)
            data = bytearray()
            async for chunk in resp.content.iter_chunked(DOWNLOAD_CHUNK):
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise MediaTooLarge(max_bytes)
            return resp.status, bytes(data), resp.headers.get("Content-Type")

    async def download_media(self, mxc: str, max_bytes: int) -> bytes | None:
        server, _, media_id = mxc.removeprefix("mxc://").partition("/")
        if not mxc.startswith("mxc://") or not server or not media_id or "/" in media_id:
            log.warning("matrix.media-bad-uri uri=%s", mxc)
            return None
        auth = {"Authorization": f"Bearer {self._as_token}"}
        paths = (
            f"/_matrix/client/v1/media/download/{server}/{media_id}",  # authenticated media
            f"/_matrix/media/v3/download/{server}/{media_id}",  # servers without MSC3916
        )
        try:
            for path in paths:
                status, data, _ = await self._read_capped(
                    self.homeserver_url + path, max_bytes, auth
                )
                if status == 200:
                    return data
                log.info("matrix.media-download-status uri=%s path=%s status=%s", mxc, path, status)
                if status not in (400, 404, 405):
                    break
        except aiohttp.ClientError as exc:
            log.warning("matrix.media-download-failed uri=%s error=%s", mxc, type(exc).__name__)
        return None

    @asynccontextmanager
    async def open_media(self, server: str, media_id: str) -> AsyncIterator[MediaStream | None]:
        """Stream a homeserver file (for the bridge's signed public links)."""
        assert self._session is not None
        auth = {"Authorization": f"Bearer {self._as_token}"}
        for path in (
            f"/_matrix/client/v1/media/download/{server}/{media_id}",
            f"/_matrix/media/v3/download/{server}/{media_id}",
        ):
            try:
                resp = await self._session.get(self.homeserver_url + path, headers=auth)
            except aiohttp.ClientError as exc:
                log.warning("matrix.media-open-failed error=%s", type(exc).__name__)
                break
            async with resp:
                if resp.status == 200:
                    yield MediaStream(
                        content_type=resp.content_type or "application/octet-stream",
                        length=resp.content_length,
                        chunks=resp.content.iter_chunked(DOWNLOAD_CHUNK),
                    )
                    return
                if resp.status not in (400, 404, 405):
                    break
        yield None

    async def upload_media(self, data: bytes, mimetype: str, filename: str) -> str:
        try:
            return str(await self.bot.upload_media(data, mime_type=mimetype, filename=filename))
        except MatrixRequestError as exc:
            if exc.http_status == 413:  # over the homeserver's max_upload_size
                raise MediaTooLarge(len(data)) from exc
            raise

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
        event_id = await self.intent(sender).send_message_event(
            room_id,
            event_type,
            media.to_content(),  # type: ignore[arg-type]
            timestamp=timestamp_ms,
            txn_id=txn_id,
        )
        return EventID(event_id)

    async def fetch_url(self, url: str, max_bytes: int) -> tuple[bytes, str | None] | None:
        if not url.startswith(("https://", "http://")):
            return None
        try:
            status, data, content_type = await self._read_capped(url, max_bytes)
        except aiohttp.ClientError as exc:
            log.warning("matrix.fetch-failed error=%s", type(exc).__name__)
            return None
        if status != 200:
            log.warning("matrix.fetch-failed status=%s", status)
            return None
        return data, content_type

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

    @staticmethod
    def parse_pins(raw: dict[str, Any]) -> MatrixPins | None:
        content, room_id, sender = raw.get("content"), raw.get("room_id"), raw.get("sender")
        if raw.get("state_key") != "" or not isinstance(content, dict):
            return None
        pinned = content.get("pinned")
        if not isinstance(room_id, str) or not isinstance(sender, str):
            return None
        events = pinned if isinstance(pinned, list) else []
        return MatrixPins(
            RoomID(room_id), UserID(sender), tuple(EventID(e) for e in events if isinstance(e, str))
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

    async def avatar_mxc(self, room_id: RoomID, user_id: UserID) -> str | None:
        avatar = (await self._profile(room_id, user_id))[1]
        return str(avatar) if avatar else None
