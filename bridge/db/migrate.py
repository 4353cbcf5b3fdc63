"""Schema migrations: alembic owns every table of ours."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from alembic import command

log = logging.getLogger(__name__)


def _alembic_dir() -> Path:
    """The migrations: beside the source tree (a checkout, an editable install), else
    where a regular install put them (``<prefix>/share/passerelle/alembic``)."""
    source = Path(__file__).resolve().parents[2] / "alembic"
    installed = Path(sys.prefix) / "share" / "passerelle" / "alembic"
    return source if (source / "env.py").exists() else installed


ALEMBIC_DIR = _alembic_dir()


def sqlalchemy_url(url: str) -> str:
    """Turn the bridge's database URL into an async SQLAlchemy URL."""
    if url.startswith(("postgres://", "postgresql://")):
        return re.sub(r"^postgres(ql)?://", "postgresql+asyncpg://", url)
    if url.startswith(("sqlite:", "sqlite3:")):
        path = re.sub(r"^sqlite3?:(//)?", "", url)
        return f"sqlite+aiosqlite:///{path}"
    raise ValueError("unsupported database URL scheme (expected postgresql:// or sqlite://)")


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.attributes["database_url"] = url
    return cfg


def upgrade_head(url: str) -> None:
    """Run every pending migration (blocking; call from a thread inside a loop)."""
    command.upgrade(alembic_config(url), "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def current_revision(url: str) -> str | None:
    engine = create_async_engine(sqlalchemy_url(url))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision()
            )
    finally:
        await engine.dispose()


class SchemaOutdated(RuntimeError):
    pass


async def prepare_schema(url: str, auto_migrate: bool) -> None:
    """Bring the schema to head (``auto_migrate``), or refuse an outdated one."""
    if auto_migrate:
        await asyncio.to_thread(upgrade_head, url)
        return
    current, head = await current_revision(url), head_revision()
    if current != head:
        raise SchemaOutdated(
            f"database schema is at {current or 'nothing'}, this version needs {head}: "
            "run `python -m bridge migrate -c CONFIG`"
        )
