"""Moderation: shared bans, followed policy rules, the audit log, the bridge's own rooms.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# An auto-incrementing 64-bit key on PostgreSQL; SQLite only auto-increments an
# INTEGER PRIMARY KEY (which is 64-bit there anyway).
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # One row per active shared ban. side 'discord': target is a Discord user ID (decimal
    # text); side 'matrix': target is a Matrix user ID. A Discord ban and the Matrix ban of
    # the same person's ghost or linked account are separate rows. origin says where the
    # ban came from; for origin 'policy', rule_room/rule_entity name the policy rule, so
    # that removing the rule lifts exactly the bans it caused.
    op.create_table(
        "mod_ban",
        sa.Column("side", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        # "@mod:server", "discord:<user id>" or "policy:<room id>".
        sa.Column("moderator", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("rule_room", sa.Text, nullable=True),
        sa.Column("rule_entity", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("side", "target"),
        sa.CheckConstraint("side IN ('discord', 'matrix')", name="mod_ban_side_check"),
        sa.CheckConstraint(
            "origin IN ('discord', 'matrix', 'policy', 'command', 'startup')",
            name="mod_ban_origin_check",
        ),
    )
    op.create_index("mod_ban_rule_idx", "mod_ban", ["rule_room", "rule_entity"])
    # The rules of every policy list the bridge follows (its own and its subscriptions),
    # as last seen in the list room's state: one row per (room, state event type, key).
    # A rule removed from the room (state event with empty content) is deleted here.
    op.create_table(
        "policy_rule",
        sa.Column("room_id", sa.Text, nullable=False),
        # m.policy.rule.user / .server / .room, or the legacy org.matrix.mjolnir.rule.*.
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("state_key", sa.Text, nullable=False),
        # A user ID or server name, possibly a glob with * and ?.
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("recommendation", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("event_id", sa.Text, nullable=True),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("room_id", "event_type", "state_key"),
    )
    # Every moderation action: where it came from, who did it, why, and what it did on
    # each side (outcome, in plain words). Append-only.
    op.create_table(
        "mod_audit",
        sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("outcome", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("mod_audit_time_idx", "mod_audit", ["created_at", "id"])
    # Rooms the bridge created for itself (its policy list, the moderators' room), by
    # purpose ("policy", "moderation" ...), so that a restart finds them instead of
    # creating new ones.
    op.create_table(
        "bridge_room",
        sa.Column("purpose", sa.Text, primary_key=True),
        sa.Column("room_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bridge_room")
    op.drop_index("mod_audit_time_idx", table_name="mod_audit")
    op.drop_table("mod_audit")
    op.drop_table("policy_rule")
    op.drop_index("mod_ban_rule_idx", table_name="mod_ban")
    op.drop_table("mod_ban")
