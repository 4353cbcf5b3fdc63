"""sandbox.postgres against the real PostgreSQL server (skipped if unreachable, unless CI)."""

from __future__ import annotations

import os

import asyncpg
import pytest

from sandbox.postgres import (
    admin_dsn_or_default,
    create_database,
    database_name,
    drop_database,
    dsn_with_database,
    postgres_available,
    quote_ident,
    temporary_database,
)

IN_CI = os.environ.get("CI", "").lower() == "true"


async def require_postgres() -> None:
    reason = await postgres_available()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}")
    pytest.skip(reason)


async def database_exists(name: str) -> bool:
    conn = await asyncpg.connect(admin_dsn_or_default())
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


def test_quote_ident() -> None:
    assert quote_ident("plain") == '"plain"'
    assert quote_ident('we"ird') == '"we""ird"'


def test_dsn_helpers() -> None:
    dsn = dsn_with_database("postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable", "x")
    assert dsn == "postgresql://postgres@127.0.0.1:5432/x?sslmode=disable"
    assert database_name(dsn) == "x"
    with pytest.raises(ValueError):
        dsn_with_database("sqlite:///tmp/x.db", "x")


async def test_unreachable_gives_reason() -> None:
    reason = await postgres_available("postgresql://postgres@127.0.0.1:9/postgres", timeout=1)
    assert reason is not None and "127.0.0.1" in reason


async def test_bad_prefix_refused() -> None:
    with pytest.raises(ValueError):
        await create_database(prefix='x"; DROP DATABASE postgres; --')


async def test_create_use_drop() -> None:
    await require_postgres()
    dsn = await create_database()
    name = database_name(dsn)
    assert name.startswith("passerelle_test_")
    assert (
        dsn == f"postgresql://postgres@127.0.0.1:5432/{name}" or "PASSERELLE_TEST_PG" in os.environ
    )
    try:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("CREATE TABLE t (id bigint PRIMARY KEY, body text NOT NULL)")
            await conn.execute("INSERT INTO t VALUES ($1, $2)", 1, "hello")
            assert await conn.fetchval("SELECT body FROM t WHERE id = 1") == "hello"
        finally:
            await conn.close()
    finally:
        await drop_database(dsn)
    assert not await database_exists(name)
    await drop_database(dsn)  # dropping twice is harmless


async def test_drop_with_open_connections() -> None:
    await require_postgres()
    dsn = await create_database()
    name = database_name(dsn)
    conn = await asyncpg.connect(dsn)
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=2)
    try:
        await conn.execute("CREATE TABLE t (id int)")
        await drop_database(dsn)
        assert not await database_exists(name)
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await conn.fetchval("SELECT 1")
    finally:
        await conn.close()
        pool.terminate()


async def test_temporary_database() -> None:
    await require_postgres()
    async with temporary_database(prefix="passerelle_tmp") as dsn:
        name = database_name(dsn)
        assert name.startswith("passerelle_tmp_")
        conn = await asyncpg.connect(dsn)
        assert await conn.fetchval("SELECT current_database()") == name
        await conn.close()
    assert not await database_exists(name)
