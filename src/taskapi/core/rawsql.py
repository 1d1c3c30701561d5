"""Hot-path statements: built with SQLAlchemy once, run straight on asyncpg (docs/adr/0006).

SQLAlchemy stays the one place SQL is written: a repository builds a statement with
bind parameters, ``compile_statement`` turns it once into PostgreSQL text, the order of
its ``$n`` parameters and the column types' bind and result conversions. Running it is
then one asyncpg call: no session, no SQLAlchemy connection, no greenlet hop, which is
most of what a request cost (docs/performance.md).

On SQLite (the embedded default) the same statement runs through SQLAlchemy Core, so
both backends answer from the same SQL and the same conversions.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import asyncpg
from sqlalchemy import ARRAY
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from taskapi.core.models import UTCDateTime

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]

# Types whose asyncpg values are already what the model holds (asyncpg returns
# timestamptz as an aware UTC datetime and arrays as lists): their SQLAlchemy result
# processors would only cost time.
_READY_TYPES = (UTCDateTime, ARRAY)

_CONNECTION_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)

Processor = Callable[[Any], Any]
RowValues = dict[str, Any]


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """A statement's PostgreSQL text and the conversions around one execution."""

    sql: str
    params: tuple[tuple[str, Processor | None], ...]
    columns: tuple[str, ...]
    converters: tuple[tuple[int, Processor], ...]  # only the columns that need one

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        return [
            value if convert is None or value is None else convert(value)
            for name, convert in self.params
            for value in (values[name],)
        ]

    def row(self, record: Sequence[Any]) -> RowValues:
        values = list(record)
        for index, convert in self.converters:
            if values[index] is not None:
                values[index] = convert(values[index])
        return dict(zip(self.columns, values, strict=True))


@functools.cache
def compile_statement(statement: ClauseElement) -> CompiledStatement:
    """Compile once per statement object. Only for statements built once (module
    constants, ``functools.cache`` builders): each object passed stays in this cache."""
    compiled = cast(SQLCompiler, statement.compile(dialect=_DIALECT))
    names = compiled.positiontup or []
    params = tuple(
        (name, compiled.binds[name].type._cached_bind_processor(_DIALECT)) for name in names
    )
    selected: Sequence[Any] = getattr(statement, "selected_columns", ())
    returning: Sequence[Any] = getattr(statement, "_returning", ())
    columns = list(selected) or list(returning)
    converters = []
    for index, column in enumerate(columns):
        if isinstance(column.type, _READY_TYPES):
            continue
        convert = column.type._cached_result_processor(_DIALECT, None)
        if convert is not None:
            converters.append((index, convert))
    return CompiledStatement(
        sql=compiled.string,
        params=params,
        columns=tuple(column.name for column in columns),
        converters=tuple(converters),
    )


class StatementRunner(Protocol):
    """Runs a statement built once; rows come back as ``{column: value}`` dicts."""

    dialect: str  # which variant of a statement to build ("postgresql", "sqlite")

    async def fetch(self, statement: ClauseElement, values: Mapping[str, Any]) -> list[RowValues]:
        """All rows the statement returns. On PostgreSQL it is one round trip with no
        BEGIN/COMMIT: a writing statement (the create) commits on its own."""

    async def ping(self) -> None:
        """Raise unless the runner can reach the database now."""

    async def close(self) -> None:
        """Release the connections it holds."""


class PoolWatcher(Protocol):
    """Told when the hot path takes and returns a connection (for the pool gauges)."""

    def checked_out(self, open_connections: int) -> None: ...

    def checked_in(self) -> None: ...


class PostgresRunner:
    """An asyncpg pool of its own, opened on first use.

    Directly connected, each connection's statement cache prepares a text once and
    PostgreSQL may reuse a generic plan for it: the statements run here are the
    plan-stable ones (by primary key, or one index range in sort order), whose generic
    plan is the custom one. Behind a transaction-mode pooler nothing is cached and each
    statement runs inside a transaction, so its prepare and execute share one server
    connection.
    """

    def __init__(
        self,
        open_pool: Callable[[], Awaitable[Any]],
        *,
        acquire_timeout: float,
        in_transaction: bool,
    ) -> None:
        self.dialect = "postgresql"
        self._open_pool = open_pool
        self._pool: Any = None
        self._opening = asyncio.Lock()
        self._acquire_timeout = acquire_timeout
        self._in_transaction = in_transaction
        self.watcher: PoolWatcher | None = None

    async def pool(self) -> Any:
        """The asyncpg pool, opened on first use."""
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await self._open_pool()
        return self._pool

    async def fetch(self, statement: ClauseElement, values: Mapping[str, Any]) -> list[RowValues]:
        compiled = compile_statement(statement)
        arguments = compiled.arguments(values)
        pool = await self.pool()
        # A full pool is "try again shortly" (503 via TimeoutError), never a hang.
        connection = await pool.acquire(timeout=self._acquire_timeout)
        watcher = self.watcher
        if watcher is not None:
            watcher.checked_out(pool.get_size())
        try:
            if self._in_transaction:
                async with connection.transaction():
                    records = await connection.fetch(compiled.sql, *arguments)
            else:
                records = await connection.fetch(compiled.sql, *arguments)
        except BaseException:
            # After a failure (a lost server, a cancelled request) the connection's
            # protocol state is unknown: never hand it to the next request. (The pool's
            # release resets nothing, so it would not notice.) A new one is opened.
            # A lost connection may already be detached from its pool: then it is gone.
            with contextlib.suppress(asyncpg.InterfaceError):
                connection.terminate()
            raise
        finally:
            if watcher is not None:
                watcher.checked_in()
            # The statement's result (a committed create, say) stands even if handing the
            # connection back fails; the pool then drops that connection itself.
            with contextlib.suppress(*_CONNECTION_ERRORS):
                await pool.release(connection)
        return [compiled.row(record) for record in records]

    async def ping(self) -> None:
        """One round trip on the hot pool (readiness)."""
        pool = await self.pool()
        async with pool.acquire(timeout=self._acquire_timeout) as connection:
            await connection.fetchval("SELECT 1")

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


class SqlAlchemyRunner:
    """The same statements through SQLAlchemy Core (SQLite, and psycopg URLs)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.dialect = engine.dialect.name
        self._engine = engine

    async def fetch(self, statement: ClauseElement, values: Mapping[str, Any]) -> list[RowValues]:
        # begin(), not connect(): a writing statement (the create) must be committed.
        async with self._engine.begin() as connection:
            result = await connection.execute(statement, dict(values))  # type: ignore[call-overload]
            return [dict(row._mapping) for row in result]

    async def ping(self) -> None:
        """Nothing of its own to check: the engine is the ``Database``'s."""

    async def close(self) -> None:
        """The engine belongs to the ``Database``, which disposes of it."""
