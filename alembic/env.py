"""Alembic environment: async engine (asyncpg or aiosqlite), our tables only."""

from __future__ import annotations

import asyncio
import os

from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from alembic import context
from bridge.db.migrate import sqlalchemy_url

config = context.config
url = config.attributes.get("database_url") or os.environ.get("PASSERELLE_DATABASE_URL")
if not url:
    raise SystemExit("no database URL: use `python -m bridge migrate -c config.yaml`")
config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # mautrix's own stores keep mx_* tables; they are not ours to migrate.
    return not (type_ == "table" and name is not None and name.startswith("mx_"))


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=None,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = async_engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_async_migrations())
