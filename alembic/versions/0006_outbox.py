"""Outbox, sends in flight, history imports, channels bridged at runtime.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # When a Discord message was last edited, as relayed: backfill after downtime relays
    # edits made meanwhile (history shows a newer edited_timestamp) and no others.
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("edited_ms", sa.BigInteger, nullable=True))
    # What a handled transaction held (a digest of its event IDs): a homeserver that
    # reuses an ID for new events (Synapse on SQLite after a restart) is not ignored.
    with op.batch_alter_table("as_txn") as batch:
        batch.add_column(sa.Column("digest", sa.Text, nullable=True))
    # Every event of a homeserver transaction, stored in the same database transaction
    # as the transaction ID before the homeserver gets its 200; deleted once handled.
    # ``id`` gives the order (per room); a row waits for ``next_attempt_at`` (ms) after a
    # transient failure, and is kept with ``dead`` set if it can never be delivered.
    op.create_table(
        "m2d_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("appservice_id", sa.Text, nullable=False),
        sa.Column("txn_id", sa.Text, nullable=False),
        sa.Column("room_id", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("dead", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("enqueued_at", sa.BigInteger, nullable=False),
    )
    op.create_index("m2d_outbox_event_idx", "m2d_outbox", ["event_id"], unique=True)
    op.create_index("m2d_outbox_room_idx", "m2d_outbox", ["room_id", "id"])
    # A webhook execute about to happen: written before the request, removed once the
    # Discord message ID is in the message map. A row left behind by a crash means
    # "maybe sent": the retry looks for the message in the channel before sending again.
    op.create_table(
        "m2d_inflight",
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("event_part", sa.Integer, nullable=False),
        sa.Column("discord_channel_id", sa.BigInteger, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("event_id", "event_part"),
    )

    # One-shot history import per channel (python -m bridge import-history, or the
    # admin command): the last Discord message handled, so an interrupted import resumes.
    op.create_table(
        "history_import",
        sa.Column("discord_channel_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("last_message_id", sa.BigInteger, nullable=False),
        sa.Column("until_message_id", sa.BigInteger, nullable=False),
        sa.Column("imported", sa.Integer, nullable=False, server_default="0"),
        sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )

    # Channels bridged or unbridged at runtime (admin commands), on top of the config
    # file's bridge.channels; kept across restarts and reloads.
    op.create_table(
        "channel_override",
        sa.Column("discord_channel_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("bridged", sa.Boolean, nullable=False),
        sa.Column("access", sa.Text, nullable=True),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("channel_override")
    op.drop_table("history_import")
    with op.batch_alter_table("as_txn") as batch:
        batch.drop_column("digest")
    with op.batch_alter_table("message") as batch:
        batch.drop_column("edited_ms")
    op.drop_table("m2d_inflight")
    op.drop_index("m2d_outbox_room_idx", table_name="m2d_outbox")
    op.drop_index("m2d_outbox_event_idx", table_name="m2d_outbox")
    op.drop_table("m2d_outbox")
