"""Category and whole-guild bridging rules (pure): which channels they bridge, in which
order, with which access; commands that add or switch off rules; reload comparison."""

from __future__ import annotations

import copy
from typing import Any

from bridge.config import CategoryRule, ChannelConfig, GuildConfig, parse_config
from bridge.db.channels import ChannelOverride, RuleOverride
from bridge.ids import ChannelID, GuildID
from bridge.model import CATEGORY, FORUM, TEXT, VOICE, DiscordChannel
from bridge.runtime_config import compare, effective_channels, rule_channels, with_rules
from tests.test_config import VALID

G = GuildID(3000000000000000002)
CAT_A, CAT_B = ChannelID(41), ChannelID(42)


def chan(
    cid: int, type_: int = TEXT, parent: int | None = None, position: int = 0
) -> DiscordChannel:
    return DiscordChannel(
        ChannelID(cid),
        G,
        f"c{cid}",
        type=type_,
        parent_id=ChannelID(parent) if parent else None,
        position=position,
    )


LISTING = [
    chan(CAT_B, CATEGORY, position=1),
    chan(CAT_A, CATEGORY, position=0),
    chan(1, TEXT, CAT_B, 0),
    chan(2, TEXT, CAT_A, 1),
    chan(3, TEXT, CAT_A, 0),
    chan(4, VOICE, CAT_A, 2),  # voice: bridged too (its chat, who is in voice)
    chan(5, FORUM, CAT_A, 3),  # forums are
    chan(6, TEXT, None, 0),  # no category
    chan(7, TEXT, CAT_A, 4),  # the moderators' channel
]


def ids(channels: tuple[ChannelConfig, ...]) -> list[int]:
    return [int(c.discord_channel) for c in channels]


def test_a_category_rule_bridges_its_text_voice_and_forum_channels_in_discords_order() -> None:
    guild = GuildConfig(G, categories=(CategoryRule(CAT_A, "public"),), mod_channel=ChannelID(7))
    found = rule_channels((guild,), {G: LISTING})
    assert ids(found) == [3, 2, 4, 5]
    assert {c.access for c in found} == {"public"} and {c.source for c in found} == {"category"}
    assert {c.guild_id for c in found} == {G}


def test_a_whole_guild_rule_takes_every_bridgeable_channel_uncategorised_first() -> None:
    guild = GuildConfig(G, categories=(CategoryRule(CAT_B, "public"),), all_channels="members_only")
    found = rule_channels((guild,), {G: LISTING})
    assert ids(found) == [6, 3, 2, 4, 5, 7, 1]
    by_id = {int(c.discord_channel): c for c in found}
    assert by_id[1].access == "public" and by_id[1].source == "category"  # the category rule wins
    assert by_id[6].access == "members_only" and by_id[6].source == "guild"


def test_no_rule_no_listing_no_channels() -> None:
    assert rule_channels((GuildConfig(G),), {G: LISTING}) == ()
    guild = GuildConfig(G, all_channels="public")
    assert rule_channels((guild,), {G: None}) == ()  # the bot is not in the guild (yet)


def test_listed_channels_win_and_commands_can_switch_rule_channels_off() -> None:
    listed = (ChannelConfig(ChannelID(3), None, "members_only", G),)
    from_rules = rule_channels((GuildConfig(G, all_channels="public"),), {G: LISTING})
    overrides = [ChannelOverride(ChannelID(2), False, None)]
    channels = effective_channels(listed, overrides, from_rules)
    assert ids(channels)[0] == 3 and channels[0].access == "members_only"
    assert 2 not in ids(channels) and 6 in ids(channels)


def test_rules_set_by_command_add_change_and_switch_off() -> None:
    guild = GuildConfig(G, categories=(CategoryRule(CAT_A, "members_only"),))
    other = GuildConfig(GuildID(1))
    overrides = [
        RuleOverride("category", CAT_B, G, True, "public"),
        RuleOverride("category", CAT_A, G, False, "members_only"),
        RuleOverride("guild", G, G, True, "public"),
    ]
    ruled, untouched = with_rules((guild, other), overrides)
    assert ruled.categories == (CategoryRule(CAT_B, "public"),)
    assert ruled.all_channels == "public"
    assert untouched == other
    (switched_off,) = with_rules((ruled,), [RuleOverride("guild", G, G, False, "public")])
    assert switched_off.all_channels is None


def _two_guilds(**nord: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    data["discord"] = {
        "token": "MTA.real-looking.token",
        "guilds": [{"id": "1", "channels": [{"discord_channel": "10"}]}, {"id": "2", **nord}],
    }
    data["bridge"] = {}
    return data


def test_reload_applies_guild_settings_live_but_new_guilds_need_a_restart() -> None:
    old = parse_config(_two_guilds())
    change = compare(old, parse_config(_two_guilds(mod_channel="99", member_roles=["5"])))
    assert change.other_changes and change.needs_restart == ()
    data = _two_guilds()
    data["discord"]["guilds"].append({"id": "3"})
    change = compare(old, parse_config(data))
    assert change.needs_restart == ("discord.guilds (which guilds are bridged)",)
    assert compare(old, parse_config(_two_guilds())).summary() == "nothing changed"
