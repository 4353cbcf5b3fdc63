"""bridge.convert.d2m.voice_state: the room state of who is in voice, and the topic,
from a captured VOICE_STATE_UPDATE read through discord.py."""

from __future__ import annotations

from types import SimpleNamespace

import discord

from bridge.convert.d2m.voice_state import VoiceState, member_content, summary, voice_topic
from bridge.i18n import translator
from bridge.ids import ChannelID, DiscordUserID, GuildID
from bridge.transport.discord_events import voice_from
from tests.transport.test_discord_bad_input import FIXTURES, Gateway, load

EN, FR = translator("en"), translator("fr")
BOB = DiscordUserID(2000000000000000002)


def captured_join() -> VoiceState:
    gateway = Gateway()
    gateway.state.user = SimpleNamespace(id=1000000000000000001)  # type: ignore[assignment]
    gateway.feed("VOICE_STATE_UPDATE", load(FIXTURES / "voice_state_update_join.json"))
    event, args = gateway.dispatched[0]
    assert event == "voice_state_update"
    member, _before, after = args
    assert isinstance(member, discord.Member)
    return voice_from(member, after)


def test_captured_join_reads_channel_and_flags() -> None:
    state = captured_join()
    assert state == VoiceState(
        guild_id=GuildID(3000000000000000001),
        user_id=BOB,
        channel_id=ChannelID(4000000000000000006),
        self_mute=True,
        streaming=True,
    )
    content = member_content(state, BOB, 1765000000000)
    assert content == {
        "in_voice": True,
        "discord_user_id": "2000000000000000002",
        "self_mute": True,
        "self_deaf": False,
        "streaming": True,
        "video": False,
        "since": 1765000000000,
    }


def test_leaving_says_so_without_details() -> None:
    left = VoiceState(GuildID(1), BOB, None, self_mute=True)
    assert member_content(left, BOB, 5) == {"in_voice": False, "discord_user_id": str(BOB)}
    assert member_content(None, BOB, 5)["in_voice"] is False


def test_moderator_mute_counts_as_muted() -> None:
    state = VoiceState(GuildID(1), BOB, ChannelID(2), mute=True, deaf=True)
    content = member_content(state, BOB, 1)
    assert content["self_mute"] is True and content["self_deaf"] is True


def test_summary_both_languages() -> None:
    assert summary(EN, []) == "Nobody is in voice right now."
    assert summary(EN, ["bob", "Alice"]) == "In voice now: Alice and bob."
    assert summary(FR, ["Bob", "Alice", "Carol"]) == "En vocal en ce moment : Alice, Bob et Carol."


def test_topic_keeps_channel_topic_and_says_matrix_cannot_join() -> None:
    topic = voice_topic(EN, "Weekly drop-in call", ["Bob"])
    lines = topic.splitlines()
    assert lines[0] == "Weekly drop-in call"
    assert lines[1] == "In voice now: Bob."
    assert "not join the call" in lines[2]
    french = voice_topic(FR, "", [])
    assert french.splitlines()[0] == "Personne n'est en vocal en ce moment."
    assert "pas rejoindre l'appel" in french
