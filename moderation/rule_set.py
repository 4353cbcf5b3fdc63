"""The rule set in memory and in the ``policy_rule`` table, kept in step."""

from __future__ import annotations

from typing import Any

from bridge.db import PolicyRuleRow
from bridge.ids import EventID, RoomID
from moderation.context import ModerationContext
from moderation.policy import NotPolicyEvent, PolicyRule, PolicyRuleChange, parse_policy_event


def rule_row(rule: PolicyRule) -> PolicyRuleRow:
    return PolicyRuleRow(
        room_id=rule.source_room,
        event_type=f"m.policy.rule.{rule.kind}",
        state_key=rule.state_key,
        entity=rule.label,
        recommendation=rule.recommendation,
        reason=rule.reason,
        event_id=rule.event_id,
    )


async def mirror(
    mctx: ModerationContext, change: PolicyRuleChange
) -> tuple[PolicyRule | None, PolicyRule | None]:
    """Apply a change to the rule set and the database; (rule before, rule after)."""
    key = change.key if not isinstance(change, NotPolicyEvent) else None
    if key is None:
        return None, None
    before = mctx.state.policy.get(key)
    mctx.state.policy = mctx.state.policy.apply(change)
    after = mctx.state.policy.get(key)
    if after is not None:
        await mctx.stores.policy_rules.upsert(rule_row(after))
    else:
        await mctx.stores.policy_rules.delete(
            key.source_room, f"m.policy.rule.{key.kind}", key.state_key
        )
    return before, after


async def mirror_own_write(
    mctx: ModerationContext,
    room_id: RoomID,
    event_type: str,
    state_key: str,
    content: dict[str, Any],
    event_id: EventID,
) -> tuple[PolicyRule | None, PolicyRule | None]:
    """What the bridge just wrote to a list, in the rule set at once (not at the echo)."""
    event = {
        "type": event_type,
        "room_id": room_id,
        "state_key": state_key,
        "content": content,
        "event_id": event_id,
    }
    return await mirror(mctx, parse_policy_event(event))
