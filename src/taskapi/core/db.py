"""Async engine and sessions for SQLite (embedded default) and PostgreSQL.

One ``Database`` per application: it owns the engine and the session factory. The
request-scoped transaction lives in ``core.deps.get_session``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from taskapi.core.config import Settings
from taskapi.core.rawsql import PostgresRunner, SqlAlchemyRunner, StatementRunner

SQLITE_BUSY_TIMEOUT_MS = 10_000
_POOLER_HOST = re.compile(r"-pooler\.")
PGBOUNCER_DEFAULT_PORT = 6432


def uses_pooler(url: str, configured: bool | None) -> bool:
    """Whether connections go through a transaction-mode pooler (PgBouncer, Neon pooled)."""
    if configured is not None:
        return configured
    parsed = make_url(url)
    return bool(_POOLER_HOST.search(parsed.host or "")) or parsed.port == PGBOUNCER_DEFAULT_PORT


def _sqlite_engine(url: str, *, foreign_keys: bool = True) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _: ConnectionPoolEntry) -> None:
        # Take over transaction control from the sqlite3 module so BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        # SQLite has one writer. A deferred transaction that reads and then writes can
        # fail with SQLITE_BUSY without waiting; taking the write lock up front makes
        # concurrent requests queue on busy_timeout instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


# libpq URL parameters that asyncpg does not take as keywords (Neon's connection strings
# carry them): sslmode becomes asyncpg's `ssl`; channel_binding has no asyncpg setting.
_LIBPQ_ONLY = ("sslmode", "channel_binding")


def _asyncpg_url(url: str, connect_args: dict[str, Any]) -> str:
    parsed = make_url(url)
    query = dict(parsed.query)
    sslmode = query.pop("sslmode", None)
    if sslmode is not None:
        connect_args["ssl"] = sslmode if isinstance(sslmode, str) else sslmode[-1]
    for name in _LIBPQ_ONLY:
        query.pop(name, None)
    return parsed.set(query=query).render_as_string(hide_password=False)


def _postgres_engine(settings: Settings, url: str) -> AsyncEngine:
    connect_args: dict[str, Any] = {}
    is_asyncpg = url.startswith("postgresql+asyncpg")
    if is_asyncpg:
        url = _asyncpg_url(url, connect_args)
    # Prepared statements are cached per connection; after five runs PostgreSQL may
    # switch one to a generic plan made without the values, which for search and tag
    # filters is 100-1000x slower (docs/query-plans.md). Planning costs < 1 ms.
    server_settings = {"application_name": "taskapi", "plan_cache_mode": "force_custom_plan"}
    if settings.database_statement_timeout_ms:
        server_settings["statement_timeout"] = str(settings.database_statement_timeout_ms)
    if uses_pooler(url, settings.database_pooler):
        # A transaction-mode pooler hands each transaction to any server connection:
        # named prepared statements must not outlive it, and startup parameters
        # other than the basics may be refused.
        if is_asyncpg:
            # Neither asyncpg's cache nor SQLAlchemy's own may keep a prepared statement.
            connect_args["statement_cache_size"] = 0
            connect_args["prepared_statement_cache_size"] = 0
            connect_args["prepared_statement_name_func"] = lambda: f"__asyncpg_{uuid4()}__"
        else:
            connect_args["prepare_threshold"] = None
        server_settings = {}
    if is_asyncpg:
        connect_args["server_settings"] = server_settings
    elif server_settings:
        connect_args["options"] = " ".join(f"-c {k}={v}" for k, v in server_settings.items())
    return create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        pool_recycle=1800,
        connect_args=connect_args,
    )


def create_engine(
    settings: Settings, *, url: str | None = None, foreign_keys: bool = True
) -> AsyncEngine:
    """``foreign_keys=False`` is for migrations only: SQLite rebuilds a table to alter it,
    and dropping the old copy with foreign keys on would cascade-delete its children."""
    url = url or settings.database_url
    if url.startswith("sqlite"):
        return _sqlite_engine(url, foreign_keys=foreign_keys)
    return _postgres_engine(settings, url)


async def _no_reset(connection: asyncpg.Connection) -> None:
    """What a released connection needs beyond asyncpg's own rollback of an open
    transaction: nothing, as nothing here changes session state. (asyncpg's default
    sends RESET ALL and friends: one more round trip per request.)"""


# Options of SQLAlchemy's asyncpg dialect, not of asyncpg itself.
_SQLALCHEMY_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func")


def _hot_pool_opener(
    settings: Settings, url: str, pooled: bool
) -> Callable[[], Coroutine[None, None, asyncpg.Pool]]:
    connect_args: dict[str, Any] = {}
    # The URL read as SQLAlchemy's asyncpg dialect reads it (query options such as
    # ?ssl=require become keywords), so both pools connect the same way.
    dialect = asyncpg_dialect()  # type: ignore[no-untyped-call]
    url_object = make_url(_asyncpg_url(url, connect_args))
    _, options = dialect.create_connect_args(url_object)  # type: ignore[no-untyped-call]
    for name in _SQLALCHEMY_ONLY:
        options.pop(name, None)
    options.update(connect_args)
    # PostgreSQL's default plan_cache_mode (auto): the hot statements are plan-stable,
    # so a cached generic plan saves planning each time (docs/adr/0006).
    server_settings = {"application_name": "taskapi"}
    if settings.database_statement_timeout_ms:
        server_settings["statement_timeout"] = str(settings.database_statement_timeout_ms)
    if pooled:
        options["statement_cache_size"] = 0
        server_settings = {}
    # Connecting is bounded too (asyncpg's default is 60 s), so an unreachable host is a
    # prompt 503; at least 10 s for a database that wakes up on demand (Neon).
    options.setdefault("timeout", max(settings.database_pool_timeout, 10.0))

    async def open_pool() -> asyncpg.Pool:
        pool: asyncpg.Pool = await asyncpg.create_pool(
            min_size=1,
            max_size=settings.database_pool_size,
            max_inactive_connection_lifetime=300,
            reset=_no_reset,
            server_settings=server_settings,
            **options,
        )
        return pool

    return open_pool


class Database:
    """The engine, session factories and hot-path runner of one application instance."""

    def __init__(self, settings: Settings) -> None:
        self.engine = create_engine(settings)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # Reads on PostgreSQL run without BEGIN/COMMIT: two round trips fewer per
        # request. (SQLite keeps its transactions: they cost no round trip there.)
        # Not behind a transaction-mode pooler: there a statement's prepare and execute
        # must share one transaction, or they may reach two server connections.
        reads = self.engine
        pooled = uses_pooler(settings.database_url, settings.database_pooler)
        if self.engine.dialect.name == "postgresql" and not pooled:
            reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.read_sessionmaker = async_sessionmaker(reads, expire_on_commit=False, autoflush=False)
        self.runner: StatementRunner
        if settings.database_url.startswith("postgresql+asyncpg"):
            self.runner = PostgresRunner(
                _hot_pool_opener(settings, settings.database_url, pooled),
                acquire_timeout=settings.database_pool_timeout,
                in_transaction=pooled,
            )
        else:
            self.runner = SqlAlchemyRunner(reads)

    def session(self, *, read_only: bool = False) -> AsyncSession:
        return (self.read_sessionmaker if read_only else self.sessionmaker)()

    async def ping(self) -> None:
        """Both pools can reach the database. A session connection left over from
        before a database restart fails once and invalidates the pool: one retry then
        tells "restarted" from "down"."""
        for attempt in (1, 2):
            try:
                async with self.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
                break
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        await self.runner.ping()

    async def dispose(self) -> None:
        await self.runner.close()
        await self.engine.dispose()
