"""The content of the Matrix events the bridge sends for Discord messages: a text
message (with its mentions and relations) and a media event.

Split from :mod:`bridge.model`, which re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.ids import EventID, UserID


@dataclass(frozen=True)
class MatrixText:
    """Content for an ``m.room.message`` built from Discord."""

    body: str
    formatted_body: str | None = None
    msgtype: str = "m.text"
    mentioned_user_ids: tuple[UserID, ...] = ()
    mentions_room: bool = False
    reply_to: EventID | None = None
    # In a Matrix thread: its root, and the latest event in it (the reply fallback
    # for clients without threads; the root when None).
    thread_root: EventID | None = None
    thread_latest: EventID | None = None

    def to_content(self, *, with_relation: bool = True) -> dict[str, object]:
        content: dict[str, object] = {"msgtype": self.msgtype, "body": self.body}
        if self.formatted_body is not None:
            content["format"] = "org.matrix.custom.html"
            content["formatted_body"] = self.formatted_body
        mentions: dict[str, object] = {}
        if self.mentioned_user_ids:
            mentions["user_ids"] = list(self.mentioned_user_ids)
        if self.mentions_room:
            mentions["room"] = True
        content["m.mentions"] = mentions
        relates = relates_to(self.reply_to, self.thread_root, self.thread_latest)
        if with_relation and relates is not None:
            content["m.relates_to"] = relates
        return content


def relates_to(
    reply_to: EventID | None, thread_root: EventID | None, thread_latest: EventID | None
) -> dict[str, object] | None:
    """``m.relates_to`` for a reply and/or an event in a thread; None for neither."""
    if thread_root is not None:
        return thread_relation(thread_root, reply_to, thread_latest)
    if reply_to is not None:
        return {"m.in_reply_to": {"event_id": reply_to}}
    return None


def thread_relation(
    root: EventID, reply_to: EventID | None, latest: EventID | None
) -> dict[str, object]:
    """``m.relates_to`` of an event in a Matrix thread (spec: "Threading").

    A real reply inside the thread has ``is_falling_back: false`` and points at the
    replied event; otherwise ``m.in_reply_to`` is only the fallback for clients
    without threads, pointing at the latest event of the thread (or its root).
    """
    if reply_to is not None:
        return {
            "rel_type": "m.thread",
            "event_id": root,
            "is_falling_back": False,
            "m.in_reply_to": {"event_id": reply_to},
        }
    return {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": latest or root},
    }


@dataclass(frozen=True)
class MatrixMedia:
    """Content for a media event built from Discord; ``url`` is the uploaded mxc."""

    msgtype: str  # m.image, m.video, m.audio, m.file; "m.sticker" sends an m.sticker event
    body: str
    url: str
    filename: str
    mimetype: str
    size: int
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    spoiler: bool = False
    spoiler_reason: str | None = None
    reply_to: EventID | None = None
    thread_root: EventID | None = None
    thread_latest: EventID | None = None
    # A voice message (MSC3245), with its MSC1767 waveform (0-1024 per sample).
    voice: bool = False
    waveform: tuple[int, ...] = ()

    @property
    def event_type(self) -> str:
        return "m.sticker" if self.msgtype == "m.sticker" else "m.room.message"

    def to_content(self) -> dict[str, object]:
        info: dict[str, object] = {"mimetype": self.mimetype, "size": self.size}
        if self.width is not None and self.height is not None:
            info["w"], info["h"] = self.width, self.height
        if self.duration_ms is not None:
            info["duration"] = self.duration_ms
        content: dict[str, object] = {"body": self.body, "url": self.url, "info": info}
        if self.msgtype != "m.sticker":
            content["msgtype"] = self.msgtype
            content["filename"] = self.filename
        if self.spoiler:
            # MSC3725 content warnings (Element shows a blurred preview); the key is unstable.
            warning: dict[str, object] = {"type": "town.robin.msc3725.spoiler"}
            if self.spoiler_reason:
                warning["description"] = self.spoiler_reason
            content["town.robin.msc3725.content_warning"] = warning
            content["page.codeberg.everypizza.msc4193.spoiler"] = True  # MSC4193, newer
        if self.voice:  # what Element looks for to show a voice message
            audio: dict[str, object] = {"waveform": list(self.waveform)}
            if self.duration_ms is not None:
                audio["duration"] = self.duration_ms
            content["org.matrix.msc1767.audio"] = audio
            content["org.matrix.msc3245.voice"] = {}
        content["m.mentions"] = {}
        relates = relates_to(self.reply_to, self.thread_root, self.thread_latest)
        if relates is not None:
            content["m.relates_to"] = relates
        return content
