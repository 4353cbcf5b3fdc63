"""Per-person language: the command (parsed, stored per Matrix or Discord user), the
Discord locale seen by the members' page, and who reads what in which language."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bridge.actions.languages import for_discord_user, for_matrix_user
from bridge.actions.m2d_undelivered import notify_undelivered
from bridge.convert.language import LanguageCommand, parse_language
from bridge.i18n import translator
from bridge.ids import DiscordUserID, RoomID, UserID
from bridge.model import DiscordDM
from moderation import linking
from tests.moderation.fakes import ROOM_A, moderation_context

ALICE = UserID("@alice:example.org")
BOB = UserID("@bob:example.org")
DM_ROOM = RoomID("!dm-alice:example.org")
DISCORD_USER = DiscordUserID(5000000000000000009)


def test_parse_language() -> None:
    assert parse_language("!bridge language fr") == LanguageCommand("fr")
    assert parse_language("!bridge langue EN") == LanguageCommand("en")
    assert parse_language("!bridge langue français") == LanguageCommand("fr")
    assert parse_language("!langue anglais") == LanguageCommand("en")
    assert parse_language("!language default") == LanguageCommand("")
    assert parse_language("!bridge langue défaut") == LanguageCommand("")
    assert parse_language("!bridge language") == LanguageCommand(None)
    assert parse_language("!bridge language de") == LanguageCommand(None, unknown="de")
    assert parse_language("!bridge status") is None
    assert parse_language("language fr") is None and parse_language("") is None


async def test_a_matrix_user_chooses_french_in_the_direct_chat(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        assert await linking.on_invite(h.mctx, DM_ROOM, ALICE, True)
        answer = await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, "!bridge language")
        assert answer.startswith("The bridge writes to you in English, its default language.")
        answer = await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, "!bridge langue fr")
        assert answer == "Désormais, la passerelle vous écrit en français."
        assert await h.stores.user_languages.get("matrix", ALICE) == "fr"
        # Her later answers are French; Bob's stay in the bridge's language.
        answer = await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, "!link")
        assert answer.startswith("Votre code est ")
        assert (await for_matrix_user(h.mctx.bridge, BOB)).language == "en"
        answer = await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, "!bridge langue klingon")
        assert answer.startswith("Langue inconnue : « klingon ».")
        answer = await linking.on_matrix_dm(h.mctx, DM_ROOM, ALICE, "!bridge language default")
        assert answer == "The bridge writes to you in its default language again (English)."
        assert await h.stores.user_languages.get("matrix", ALICE) is None


async def test_a_discord_locale_is_used_until_the_person_chooses(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        languages = h.stores.user_languages
        await languages.observed("discord", str(DISCORD_USER), "fr")
        assert (await for_discord_user(h.mctx.bridge, DISCORD_USER)).language == "fr"
        answer = await linking.on_discord_dm(h.mctx, DiscordDM(DISCORD_USER, "!link"))
        assert answer.startswith("Votre code est ") and "en discussion privée" in answer
        answer = await linking.on_discord_dm(h.mctx, DiscordDM(DISCORD_USER, "!language en"))
        assert answer == "From now on, the bridge writes to you in English."
        # A later login with a French Discord client does not undo their own choice.
        await languages.observed("discord", str(DISCORD_USER), "fr")
        assert await languages.get("discord", str(DISCORD_USER)) == "en"


async def test_the_delivery_failure_notice_is_in_the_senders_language(tmp_path: Path) -> None:
    async with moderation_context(tmp_path) as h:
        bridge = h.mctx.bridge
        bridge.config = dataclasses.replace(
            bridge.config,
            bridge=dataclasses.replace(bridge.config.bridge, delivery_error_notices=True),
        )
        await h.stores.user_languages.choose("matrix", ALICE, "fr")
        failure = RuntimeError("a bug")  # the bridge's own failure
        raw = {
            "type": "m.room.message",
            "room_id": ROOM_A,
            "sender": ALICE,
            "event_id": "$1",
            "content": {"msgtype": "m.text", "body": "salut"},
        }
        await notify_undelivered(bridge, raw, failure)
        await notify_undelivered(bridge, {**raw, "sender": BOB, "event_id": "$2"}, failure)
        sent = [text.body for _room, _sender, text, _ts in h.relay_matrix.sent]
        fr = translator("fr")._("An error in the bridge stopped it.")
        assert (
            fr in sent[0]
            and "votre message" in sent[0]
            and fr != "An error in the bridge stopped it."
        )
        assert "your message" in sent[1] and "An error in the bridge stopped it." in sent[1]


async def test_the_language_command_in_the_moderators_room(tmp_path: Path) -> None:
    """Anyone's own language, answered in it (not only moderators); the room's other
    answers keep bridge.language; the help lists the command."""
    from bridge.admin import Admin, help_text

    async with moderation_context(tmp_path) as h:
        admin = Admin(h.mctx.bridge, None)  # type: ignore[arg-type]  # state: unused here
        room = RoomID("!mods:example.org")
        assert await admin.on_message(room, BOB, "!bridge langue fr")
        assert await admin.on_message(room, BOB, "!bridge etat")  # not a moderator
        said = [text.body for _room, _sender, text, _ts in h.relay_matrix.sent]
        assert said[0] == "Désormais, la passerelle vous écrit en français."
        assert said[1] == "Only the bridge's configured moderators can do this."
        help_en = help_text(translator("en"))
        assert "!bridge language fr|en|default (or: !bridge langue fr|en|defaut)" in help_en
        assert await h.stores.user_languages.get("matrix", BOB) == "fr"
