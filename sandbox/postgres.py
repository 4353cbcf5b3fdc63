"""Throwaway PostgreSQL databases for tests and benchmarks.

An existing server is used through an admin DSN (a superuser, or a role allowed
to create databases): by default the local server with trust authentication,
overridable with the ``PASSERELLE_TEST_PG`` environment variable. Each call to
``create_database`` makes a fresh, uniquely named database on that server and
returns a DSN for it; ``drop_database`` removes it even while clients are still
connected.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

log = logging.getLogger(__name__)

DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
ADMIN_DSN_ENV = "PASSERELLE_TEST_PG"
_PREFIX_RE = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


def admin_dsn_or_default(admin_dsn: str | None = None) -> str:
    """The admin DSN to use: the argument, else $PASSERELLE_TEST_PG, else the local default."""
    return admin_dsn or os.environ.get(ADMIN_DSN_ENV) or DEFAULT_ADMIN_DSN


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (database name) the way PostgreSQL does."""
    if "\x00" in name:
        raise ValueError("identifier contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


def dsn_with_database(dsn: str, database: str) -> str:
    """The same server and credentials as ``dsn``, pointing at another database."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"not a PostgreSQL URL: scheme {parts.scheme!r}")
    return urlunsplit(parts._replace(path="/" + database))


def database_name(dsn: str) -> str:
    """The database a PostgreSQL URL points at."""
    name = urlsplit(dsn).path.lstrip("/")
    if not name:
        raise ValueError("the URL names no database")
    return name


async def postgres_available(admin_dsn: str | None = None, timeout: float = 3) -> str | None:
    """None if the admin DSN accepts connections and queries, else a plain reason."""
    dsn = admin_dsn_or_default(admin_dsn)
    target = urlsplit(dsn).hostname or "local socket"
    try:
        conn = await asyncpg.connect(dsn, timeout=timeout)
    except Exception as exc:  # refused, unknown host, auth, bad DSN: all mean "not usable"
        return f"cannot connect to PostgreSQL at {target}: {type(exc).__name__}: {exc}"
    try:
        await conn.fetchval("SELECT 1", timeout=timeout)
    except Exception as exc:
        return f"PostgreSQL at {target} does not answer queries: {type(exc).__name__}: {exc}"
    finally:
        await conn.close(timeout=timeout)
    return None


async def create_database(admin_dsn: str | None = None, prefix: str = "passerelle_test") -> str:
    """Create an empty, uniquely named database; return a DSN for it."""
    if not _PREFIX_RE.match(prefix):
        raise ValueError(f"database prefix must be lower-case letters, digits, _: {prefix!r}")
    dsn = admin_dsn_or_default(admin_dsn)
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"CREATE DATABASE {quote_ident(name)}")
    finally:
        await conn.close()
    log.info("postgres_database_created name=%s", name)
    return dsn_with_database(dsn, name)


async def drop_database(dsn: str, admin_dsn: str | None = None) -> None:
    """Drop the database ``dsn`` points at, disconnecting its clients first."""
    name = database_name(dsn)
    admin = admin_dsn_or_default(admin_dsn)
    if database_name(admin) == name:
        raise ValueError(f"refusing to drop the admin database {name!r}")
    conn = await asyncpg.connect(admin)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            # Refuse new connections, then end the current ones, so the DROP cannot race.
            await conn.execute(f"ALTER DATABASE {quote_ident(name)} WITH ALLOW_CONNECTIONS false")
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
        # FORCE (PostgreSQL 13+) also waits out backends still exiting after termination.
        force = " WITH (FORCE)" if conn.get_server_version().major >= 13 else ""
        await conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}{force}")
    finally:
        await conn.close()
    log.info("postgres_database_dropped name=%s", name)


@asynccontextmanager
async def temporary_database(
    admin_dsn: str | None = None, prefix: str = "passerelle_test"
) -> AsyncIterator[str]:
    """A fresh database for the duration of the block, dropped afterwards."""
    dsn = await create_database(admin_dsn, prefix)
    try:
        yield dsn
    finally:
        await drop_database(dsn, admin_dsn)
