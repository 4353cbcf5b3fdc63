"""Bans per guild (moderation.ban_scope): mod_ban keyed by (side, target, guild_id); the
moderation log says which guild an entry concerns.

Existing bans get guild_id 0 ("recorded before bans were per guild"): the migration
cannot see the config, so the bridge gives them their guilds at its next start
(``BanStore.adopt_legacy``): a Discord user's ban to the first configured guild (the
only guild the bridge banned in before), a Matrix user's ban to every guild (they
were banned from every portal room). Nothing is lost or widened before that start.

The table is rebuilt (create, copy, drop, rename) rather than altered: changing a
primary key in place is not portable between SQLite and PostgreSQL.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_COMMON = "side, target, reason, moderator, origin, rule_room, rule_entity, created_at"


def _mod_ban(name: str, *, per_guild: bool) -> None:
    origins = "'discord', 'matrix', 'policy', 'command', 'startup'"
    columns = [
        sa.Column("side", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("moderator", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("rule_room", sa.Text, nullable=True),
        sa.Column("rule_entity", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    ]
    if per_guild:
        # The guild where the ban holds; 0: recorded before 0013, not yet adopted.
        columns.append(sa.Column("guild_id", sa.BigInteger, nullable=False))
        key = sa.PrimaryKeyConstraint("side", "target", "guild_id", name="mod_ban_guild_pkey")
        # 'party': carried to this guild from a ban made in another (ban_scope party).
        origins += ", 'party'"
    else:
        key = sa.PrimaryKeyConstraint("side", "target", name="mod_ban_pkey")
    op.create_table(
        name,
        *columns,
        key,
        sa.CheckConstraint("side IN ('discord', 'matrix')", name=f"{name}_side_check"),
        sa.CheckConstraint(f"origin IN ({origins})", name=f"{name}_origin_check"),
    )


def upgrade() -> None:
    _mod_ban("mod_ban_new", per_guild=True)
    op.execute(f"INSERT INTO mod_ban_new ({_COMMON}, guild_id) SELECT {_COMMON}, 0 FROM mod_ban")
    op.drop_index("mod_ban_rule_idx", table_name="mod_ban")
    op.drop_table("mod_ban")
    op.rename_table("mod_ban_new", "mod_ban")
    op.create_index("mod_ban_rule_idx", "mod_ban", ["rule_room", "rule_entity"])
    op.add_column("mod_audit", sa.Column("guild_id", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mod_audit") as batch:
        batch.drop_column("guild_id")
    _mod_ban("mod_ban_old", per_guild=False)
    # One row per (side, target): a ban made in a guild is preferred to its copies in the
    # others ('party', which the old schema does not know), then the oldest.
    columns = (
        "b.side, b.target, b.reason, b.moderator,"
        " CASE WHEN b.origin = 'party' THEN 'discord' ELSE b.origin END,"
        " b.rule_room, b.rule_entity, b.created_at"
    )
    op.execute(
        f"INSERT INTO mod_ban_old ({_COMMON}) SELECT {columns} FROM mod_ban b"
        " WHERE b.guild_id = (SELECT b2.guild_id FROM mod_ban b2"
        " WHERE b2.side = b.side AND b2.target = b.target"
        " ORDER BY CASE WHEN b2.origin = 'party' THEN 1 ELSE 0 END, b2.created_at, b2.guild_id"
        " LIMIT 1)"
    )
    op.drop_index("mod_ban_rule_idx", table_name="mod_ban")
    op.drop_table("mod_ban")
    op.rename_table("mod_ban_old", "mod_ban")
    op.create_index("mod_ban_rule_idx", "mod_ban", ["rule_room", "rule_entity"])
