"""EXPLAIN (ANALYZE, BUFFERS) of the SQL the task listing runs, on a seeded PostgreSQL.

Run from the repository root::

    .venv/bin/python -m bench.query_plans

It starts a throwaway PostgreSQL (``tests/servers.py``), migrates it with Alembic,
seeds 100 users x 1,000 tasks plus one user with 200,000 tasks (COPY, not the API),
captures the statements the real repository functions execute (``list_page``,
``names_by_task``) through the service's own engine (``taskapi.core.db``), compiles
them with literal values and measures them. Next to the shipped statements it
measures the ones they replaced (the name-join tag filter, the undated tail ordered by
id alone) and what prepared statements would cost on generic plans, which the service
turns off. It then compares the shipped tsvector search with a pg_trgm index, and
writes ``docs/query-plans.md``. Nothing in ``src/`` is changed; the pg_trgm index
exists only in the throwaway database.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Select, exists, func, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from sqlmodel import col
from tests.servers import PostgresServer, start_postgres

from taskapi.core.config import Settings
from taskapi.core.db import create_engine
from taskapi.core.migrate import upgrade
from taskapi.tags import repository as tag_repository
from taskapi.tags.models import Tag, TaskTag, tag_key
from taskapi.tasks import repository as task_repository
from taskapi.tasks.models import Priority, Task
from taskapi.tasks.query import Keyset, Status, TaskFilters, TaskSort

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "query-plans.md"
COMMAND = ".venv/bin/python -m bench.query_plans"

SEED = 20261122
SMALL_USERS = 100
SMALL_TASKS = 1_000
BIG_TASKS = 200_000
TAGS_PER_USER = 20
HISTORY_DAYS = 3 * 365
PAGE_SIZE = 20
LIMIT = PAGE_SIZE + 1  # what the service asks for: one extra row tells "there is more"
DEEP_ROW = 190_000
RUNS = 5
# A plan that reads more task rows than this for one page is "not a range scan".
EXAMINED_LIMIT = 1_000

SERVER_SETTINGS = {
    "shared_buffers": "512MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "30min",
}

# Words of task titles and descriptions, roughly most frequent first: the draw is Zipf-like
# over this order, so the corpus has words at every selectivity (and shared prefixes).
_WORDS = """
call email review update plan meeting report send check fix buy book prepare schedule
write read finish draft team project budget client order pay invoice follow up weekly
monthly notes slides agenda doc list car home office kitchen groceries milk bread eggs
coffee dentist doctor appointment gym run walk clean laundry trash garden water plants
renew insurance passport tax return bank transfer refund receipt expense travel flight
hotel train ticket pack gift birthday party dinner lunch call mom dad kids school homework
pickup dropoff repair replace install configure deploy release test bug ticket backlog
sprint retro standup demo design mockup feedback contract proposal quote estimate vendor
supplier shipment delivery return package store online account password login backup
server database migration upgrade patch security audit compliance policy training
onboarding interview candidate hire offer salary review performance goal quarterly annual
report summary dashboard metrics analytics survey research competitor market pricing
campaign newsletter blog post social media website landing page copy translate print scan
sign notarize file archive organize declutter donate sell list recycle paint fence roof
gutter lawn mow rake leaves snow shovel heater furnace filter plumber electrician
carpenter painter landlord lease rent utilities electricity internet phone bill plan
upgrade cancel subscription membership renew license registration inspection oil tires
brakes wash vacuum dust mop windows curtains sheets towels closet garage attic basement
shed tools ladder drill hammer screws nails glue tape batteries bulbs charger cable
adapter monitor keyboard mouse laptop tablet printer ink paper envelopes stamps mailbox
neighbor friend cousin uncle aunt grandma grandpa wedding anniversary graduation
reunion picnic barbecue camping hiking fishing cycling swimming yoga pilates tennis golf
soccer practice recital rehearsal concert museum gallery theater library volunteer
fundraiser charity church committee board minutes bylaws treasurer secretary chair
vote election ballot jury summons warranty claim appeal complaint inquiry reply respond
reconcile ledger payroll timesheet reimbursement mileage per diem stipend grant
scholarship tuition enrollment transcript diploma certificate portfolio resume
referral reference recommendation endorsement testimonial case study whitepaper
webinar workshop conference keynote panel booth sponsor exhibitor badge lanyard
itinerary visa vaccination allergy prescription pharmacy refill therapist chiropractor
optometrist orthodontist pediatrician veterinarian kennel groomer aquarium terrarium
"""
# Rare words: each far rarer than the last common one, down to a handful of tasks.
_RARE_WORDS = """
harpsichord xylophone zeppelin quokka narwhal axolotl kumquat marzipan origami
calligraphy taxidermy spelunking falconry beekeeping blacksmithing lapidary
"""
COMMON_WORDS = list(dict.fromkeys(_WORDS.split()))
RARE_WORDS = _RARE_WORDS.split()
VOCABULARY = COMMON_WORDS + RARE_WORDS
ZIPF_EXPONENT = 1.15


def _word_weights() -> list[float]:
    weights = [1 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(COMMON_WORDS))]
    last, steps = weights[-1], len(RARE_WORDS) - 1
    # From half the last common word's weight down to 1/200 of it.
    weights += [last * 0.5 * 0.01 ** (i / steps) for i in range(len(RARE_WORDS))]
    return weights


TAG_NAMES = [
    "work", "home", "errands", "finance", "health", "family", "shopping", "urgent",
    "someday", "reading", "travel", "garden", "car", "school", "kids", "fitness",
    "meetings", "email", "calls", "admin", "taxes", "projects", "ideas", "waiting",
    "review", "personal", "chores", "bills", "learning", "music",
]  # fmt: skip

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TASK_COLUMNS = re.compile(r"SELECT tasks\.id, (?:tasks\.\w+, )*tasks\.version")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# seed data
# --------------------------------------------------------------------------------------


@dataclass
class Seed:
    big: uuid.UUID
    small: uuid.UUID
    big_tags_by_use: list[str]  # the big user's tag names, most used first
    big_doc_freq: Counter[str]  # word -> number of the big user's tasks containing it
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class Generator:
    """Deterministic synthetic users, tags, tasks and task-tag links."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.word_cum = _cumulative(_word_weights())
        self.tag_cum = _cumulative([1 / (rank + 1) ** 1.2 for rank in range(TAGS_PER_USER)])
        self.users: list[tuple[Any, ...]] = []
        self.tags: list[tuple[Any, ...]] = []
        self.tasks: list[tuple[Any, ...]] = []
        self.links: list[tuple[Any, ...]] = []

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def words(self, count: int) -> list[str]:
        return self.rng.choices(VOCABULARY, cum_weights=self.word_cum, k=count)

    def user(self, number: int, task_count: int, doc_freq: Counter[str] | None) -> list[str]:
        """Add one user with its tags and tasks; return its tag names, most used first."""
        rng = self.rng
        user_id = self.uuid()
        joined = self.now - timedelta(days=HISTORY_DAYS + 1)
        email = f"user{number}@example.com"
        self.users.append((user_id, email, email, f"User {number}", None, joined, joined))
        names = rng.sample(TAG_NAMES, TAGS_PER_USER)  # in order of popularity
        tag_ids = [self.uuid() for _ in names]
        for tag_id, name in zip(tag_ids, names, strict=True):
            self.tags.append((tag_id, user_id, name.capitalize(), tag_key(name), joined))
        start = self.now - timedelta(days=HISTORY_DAYS)
        step = HISTORY_DAYS * 86_400 / task_count
        for index in range(task_count):
            task_id = self.uuid()
            created = start + timedelta(seconds=(index + rng.random()) * step)
            title_words = self.words(rng.randint(2, 7))
            body_words = self.words(rng.randint(5, 30)) if rng.random() < 0.6 else []
            if doc_freq is not None:
                doc_freq.update(set(title_words) | set(body_words))
            completed = rng.random() < 0.4
            completed_at = (
                min(created + timedelta(hours=rng.uniform(1, 24 * 30)), self.now)
                if completed
                else None
            )
            due_at = (
                created + timedelta(days=rng.uniform(-1, 60), minutes=rng.randint(0, 1439))
                if rng.random() < 0.3
                else None
            )
            recurrence = (
                rng.choice(["daily", "weekly", "monthly", "yearly"])
                if rng.random() < 0.05
                else None
            )
            updated = max(created, completed_at or created) + timedelta(seconds=rng.randint(0, 600))
            title = " ".join(title_words).capitalize()
            priority = rng.choices(range(5), weights=[30, 25, 22, 15, 8])[0]
            description = " ".join(body_words)
            row = (task_id, user_id, title, description, completed, completed_at, priority)
            self.tasks.append((*row, due_at, recurrence, created, updated, None, 1))
            wanted = rng.choices([0, 1, 2, 3], weights=[25, 35, 25, 15])[0]
            chosen: set[int] = set()
            while len(chosen) < wanted:
                chosen.add(rng.choices(range(TAGS_PER_USER), cum_weights=self.tag_cum)[0])
            self.links.extend((task_id, tag_ids[i], user_id) for i in sorted(chosen))
        return names


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


TASK_COPY_COLUMNS = [
    "id", "user_id", "title", "description", "completed", "completed_at", "priority",
    "due_at", "recurrence", "created_at", "updated_at", "next_task_id", "version",
]  # fmt: skip


async def seed(conn: asyncpg.Connection) -> Seed:
    started = time.perf_counter()
    rng = random.Random(SEED)
    gen = Generator(rng, datetime(2026, 11, 1, tzinfo=UTC))
    doc_freq: Counter[str] = Counter()
    big_tags = gen.user(0, BIG_TASKS, doc_freq)
    big = gen.users[0][0]
    for number in range(1, SMALL_USERS + 1):
        gen.user(number, SMALL_TASKS, None)
    small = gen.users[1][0]
    # Insert in creation order, as a live table fills: users' rows interleave on disk.
    gen.tasks.sort(key=lambda row: row[9])
    log(f"generated {len(gen.tasks):,} tasks in {time.perf_counter() - started:.1f}s; copying")
    await conn.copy_records_to_table(
        "users",
        records=gen.users,
        columns=[
            "id",
            "email",
            "email_key",
            "display_name",
            "password_hash",
            "created_at",
            "updated_at",
        ],
    )
    await conn.copy_records_to_table(
        "tags", records=gen.tags, columns=["id", "user_id", "name", "name_key", "created_at"]
    )
    chunk = 50_000
    for offset in range(0, len(gen.tasks), chunk):
        await conn.copy_records_to_table(
            "tasks", records=gen.tasks[offset : offset + chunk], columns=TASK_COPY_COLUMNS
        )
        log(f"  tasks {min(offset + chunk, len(gen.tasks)):,}")
    await conn.copy_records_to_table(
        "task_tags", records=gen.links, columns=["task_id", "tag_id", "user_id"]
    )
    log("ANALYZE")
    await conn.execute("VACUUM ANALYZE")
    result = Seed(big=big, small=small, big_tags_by_use=big_tags, big_doc_freq=doc_freq)
    for table in ("users", "tags", "tasks", "task_tags"):
        result.rows[table] = int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608
    result.seconds = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------------------
# capturing and compiling the repository's statements
# --------------------------------------------------------------------------------------


class Capture:
    """Every statement a Session executes, as the repository built it."""

    def __init__(self) -> None:
        self.statements: list[Any] = []

    def __call__(self, state: ORMExecuteState) -> None:
        self.statements.append(state.statement)

    def take(self) -> list[Any]:
        taken, self.statements = self.statements, []
        return taken


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    if isinstance(value, uuid.UUID):
        return f"'{value}'::uuid"
    if isinstance(value, list | tuple):
        return ", ".join(_literal(item) for item in value)
    return "'" + str(value).replace("'", "''") + "'"


def to_sql(statement: Any) -> str:
    """PostgreSQL SQL with the values inlined (by SQLAlchemy, or by hand as a fallback)."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    try:
        compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        return str(compiled)
    except Exception:  # any type without a literal renderer
        compiled = statement.compile(dialect=dialect)
        params = compiled.construct_params()
        processors = compiled._bind_processors
        sql = str(compiled)
        for name, value in params.items():
            processor = processors.get(name)
            bound = processor(value) if processor else value
            sql = sql.replace(f"%({name})s", _literal(bound))
        return sql


# measuring
# --------------------------------------------------------------------------------------


@dataclass
class Measured:
    sql: str
    phase: str
    plan: dict[str, Any]  # the JSON plan of the median run
    times: list[float]
    planning_ms: float
    statement: Any = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times)

    @property
    def root(self) -> dict[str, Any]:
        node: dict[str, Any] = self.plan["Plan"]
        return node

    @property
    def cost(self) -> float:
        return float(self.root["Total Cost"])

    @property
    def rows(self) -> int:
        return int(self.root["Actual Rows"])

    @property
    def buffers(self) -> int:
        return int(self.root.get("Shared Hit Blocks", 0)) + int(
            self.root.get("Shared Read Blocks", 0)
        )

    @property
    def examined(self) -> int:
        """Task rows the plan fetched (returned or thrown away by a filter or recheck)."""
        total = 0
        for node in walk(self.root):
            if node.get("Relation Name") == "tasks":
                seen = (
                    node["Actual Rows"]
                    + node.get("Rows Removed by Filter", 0)
                    + node.get("Rows Removed by Index Recheck", 0)
                )
                total += int(seen * node.get("Actual Loops", 1))
        return total

    @property
    def sorted_rows(self) -> int:
        """Rows fed into the largest Sort node (a top-N sort over many rows is not a range)."""
        biggest = 0
        for node in walk(self.root):
            if node["Node Type"] in {"Sort", "Incremental Sort"}:
                child = node["Plans"][0]
                biggest = max(biggest, int(child["Actual Rows"] * child.get("Actual Loops", 1)))
        return biggest

    @property
    def walks_all_users(self) -> bool:
        """A range scan of pk_tasks: rows of every user, in id order, filtered by user_id."""
        return any(
            node.get("Index Name") == "pk_tasks"
            and not str(node.get("Index Cond", "")).startswith("(id = ")
            for node in walk(self.root)
        )

    @property
    def seq_scan(self) -> bool:
        return any(
            node["Node Type"] == "Seq Scan" and node.get("Relation Name") in {"tasks", "task_tags"}
            for node in walk(self.root)
        )


def walk(node: dict[str, Any]) -> Iterable[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


async def explain(
    conn: asyncpg.Connection, sql: str, phase: str = "", statement: Any = None
) -> Measured:
    """One warm-up, then ``RUNS`` runs; TIMING OFF keeps per-row clock reads out of the time."""
    query = "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) " + sql
    await conn.fetchval(query)  # warm-up: caches, catalog, hint bits
    runs = [json.loads(await conn.fetchval(query))[0] for _ in range(RUNS)]
    times = [run["Execution Time"] for run in runs]
    runs.sort(key=lambda plan: plan["Execution Time"])
    return Measured(
        sql=sql,
        phase=phase,
        plan=runs[len(runs) // 2],
        times=times,
        planning_ms=statistics.median(run["Planning Time"] for run in runs),
        statement=statement,
    )


@dataclass
class Case:
    key: str
    title: str
    user: str  # "big" or "1k"
    measured: list[Measured]

    @property
    def median_ms(self) -> float:
        return sum(m.median_ms for m in self.measured)

    @property
    def buffers(self) -> int:
        return sum(m.buffers for m in self.measured)

    @property
    def examined(self) -> int:
        return sum(m.examined for m in self.measured)

    @property
    def sorted_rows(self) -> int:
        return max((m.sorted_rows for m in self.measured), default=0)

    @property
    def rows(self) -> int:
        return sum(m.rows for m in self.measured)

    @property
    def shape(self) -> str:
        return " ; ".join(plan_shape(m.root) for m in self.measured)

    @property
    def not_a_range_scan(self) -> bool:
        return any(
            m.examined > EXAMINED_LIMIT
            or m.sorted_rows > EXAMINED_LIMIT
            or m.seq_scan
            or m.walks_all_users
            for m in self.measured
        )


def _phase(sql: str) -> str:
    if "due_at IS NOT NULL" in sql:
        return "dated range"
    if "due_at IS NULL" in sql:
        return "undated tail"
    return ""


class Bench:
    def __init__(self, conn: asyncpg.Connection, session: AsyncSession, capture: Capture) -> None:
        self.conn = conn
        self.session = session
        self.capture = capture
        self.cases: list[Case] = []
        # Other ways to run a case, by "before.<key>" / "alternative.<key>".
        self.alternatives: dict[str, Case] = {}
        self.names: dict[uuid.UUID, str] = {}

    async def measure(
        self, key: str, title: str, user_id: uuid.UUID, statements: Sequence[Any]
    ) -> Case:
        measured = []
        for statement in statements:
            sql = to_sql(statement)
            measured.append(await explain(self.conn, sql, _phase(sql), statement))
        case = Case(key, title, self.names[user_id], measured)
        log(f"  {title} ({case.user}): {case.median_ms:.2f} ms, {case.buffers:,} buffers")
        return case

    async def page(
        self,
        key: str,
        title: str,
        user_id: uuid.UUID,
        sort: TaskSort,
        filters: TaskFilters | None = None,
        after: Keyset | None = None,
    ) -> list[Any]:
        """Run the real ``list_page`` once, then measure each statement it executed."""
        self.capture.take()
        rows = await task_repository.list_page(
            self.session, user_id, filters or TaskFilters(), sort, LIMIT, after
        )
        self.cases.append(await self.measure(key, title, user_id, self.capture.take()))
        return rows

    async def tags_of_page(
        self, key: str, title: str, user_id: uuid.UUID, tasks: list[Any]
    ) -> None:
        self.capture.take()
        await tag_repository.names_by_task(self.session, user_id, [t.id for t in tasks])
        self.cases.append(await self.measure(key, title, user_id, self.capture.take()))

    async def alternative(
        self, replaces: str, kind: str, label: str, user_id: uuid.UUID, statements: Sequence[Any]
    ) -> None:
        """Measure another way to run case ``replaces``: its ``before`` (the statement the
        shipped one replaced) or an ``alternative`` that was considered and not shipped."""
        title = f"{_case(self.cases, replaces).title} — {kind}: {label}"
        case = await self.measure(f"{kind}.{replaces}", title, user_id, statements)
        self.alternatives[f"{kind}.{replaces}"] = case

    async def keyset_at(
        self, user_id: uuid.UUID, sort: TaskSort, offset: int, filters: TaskFilters | None = None
    ) -> Keyset:
        """The cursor of row ``offset + 1`` of a listing (what its previous page hands out)."""
        base = await self.filtered(user_id, filters or TaskFilters())
        statement = task_repository._ordered(base, sort).offset(offset).limit(1)
        task = (await self.session.execute(statement)).scalar_one()
        self.capture.take()
        return sort.keyset_of(task)

    async def filtered(self, user_id: uuid.UUID, filters: TaskFilters) -> Select[Task]:
        """The listing's WHERE clause, tag names resolved to ids as list_page does."""
        tag_ids: list[uuid.UUID] = []
        if filters.tags:
            tag_ids = await task_repository._tag_ids(self.session, user_id, filters.tags) or []
        return task_repository._filtered(
            task_repository.owned(user_id), user_id, filters, tag_ids, "postgresql"
        )

    async def count(self, user_id: uuid.UUID, filters: TaskFilters) -> int:
        base = await self.filtered(user_id, filters)
        return int(await self.conn.fetchval(to_sql(base.with_only_columns(func.count()))))


# --------------------------------------------------------------------------------------
# the statements the shipped ones replaced, and alternatives (measured only)
# --------------------------------------------------------------------------------------


def listing_base(user_id: uuid.UUID, shipped: Any) -> Select[Any]:
    """The user's tasks with the select list of a statement ``list_page`` ran for that
    user, so a rewrite is compared with the same columns (and per-row subqueries)."""
    return select(*shipped.selected_columns).where(col(Task.user_id) == user_id)


def tag_by_name_join(
    user_id: uuid.UUID, shipped: Any, name: str, sort: TaskSort, after: Keyset | None
) -> Select[Any]:
    """Before: ``_has_tag`` joined ``tags`` by name inside the EXISTS, so the planner did
    not know which tag (and how common it is) when it planned the listing."""
    statement = listing_base(user_id, shipped).where(
        exists().where(
            col(TaskTag.task_id) == col(Task.id),
            col(TaskTag.user_id) == user_id,
            col(TaskTag.tag_id) == col(Tag.id),
            col(Tag.user_id) == user_id,
            col(Tag.name_key) == tag_key(name),
        )
    )
    if after is not None:
        statement = statement.where(task_repository._after(sort, after))
    return task_repository._ordered(statement, sort).limit(LIMIT)


def tag_links_first(
    user_id: uuid.UUID, shipped: Any, tag_id: uuid.UUID, sort: TaskSort
) -> Select[Any]:
    """Alternative: read the tag's links first (a MATERIALIZED CTE fences the planner
    off the sort index), fetch those tasks by primary key and sort them."""
    tagged = (
        select(col(TaskTag.task_id))
        .where(col(TaskTag.user_id) == user_id, col(TaskTag.tag_id) == tag_id)
        .cte("tagged")
        .prefix_with("MATERIALIZED")
    )
    statement = listing_base(user_id, shipped).join(tagged, tagged.c.task_id == col(Task.id))
    return task_repository._ordered(statement, sort).limit(LIMIT)


def undated_by_id(statement: Any, sort: TaskSort) -> Any:
    """Before: the undated phase of ``sort=due_at`` was ordered by id alone."""
    if _phase(to_sql(statement)) != "undated tail":
        return statement
    id_order = col(Task.id).desc() if sort.descending else col(Task.id).asc()
    return statement.order_by(None).order_by(id_order)


# --------------------------------------------------------------------------------------
# generic plans: what a prepared statement may switch to after five executions
# --------------------------------------------------------------------------------------

# PostgreSQL plans the first five executions of a prepared statement with their values;
# from the sixth on (plan_cache_mode=auto) it may reuse one generic plan.
AUTO_EXECUTIONS = 6


@dataclass
class GenericRow:
    case: Case
    generic: list[Measured]
    auto_generic: list[int]  # per statement: generic plans used in AUTO_EXECUTIONS runs

    @property
    def median_ms(self) -> float:
        return sum(m.median_ms for m in self.generic)

    @property
    def buffers(self) -> int:
        return sum(m.buffers for m in self.generic)

    @property
    def switches(self) -> bool:
        """Whether repeating this very request made PostgreSQL (auto) use a generic plan."""
        return any(self.auto_generic)


async def generic_plan(conn: asyncpg.Connection, measured: Measured) -> tuple[Measured, int]:
    """The statement as asyncpg sends it: executed ``AUTO_EXECUTIONS`` times under the
    default plan_cache_mode (how many generic plans did PostgreSQL pick?), then
    EXPLAIN EXECUTE under force_generic_plan."""
    compiled = measured.statement.compile(
        dialect=asyncpg_dialect.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"render_postcompile": True},
    )
    params = compiled.construct_params()
    processors = compiled._bind_processors
    values = []
    for name in compiled.positiontup or []:
        processor = processors.get(name)
        values.append(_literal(processor(params[name]) if processor else params[name]))
    execute = f"EXECUTE bench_generic({', '.join(values)})"
    await conn.execute(f"PREPARE bench_generic AS {compiled}")
    try:
        await conn.execute("SET plan_cache_mode = auto")
        for _ in range(AUTO_EXECUTIONS):
            await conn.execute(execute)
        used = int(
            await conn.fetchval(
                "SELECT generic_plans FROM pg_prepared_statements WHERE name = 'bench_generic'"
            )
        )
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        return await explain(conn, execute, measured.phase), used
    finally:
        await conn.execute("RESET plan_cache_mode")
        await conn.execute("DEALLOCATE bench_generic")


# --------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------


@dataclass
class Probes:
    common: str
    rare: str
    prefix: str
    counts: dict[str, int] = field(default_factory=dict)


def choose_probes(doc_freq: Counter[str], tasks: int) -> Probes:
    """A word in ~15 % of tasks, one in ~0.02 %, and a prefix of several words (~3 %)."""

    def nearest(share: float) -> str:
        return min(doc_freq, key=lambda w: (abs(doc_freq[w] / tasks - share), w))

    common, rare = nearest(0.15), nearest(0.0002)
    best: tuple[float, str] | None = None
    for length in (3, 4):
        families: dict[str, list[str]] = {}
        for word in doc_freq:
            if len(word) > length:
                families.setdefault(word[:length], []).append(word)
        for prefix, family in families.items():
            if len(family) < 3 or prefix in doc_freq:
                continue
            score = abs(sum(doc_freq[w] for w in family) / tasks - 0.03)
            if best is None or (score, prefix) < best:
                best = (score, prefix)
    assert best is not None
    return Probes(common=common, rare=rare, prefix=best[1])


@dataclass
class SearchRow:
    label: str
    word: str
    ts_matches: int
    trgm_matches: int
    ts: Measured
    trgm: Measured


@dataclass
class ServiceCheck:
    """plan_cache_mode and plan counts on the connection of the service's own engine."""

    plan_cache_mode: str
    repeats: int  # executions of one tag listing through list_page
    statements: int  # prepared statements with parameters on that connection
    generic_plans: int
    custom_plans: int
    max_custom_plans: int  # of the most executed statement


@dataclass
class Report:
    seed: Seed
    probes: Probes
    counts: dict[str, int]
    cases: list[Case]
    alternatives: dict[str, Case]
    generic: list[GenericRow]
    search: list[SearchRow]
    sizes: dict[str, str]
    trgm_build_s: float
    service: ServiceCheck
    machine: dict[str, str] = field(default_factory=dict)
    commit: str = "unknown"  # as written in the report
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0


async def run(server: PostgresServer) -> Report:
    conn: asyncpg.Connection = await asyncpg.connect(server.dsn)
    # The service's own engine (core/db.py): its connection settings, its statement cache.
    settings = Settings(
        _env_file=None,
        database_url=server.url(driver="asyncpg"),
        database_pooler=False,
    )
    engine: AsyncEngine = create_engine(settings)
    capture = Capture()
    sa_event.listen(Session, "do_orm_execute", capture)
    try:
        seeded = await seed(conn)
        log(f"seeded in {seeded.seconds:.0f}s: {seeded.rows}")
        async with AsyncSession(engine) as session:
            bench = Bench(conn, session, capture)
            bench.names = {seeded.big: "big", seeded.small: "1k"}
            report = await measure(bench, seeded)
        report.machine = await machine(conn)
        return report
    finally:
        sa_event.remove(Session, "do_orm_execute", capture)
        await engine.dispose()
        await conn.close()


async def measure(bench: Bench, seeded: Seed) -> Report:
    big, small = seeded.big, seeded.small
    by_created = TaskSort("created_at", descending=True)
    by_due = TaskSort("due_at", descending=False)
    pending = TaskFilters(status=Status.pending)
    completed = TaskFilters(status=Status.completed)
    urgent = TaskFilters(priorities=(Priority.urgent,))
    common_tag, rare_tag = seeded.big_tags_by_use[0], seeded.big_tags_by_use[-1]
    with_common_tag = TaskFilters(tags=(common_tag,))
    with_rare_tag = TaskFilters(tags=(rare_tag,))
    probes = choose_probes(seeded.big_doc_freq, BIG_TASKS)
    words = {"common": probes.common, "rare": probes.rare, "prefix": probes.prefix}
    log(f"probes: {words}; tags: common={common_tag!r} rare={rare_tag!r}")

    counts: dict[str, int] = {}
    for name, filters in [
        ("dated", TaskFilters(due_after=datetime(1970, 1, 1, tzinfo=UTC))),
        ("pending", pending),
        ("completed", completed),
        ("urgent", urgent),
        (f"tag {common_tag}", with_common_tag),
        (f"tag {rare_tag}", with_rare_tag),
        *[(f"q {w}", TaskFilters(text=w)) for w in words.values()],
    ]:
        counts[name] = await bench.count(big, filters)
    counts["1k dated"] = await bench.count(
        small, TaskFilters(due_after=datetime(1970, 1, 1, tzinfo=UTC))
    )
    probes.counts = {w: counts[f"q {w}"] for w in words.values()}
    log(f"counts: {counts}")

    log("listings")
    first_page = await bench.page("created.p1", "sort=-created_at, page 1", big, by_created)
    await bench.page("created.p1.1k", "sort=-created_at, page 1", small, by_created)
    after = await bench.keyset_at(big, by_created, DEEP_ROW - 1)
    title = f"sort=-created_at, after row {DEEP_ROW:,}"
    await bench.page("created.deep", title, big, by_created, after=after)

    dated = counts["dated"]
    await bench.page("due.p1", "sort=due_at, page 1 (dated range)", big, by_due)
    row = int(dated * 0.9)
    after = await bench.keyset_at(big, by_due, row - 1)
    title = f"sort=due_at, after row {row:,} (dated range)"
    await bench.page("due.deep-dated", title, big, by_due, after=after)
    after = await bench.keyset_at(big, by_due, dated - 10 - 1)
    title = f"sort=due_at, after row {dated - 10:,} (last dated, then undated)"
    await bench.page("due.boundary", title, big, by_due, after=after)
    due_deep = await bench.keyset_at(big, by_due, DEEP_ROW - 1)
    title = f"sort=due_at, after row {DEEP_ROW:,} (undated tail)"
    await bench.page("due.deep", title, big, by_due, after=due_deep)
    row_1k = counts["1k dated"] + 600
    due_deep_1k = await bench.keyset_at(small, by_due, row_1k - 1)
    title = f"sort=due_at, after row {row_1k:,} (undated tail)"
    await bench.page("due.deep.1k", title, small, by_due, after=due_deep_1k)

    for name in ("priority", "title"):
        sort = TaskSort(name, descending=False)
        await bench.page(f"{name}.p1", f"sort={name}, page 1", big, sort)
        after = await bench.keyset_at(big, sort, DEEP_ROW - 1)
        await bench.page(
            f"{name}.deep", f"sort={name}, after row {DEEP_ROW:,}", big, sort, after=after
        )

    await bench.page("pending.p1", "status=pending, page 1", big, by_created, pending)
    row = int(counts["pending"] * 0.95)
    after = await bench.keyset_at(big, by_created, row - 1, pending)
    await bench.page(
        "pending.deep", f"status=pending, after row {row:,}", big, by_created, pending, after
    )
    await bench.page("completed.p1", "status=completed, page 1", big, by_created, completed)
    await bench.page("urgent.p1", "priority=urgent, page 1", big, by_created, urgent)

    title = f"tag={common_tag} (most used tag), page 1"
    await bench.page("tag.p1", title, big, by_created, with_common_tag)
    row = int(counts[f"tag {common_tag}"] * 0.95)
    tag_deep = await bench.keyset_at(big, by_created, row - 1, with_common_tag)
    title = f"tag={common_tag}, after row {row:,}"
    await bench.page("tag.deep", title, big, by_created, with_common_tag, tag_deep)
    title = f"tag={rare_tag} (least used tag), page 1"
    await bench.page("tag-rare.p1", title, big, by_created, with_rare_tag)
    await bench.page("tag.p1.1k", f"tag={common_tag}, page 1", small, by_created, with_common_tag)

    for label, word in words.items():
        title = f"q={word} ({label} word), page 1"
        await bench.page(f"q-{label}.p1", title, big, by_created, TaskFilters(text=word))
    common_q = TaskFilters(text=probes.common)
    row = int(probes.counts[probes.common] * 0.95)
    after = await bench.keyset_at(big, by_created, row - 1, common_q)
    title = f"q={probes.common}, after row {row:,}"
    await bench.page("q-common.deep", title, big, by_created, common_q, after)
    await bench.page("q-common.p1.1k", f"q={probes.common}, page 1", small, by_created, common_q)
    rare_q = TaskFilters(text=probes.rare)
    await bench.page("q-rare.p1.1k", f"q={probes.rare}, page 1", small, by_created, rare_q)

    title = "tag names of a 20-task page (names_by_task)"
    await bench.tags_of_page("tags.page", title, big, first_page[:PAGE_SIZE])

    log("before / alternatives (measured only)")
    tag_cases: list[tuple[str, uuid.UUID, str, Keyset | None]] = [
        ("tag.p1", big, common_tag, None),
        ("tag.deep", big, common_tag, tag_deep),
        ("tag-rare.p1", big, rare_tag, None),
        ("tag.p1.1k", small, common_tag, None),
    ]
    for key, user_id, name, tag_after in tag_cases:
        shipped = _case(bench.cases, key).measured[-1].statement
        statement = tag_by_name_join(user_id, shipped, name, by_created, tag_after)
        await bench.alternative(key, "before", "tag joined by name", user_id, [statement])
    for key, name in [("tag.p1", common_tag), ("tag-rare.p1", rare_tag)]:
        tag_id = await bench.conn.fetchval(
            "SELECT id FROM tags WHERE user_id = $1 AND name_key = $2", big, tag_key(name)
        )
        shipped = _case(bench.cases, key).measured[-1].statement
        statement = tag_links_first(big, shipped, tag_id, by_created)
        await bench.alternative(key, "alternative", "tag's links first", big, [statement])
    for key in ("due.boundary", "due.deep", "due.deep.1k"):
        case = _case(bench.cases, key)
        statements = [undated_by_id(m.statement, by_due) for m in case.measured]
        user_id = big if case.user == "big" else small
        await bench.alternative(key, "before", "undated ordered by id", user_id, statements)

    log("the service's engine: plan_cache_mode and plan counts")
    service = await check_service(bench, big, by_created, with_common_tag)

    log("generic plans (prepared statements)")
    generic: list[GenericRow] = []
    for key in [
        "created.p1", "pending.p1", "tag.p1", "tag-rare.p1", "q-common.p1", "q-rare.p1",
        "q-prefix.p1", "q-common.p1.1k", "due.deep", "tags.page",
    ]:  # fmt: skip
        case = _case(bench.cases, key)
        results = [await generic_plan(bench.conn, m) for m in case.measured]
        g_row = GenericRow(case, [plan for plan, _ in results], [used for _, used in results])
        generic.append(g_row)
        log(f"  {case.title} ({case.user}): generic {g_row.median_ms:.2f} ms, {g_row.auto_generic}")

    shipped_search = {
        label: _case(bench.cases, f"q-{label}.p1").measured[-1].statement for label in words
    }
    search_rows, sizes, build_s = await compare_search(
        bench.conn, big, words, probes.counts, shipped_search
    )
    return Report(
        seed=seeded,
        probes=probes,
        counts=counts,
        cases=bench.cases,
        alternatives=bench.alternatives,
        generic=generic,
        search=search_rows,
        sizes=sizes,
        trgm_build_s=build_s,
        service=service,
    )


SERVICE_REPEATS = 10


async def check_service(
    bench: Bench, user_id: uuid.UUID, sort: TaskSort, filters: TaskFilters
) -> ServiceCheck:
    """Run one listing ``SERVICE_REPEATS`` times through list_page on the service's engine,
    then read plan_cache_mode and the plan counts of that connection's prepared statements
    (the session holds one connection: it never commits)."""
    session = bench.session
    for _ in range(SERVICE_REPEATS):
        await task_repository.list_page(session, user_id, filters, sort, LIMIT, None)
    mode = (await session.execute(text("SHOW plan_cache_mode"))).scalar_one()
    counts = (
        await session.execute(
            text(
                "SELECT count(*), coalesce(sum(generic_plans), 0), "
                "coalesce(sum(custom_plans), 0), coalesce(max(custom_plans), 0) "
                # Without parameters PostgreSQL always reuses the one plan (counted as
                # generic whatever the mode): only statements with values can be custom.
                "FROM pg_prepared_statements WHERE cardinality(parameter_types) > 0"
            )
        )
    ).one()
    bench.capture.take()
    return ServiceCheck(str(mode), SERVICE_REPEATS, *(int(value) for value in counts))


async def compare_search(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    words: dict[str, str],
    counts: dict[str, int],
    shipped: dict[str, Any],
) -> tuple[list[SearchRow], dict[str, str], float]:
    """The statements list_page ran for each word vs the same listing filtered by ILIKE."""
    log("search: tsvector vs pg_trgm")
    by_created = TaskSort("created_at", descending=True)
    await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    clock = time.perf_counter()
    await conn.execute(
        "CREATE INDEX bench_tasks_text_trgm ON tasks "
        "USING gin ((title || ' ' || description) gin_trgm_ops)"
    )
    build_s = time.perf_counter() - clock
    await conn.execute("ANALYZE tasks")
    owned = task_repository.owned(user_id)
    rows: list[SearchRow] = []
    for label, word in words.items():
        ts_statement = shipped[label]
        ilike = text("(tasks.title || ' ' || tasks.description) ILIKE :pattern").bindparams(
            pattern=f"%{word}%"
        )
        trgm_base = listing_base(user_id, ts_statement).where(ilike)
        trgm_statement = task_repository._ordered(trgm_base, by_created).limit(LIMIT)
        ts = await explain(conn, to_sql(ts_statement))
        trgm = await explain(conn, to_sql(trgm_statement))
        trgm_count = int(
            await conn.fetchval(to_sql(owned.where(ilike).with_only_columns(func.count())))
        )
        rows.append(SearchRow(label, word, counts[word], trgm_count, ts, trgm))
        log(f"  {label} {word!r}: tsvector {ts.median_ms:.2f} ms, trgm {trgm.median_ms:.2f} ms")
    sizes = {}
    for name in (
        "tasks", "ix_tasks_user_id_created_at_id", "ix_tasks_search_vector",
        "bench_tasks_text_trgm",
    ):  # fmt: skip
        size = await conn.fetchval("SELECT pg_size_pretty(pg_relation_size($1::regclass))", name)
        sizes[name] = str(size)
    sizes["search_vector values"] = str(
        await conn.fetchval("SELECT pg_size_pretty(sum(pg_column_size(search_vector))) FROM tasks")
    )
    return rows, sizes, build_s


async def machine(conn: asyncpg.Connection) -> dict[str, str]:
    load = os.getloadavg()
    info = {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": _cpu_model(),
        "memory": _memory(),
        "os": f"{platform.system()} {platform.release()}",
        "load": f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}",
        "postgresql": str(await conn.fetchval("SELECT version()")),
    }
    for setting in (
        "shared_buffers",
        "work_mem",
        "effective_cache_size",
        "random_page_cost",
        "jit",
    ):
        info[setting] = str(await conn.fetchval(f"SHOW {setting}"))
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "unknown"


# --------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------


class Names:
    """Readable stand-ins for the UUIDs in SQL and plans."""

    def __init__(self, seeded: Seed) -> None:
        self.known = {str(seeded.big): "<big-user>", str(seeded.small): "<user-1k>"}

    def __call__(self, value: str) -> str:
        def replace(match: re.Match[str]) -> str:
            found = match.group(0)
            return self.known.get(found, found[:8] + "…")

        return _UUID.sub(replace, value)


def short_sql(sql: str, names: Names) -> str:
    sql = _TASK_COLUMNS.sub("SELECT <task columns>", sql)
    return "\n".join(line.rstrip() for line in names(sql).splitlines() if line.strip())


def plan_shape(node: dict[str, Any]) -> str:
    subplan = str(node.get("Subplan Name", ""))
    if subplan.startswith("SubPlan"):  # a per-row subquery of the select list
        return f"{subplan} per row"
    label = str(node["Node Type"])
    if node.get("Scan Direction") == "Backward":
        label += " Backward"
    if "Index Name" in node:
        label += f" {node['Index Name']}"
    elif "Relation Name" in node:
        label += f" {node['Relation Name']}"
    children = [plan_shape(child) for child in node.get("Plans", [])]
    if len(children) == 1:
        return f"{label} → {children[0]}"
    if children:
        return f"{label}({', '.join(children)})"
    return label


_DETAILS = [
    "Index Cond", "Recheck Cond", "Filter", "Join Filter", "Hash Cond", "Merge Cond",
    "Rows Removed by Filter", "Rows Removed by Index Recheck", "Heap Blocks Exact",
    "Heap Blocks Lossy", "Sort Method",
]  # fmt: skip


def render_plan(node: dict[str, Any], names: Names, depth: int = 0) -> list[str]:
    """The plan as indented lines: node, estimate vs actual rows, buffers, key conditions."""
    pad = "   " * depth
    head = node["Node Type"]
    if node.get("Subplan Name"):
        head = f"[{node['Subplan Name']}] {head}"
    if node.get("Scan Direction") == "Backward":
        head += " Backward"
    if "Index Name" in node:
        head += f" using {node['Index Name']}"
    if "Relation Name" in node:
        head += f" on {node['Relation Name']}"
    if "Sort Key" in node:
        head += f" by {', '.join(node['Sort Key'])}"
    hit, read = node.get("Shared Hit Blocks", 0), node.get("Shared Read Blocks", 0)
    head += (
        f"  (est. rows={node['Plan Rows']} cost={node['Total Cost']:.0f}; "
        f"actual rows={node['Actual Rows']} loops={node.get('Actual Loops', 1)}; "
        f"buffers={hit + read})"
    )
    lines = [f"{pad}-> {head}" if depth else head]
    for key in _DETAILS:
        if key not in node or node[key] in (0, "", None):
            continue
        value = str(node[key])
        if key == "Sort Method":
            value += f", {node.get('Sort Space Used', '?')} kB"
        value = names(value)
        if len(value) > 160:
            value = value[:157] + "..."
        lines.append(f"{pad}      {key}: {value}")
    for child in node.get("Plans", []):
        lines += render_plan(child, names, depth + 1)
    return lines


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _case(cases: Sequence[Case], key: str) -> Case:
    return next(case for case in cases if case.key == key)


def _reads(report: Report) -> int:
    measured = [m for case in report.cases for m in case.measured]
    return sum(int(m.root.get("Shared Read Blocks", 0)) for m in measured)


def _cost(case: Case) -> str:
    return f"{_ms(case.median_ms)} ms, {case.buffers:,} buffers"


def _task_tags_estimate(case: Case) -> tuple[int, int]:
    """Estimated and actual rows of the first scan of task_tags in the last statement."""
    for node in walk(case.measured[-1].root):
        if node.get("Relation Name") == "task_tags":
            return int(node["Plan Rows"]), int(node["Actual Rows"])
    return 0, 0


def _subplan_buffers(case: Case) -> int:
    """Buffers of the per-row subqueries (SubPlan nodes), e.g. the tag names of each row."""
    return sum(
        int(node.get("Shared Hit Blocks", 0)) + int(node.get("Shared Read Blocks", 0))
        for m in case.measured
        for node in walk(m.root)
        if node.get("Subplan Name", "").startswith("SubPlan")
    )


def _alt(report: Report, kind: str, key: str) -> Case | None:
    return report.alternatives.get(f"{kind}.{key}")


def _indexes(measured: Measured) -> list[str]:
    """Indexes the plan scans on tasks, in plan order."""
    found = []
    for node in walk(measured.root):
        name = node.get("Index Name")
        if name and node.get("Relation Name") == "tasks" and name not in found:
            found.append(name)
    return found


def describe(case: Case) -> str:
    """What the plan of a listing does, in a few words."""
    last = case.measured[-1]
    if any(m.seq_scan for m in case.measured):
        return "a sequential scan"
    if any(m.walks_all_users for m in case.measured):
        return "a walk of pk_tasks through every user's rows, filtered on user_id"
    if case.sorted_rows > LIMIT:
        return f"reads {case.examined:,} task rows and sorts {case.sorted_rows:,} of them"
    indexes = _indexes(last)
    if case.examined > EXAMINED_LIMIT:
        return f"walks {', '.join(indexes)} and reads {case.examined:,} task rows"
    if indexes:
        return f"a range scan of {indexes[0]}"
    return plan_shape(last.root)


def _ratio(before: Case, after: Case) -> str:
    return f"{before.buffers / max(after.buffers, 1):,.0f}×"


def _range(values: Sequence[float], fmt: Any = str) -> str:
    low, high = min(values), max(values)
    return fmt(low) if fmt(low) == fmt(high) else f"{fmt(low)}–{fmt(high)}"


def _pairs(report: Report) -> list[tuple[str, str, str]]:
    common_tag, word = report.seed.big_tags_by_use[0], report.probes.common
    return [
        ("sort=-created_at (default)", "created.p1", "created.deep"),
        ("sort=due_at, dated range", "due.p1", "due.deep-dated"),
        ("sort=due_at, dated → undated", "due.p1", "due.boundary"),
        ("sort=due_at, undated tail", "due.p1", "due.deep"),
        ("sort=priority", "priority.p1", "priority.deep"),
        ("sort=title", "title.p1", "title.deep"),
        ("status=pending", "pending.p1", "pending.deep"),
        (f"tag={common_tag}", "tag.p1", "tag.deep"),
        (f"q={word}", "q-common.p1", "q-common.deep"),
    ]


def _planning_ms(report: Report) -> float:
    return max(m.planning_ms for case in report.cases for m in case.measured)


def _flagged(report: Report) -> list[Case]:
    return [case for case in report.cases if case.user == "big" and case.not_a_range_scan]


def _tag_share(report: Report, case: Case) -> tuple[str, int, float]:
    name = case.title.split("=", 1)[1].split(" ", 1)[0].rstrip(",")
    links = report.counts.get(f"tag {name}", 0)
    return name, links, links / BIG_TASKS


def _walks_and_probes(case: Case) -> bool:
    return "Index Scan Backward ix_tasks_user_id_created_at_id, Index Scan pk_task_tags" in (
        case.shape
    )


def why_not_a_range(case: Case, report: Report) -> str:
    """Why a flagged listing is not a range scan, from its plan and the measured options."""
    if case.key.startswith("tag"):
        name, links, share = _tag_share(report, case)
        first = _alt(report, "alternative", case.key)
        before = _alt(report, "before", case.key)
        if _walks_and_probes(case):
            plan = (
                "The plan walks ix_tasks_user_id_created_at_id newest first and probes "
                f"pk_task_tags for each task until {LIMIT} carry the tag: about "
                f"{LIMIT / max(share, 1e-9):,.0f} tasks for an evenly spread tag, "
                f"{case.examined:,} task rows read here"
                + (" (parallel workers read ahead)." if "Gather" in case.shape else ".")
            )
        else:
            plan = f"The plan: `{case.shape}`."
        text_ = f"`{name}` is on {links:,} of the big user's tasks ({share:.1%}). " + plan
        if first is not None:
            est, actual = _task_tags_estimate(first)
            text_ += (
                " Reading the tag's links first and sorting the tasks (measured as an "
                f"alternative) touches {first.buffers:,} buffers ({_ms(first.median_ms)} ms), "
                + (
                    "fewer than"
                    if first.buffers < case.buffers
                    else "more than"
                    if first.buffers > case.buffers
                    else "as many as"
                )
                + f" the shipped plan's {case.buffers:,} ({_ms(case.median_ms)} ms); "
                "the planner chooses between "
                f"the two from task_tags.tag_id statistics (estimated {est:,} links, "
                f"actual {actual:,})."
            )
        if before is not None:
            text_ += f" The name-join filter before: {_cost(before)}."
        return text_ + (
            " Either way the cost follows the tag's rarity, not the page depth; only a copy "
            "of the sort key in the link table (an index such as task_tags (user_id, tag_id, "
            "created_at, task_id), one per sort order, kept up to date on every task "
            "update) would make it a range scan. Not done."
        )
    return (
        f"The plan is {describe(case)}; no index serves both the filter and the sort. A "
        "partial index `(user_id, created_at, id) WHERE <filter>` would, if the filter is "
        "frequent and selective."
    )


def summary(report: Report) -> list[str]:
    cases, counts, svc = report.cases, report.counts, report.service
    common_tag = report.seed.big_tags_by_use[0]
    bullets = []

    pairs = _pairs(report)
    firsts = [_case(cases, first) for _, first, _ in pairs]
    deeps = [_case(cases, deep) for _, _, deep in pairs]
    not_range = [label for (label, *_), d in zip(pairs, deeps, strict=True) if d.not_a_range_scan]
    grows = [
        label
        for (label, *_), f, d in zip(pairs, firsts, deeps, strict=True)
        if d.buffers > 3 * f.buffers + 20
    ]
    created, created_deep = _case(cases, "created.p1"), _case(cases, "created.deep")
    bullets.append(
        "**Deep pages cost what page 1 costs.** "
        + (
            "Every listing in the table below is an index range scan that starts at the "
            "keyset cursor"
            if not not_range
            else f"Listings are range scans from the keyset cursor, except {', '.join(not_range)}"
        )
        + f": over {len(pairs)} listings of the big user, page 1 touches "
        f"{_range([f.buffers for f in firsts])} buffers "
        f"({_range([f.median_ms for f in firsts], _ms)} ms) and the deep page (up to row "
        f"{DEEP_ROW:,}) {_range([d.buffers for d in deeps])} buffers "
        f"({_range([d.median_ms for d in deeps], _ms)} ms). Default sort: page 1 "
        f"{_cost(created)}, after row {DEEP_ROW:,} {_cost(created_deep)}."
        + (f" Deep pages cost more for: {', '.join(grows)}." if grows else "")
        + (
            f" Of default page 1's {created.buffers:,} buffers, {sub:,} go to the per-row "
            f"subquery of the select list (SubPlan: each row's tag names, about "
            f"{sub / max(created.rows, 1):.0f} per row), the same on every page."
            if (sub := _subplan_buffers(created))
            else ""
        )
    )

    tag, tag_deep = _case(cases, "tag.p1"), _case(cases, "tag.deep")
    before, before_deep = _alt(report, "before", "tag.p1"), _alt(report, "before", "tag.deep")
    if before and before_deep:
        bullets.append(
            f"**Tag filter by id (shipped).** `tag={common_tag}` ({counts[f'tag {common_tag}']:,} "
            f"of the big user's tasks): page 1 {_cost(tag)}, deep "
            f"({tag_deep.title.split(', ', 1)[1]}) {_cost(tag_deep)}, tag lookup included. "
            f"The former name-join filter read {before.examined:,} task rows and sorted "
            f"{before.sorted_rows:,}: {_cost(before)} on page 1, {_cost(before_deep)} deep "
            f"({_ratio(before, tag)} the buffers)."
        )

    undated, undated_before = _case(cases, "due.deep"), _alt(report, "before", "due.deep")
    small, small_before = _case(cases, "due.deep.1k"), _alt(report, "before", "due.deep.1k")
    if undated_before and small_before:
        bullets.append(
            "**Undated tail of sort=due_at in index order (shipped).** Big user after row "
            f"{DEEP_ROW:,}: {_cost(undated)}, {describe(undated)}; ordered by id alone "
            f"(before): {_cost(undated_before)}, {describe(undated_before)}. A 1k user deep in "
            f"the tail: {_cost(small)} (before {_cost(small_before)}, "
            f"{describe(small_before)})."
        )

    worse = [row for row in report.generic if row.buffers > 10 * row.case.buffers + 100]
    worse.sort(key=lambda row: row.median_ms, reverse=True)
    switched = [row for row in report.generic if row.switches]
    ok = svc.plan_cache_mode == "force_custom_plan" and svc.generic_plans == 0
    bullets.append(
        "**Custom plans only (shipped).** `core/db.py` starts every connection with "
        "`plan_cache_mode=force_custom_plan`"
        + (
            f" (checked on the service's engine: `SHOW plan_cache_mode` = "
            f"`{svc.plan_cache_mode}`; after {svc.repeats} runs of one tag listing its "
            f"{svc.statements} prepared statements with parameters had used "
            f"{svc.generic_plans} generic and {svc.custom_plans:,} custom plans)."
            if ok
            else f". **Check failed** on the service's engine: plan_cache_mode = "
            f"`{svc.plan_cache_mode}`, {svc.generic_plans} generic plans used."
        )
        + " Why: generic plans would cost "
        + (
            "; ".join(
                f"{row.case.title} ({row.case.user}) {_ms(row.median_ms)} ms / "
                f"{row.buffers:,} buffers instead of {_ms(row.case.median_ms)} ms / "
                f"{row.case.buffers:,}"
                for row in worse[:4]
            )
            if worse
            else "no more than custom plans for any statement measured"
        )
        + f"; with PostgreSQL's default (auto), {len(switched)} of the {len(report.generic)} "
        f"listings measured switched to a generic plan within {AUTO_EXECUTIONS} executions "
        "with the same values. Planning with the values costs at most "
        f"{_planning_ms(report):.2f} ms."
    )

    sizes = report.sizes
    ts_wins = all(row.ts.median_ms <= row.trgm.median_ms for row in report.search)
    bullets.append(
        (
            "**Search stays on tsvector + GIN** (faster than pg_trgm in every case). "
            if ts_wins
            else "**Search stays on tsvector + GIN** (for its word-prefix semantics). "
        )
        + "Big user, page 1, tsvector vs pg_trgm `ILIKE '%word%'`: "
        + "; ".join(
            f"{row.label} `{row.word}` ({row.ts_matches:,} matches) "
            f"{_ms(row.ts.median_ms)} vs {_ms(row.trgm.median_ms)} ms, "
            f"{row.ts.buffers:,} vs {row.trgm.buffers:,} buffers"
            for row in report.search
        )
        + f". Index size {sizes['ix_tasks_search_vector']} vs "
        f"{sizes['bench_tasks_text_trgm']}."
    )

    flagged = _flagged(report)
    if not flagged:
        bullets.append("**Not a range scan: none** of the big user's listings.")
    else:
        items = []
        for case in flagged:
            if case.key.startswith("tag"):
                _, links, share = _tag_share(report, case)
                why = (
                    f"a rare tag ({links:,} tasks, {share:.1%}): "
                    + (
                        f"the walk down the sort index probes each task's tags until {LIMIT} match"
                        if _walks_and_probes(case)
                        else describe(case)
                    )
                    + "; the cost follows the tag's rarity, not the page depth"
                )
            else:
                why = describe(case)
            items.append(f"{case.title}: {_cost(case)}, {case.examined:,} task rows read — {why}")
        bullets.append(
            "**Still not a range scan:** "
            + "; ".join(items)
            + ". See [below](#plans-that-are-still-not-a-range-scan)."
        )
    return bullets


def plan_block(add: Any, out: list[str], label: str, measured: Measured, names: Names) -> None:
    add(
        f"{label}: {_ms(measured.median_ms)} ms, {measured.buffers:,} buffers, planning "
        f"{measured.planning_ms:.2f} ms."
    )
    add("")
    add("```")
    out.extend(render_plan(measured.root, names))
    add("```")
    add("")


def write_report(report: Report, path: Path) -> None:
    seeded, names, m, cases = report.seed, Names(report.seed), report.machine, report.cases
    c, p = report.counts, report.probes
    common_tag, rare_tag = seeded.big_tags_by_use[0], seeded.big_tags_by_use[-1]
    out: list[str] = []
    add = out.append
    add("# Query plans of the task listing (PostgreSQL)")
    add("")
    add(f"- Date: {report.started:%Y-%m-%d %H:%M} UTC (the run took {report.seconds:.0f} s)")
    add(f"- Command: `{COMMAND}` ([bench/query_plans.py](../bench/query_plans.py))")
    add(f"- Commit: {report.commit} (`git rev-parse --short HEAD`)")
    add("")
    add("Generated; do not edit by hand, re-run the command.")
    add("")
    add("## Summary")
    add("")
    add(
        f"The shipped code, on a user with {BIG_TASKS:,} tasks (and users with "
        f"{SMALL_TASKS:,}). Times are medians of {RUNS} runs on a shared machine; buffers "
        "(8 kB pages touched) do not vary between runs and are the better measure."
    )
    add("")
    out.extend(f"- {bullet}" for bullet in summary(report))
    add("")

    add("## Setup")
    add("")
    add(
        f"- Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}, {m['memory']} RAM, {m['os']}; "
        f"load average at the end {m['load']} (other jobs shared the machine)."
    )
    add(
        f"- Server: {m['postgresql'].split(',')[0]}; throwaway cluster from "
        f"`tests/servers.py` (fsync off), shared_buffers={m['shared_buffers']}, "
        f"work_mem={m['work_mem']}, effective_cache_size={m['effective_cache_size']}, "
        f"random_page_cost={m['random_page_cost']}, jit={m['jit']}. "
        + (
            "Every page read was a buffer hit."
            if _reads(report) == 0
            else f"{_reads(report):,} pages were read from outside shared buffers."
        )
    )
    add(
        "- Schema: the Alembic migrations only (`taskapi.core.migrate.upgrade`); the search "
        "comparison adds one pg_trgm index at the very end."
    )
    add(
        f"- Seed (COPY, {seeded.seconds:.0f} s): {seeded.rows['users']:,} users, "
        f"{seeded.rows['tasks']:,} tasks, {seeded.rows['tags']:,} tags, "
        f"{seeded.rows['task_tags']:,} task-tag links. {SMALL_USERS} users with "
        f"{SMALL_TASKS:,} tasks, one *big* user with {BIG_TASKS:,}, created over "
        f"{HISTORY_DAYS} days and inserted in creation order. Titles of 2–7 words and "
        f"descriptions (60 %) of 5–30 words, drawn Zipf-like from {len(VOCABULARY)} words; "
        f"~30 % have due_at, ~40 % completed, priority none..urgent 30/25/22/15/8 %; "
        f"{TAGS_PER_USER} tags per user used Zipf-like, 0–3 tags per task; `VACUUM ANALYZE`."
    )
    add(
        f"- Big user's selectivities: dated {c['dated']:,}, pending {c['pending']:,}, "
        f"completed {c['completed']:,}, urgent {c['urgent']:,}; tag `{common_tag}` "
        f"{c[f'tag {common_tag}']:,}, tag `{rare_tag}` {c[f'tag {rare_tag}']:,}; search "
        f"`{p.common}` {p.counts[p.common]:,}, `{p.rare}` {p.counts[p.rare]:,}, "
        f"`{p.prefix}` (prefix) {p.counts[p.prefix]:,} tasks."
    )
    add(
        "- Method: `list_page` and `names_by_task` run on the service's own engine "
        "(`taskapi.core.db.create_engine`); the statements they execute are captured with "
        "the `do_orm_execute` event and compiled with literal values. Page size 20, so "
        f"LIMIT 21. `EXPLAIN (ANALYZE, BUFFERS, TIMING OFF)`: one warm-up, {RUNS} runs; "
        "*ms* is the median execution time, the plan is the median run's. A listing with a "
        "tag filter is two statements (tag lookup, then the page); its figures are the sum. "
        "*Task rows read*: rows fetched from `tasks`, including those a filter threw away. "
        "*before*: the statement the shipped one replaced, measured on the same data."
    )
    add("")

    add("## Page 1 vs deep page (big user)")
    add("")
    add(
        "| listing | page 1 ms | page 1 buffers | deep page | deep ms | deep buffers "
        "| deep task rows read | deep plan |"
    )
    add("|---|---:|---:|---|---:|---:|---:|---|")
    for label, first_key, deep_key in _pairs(report):
        first, deep = _case(cases, first_key), _case(cases, deep_key)
        where = deep.title.split(", ", 1)[1]
        add(
            f"| {label} | {_ms(first.median_ms)} | {first.buffers:,} | {where} | "
            f"{_ms(deep.median_ms)} | {deep.buffers:,} | {deep.examined:,} | {describe(deep)} |"
        )
    add("")

    add("## What we measured and changed")
    add("")
    write_tag_change(report, add, out, names)
    write_undated_change(report, add, out, names)
    write_generic(report, add, out, names)

    write_search(report, add)

    add("## Plans that are still not a range scan")
    add("")
    add(
        f"Flagged when a big-user page reads more than {EXAMINED_LIMIT:,} task rows, sorts "
        f"more than {EXAMINED_LIMIT:,} rows, scans a table sequentially, or walks pk_tasks "
        "(every user's rows) instead of an index that starts with user_id."
    )
    add("")
    flagged = _flagged(report)
    if not flagged:
        add("None.")
        add("")
    for case in flagged:
        add(
            f"- **{case.title}**: {_cost(case)}, {case.examined:,} task rows read, "
            f"{case.sorted_rows:,} rows sorted; `{case.shape}`."
        )
        add("")
        add(f"  {why_not_a_range(case, report)}")
        add("")
    for case in flagged[:1]:
        plan_block(add, out, f"Shipped plan, {case.title}", case.measured[-1], names)
        links_first = _alt(report, "alternative", case.key)
        if links_first is not None:
            label = "Alternative (not shipped), tag's links first"
            plan_block(add, out, label, links_first.measured[-1], names)

    add("## All queries")
    add("")
    add("| query | user | ms | rows | task rows read | buffers | plan |")
    add("|---|---|---:|---:|---:|---:|---|")
    for case in [*cases, *report.alternatives.values()]:
        add(
            f"| {case.title} | {case.user} | {_ms(case.median_ms)} | {case.rows} | "
            f"{case.examined:,} | {case.buffers:,} | {case.shape} |"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out).rstrip() + "\n", encoding="utf-8")


def _before_after_table(
    add: Any, report: Report, keys: Sequence[str], before_label: str, after_label: str
) -> None:
    add(
        f"| listing | user | {before_label} ms | buffers | task rows read | plan "
        f"| {after_label} ms | buffers | task rows read | plan |"
    )
    add("|---|---|---:|---:|---:|---|---:|---:|---:|---|")
    for key in keys:
        case, before = _case(report.cases, key), _alt(report, "before", key)
        if before is None:
            continue
        add(
            f"| {case.title} | {case.user} | {_ms(before.median_ms)} | {before.buffers:,} | "
            f"{before.examined:,} | {describe(before)} | {_ms(case.median_ms)} | "
            f"{case.buffers:,} | {case.examined:,} | {describe(case)} |"
        )
    add("")


def write_tag_change(report: Report, add: Any, out: list[str], names: Names) -> None:
    common_tag = report.seed.big_tags_by_use[0]
    keys = ["tag.p1", "tag.deep", "tag-rare.p1", "tag.p1.1k"]
    add("### 1. Tag filter by tag id (`_tag_ids`, `_has_tag`)")
    add("")
    add(
        "Shipped: `list_page` first resolves the tag names to ids (one probe of "
        "uq_tags_user_id_name_key; an unknown name returns an empty page) and filters with "
        "`EXISTS (SELECT 1 FROM task_tags WHERE task_tags.task_id = tasks.id AND "
        "task_tags.user_id = :user AND task_tags.tag_id = :tag_id)`. Before, the EXISTS "
        "joined `tags` and matched the name inside the subquery."
    )
    add("")
    _before_after_table(add, report, keys, "before (name join)", "shipped (id)")
    before, shipped = _alt(report, "before", "tag.p1"), _case(report.cases, "tag.p1")
    if before is None:
        return
    est, actual = _task_tags_estimate(before)
    links_first = _alt(report, "alternative", "tag.p1")
    before_deep = _alt(report, "before", "tag.deep") or before
    add(
        "Why: with the name inside the subquery the planner cannot tell which tag it "
        f"filters on; for `{common_tag}` it estimated {est:,} links where there are "
        f"{actual:,}, so its plan {describe(before)} (one pk_tasks probe per tagged task) "
        f"on page 1 as deep down ({_cost(before)} vs {_cost(before_deep)}). With the id as "
        "a value the "
        "planner uses the statistics of task_tags.tag_id: for a common tag it walks "
        "ix_tasks_user_id_created_at_id from the cursor and probes pk_task_tags per task "
        f"({shipped.examined:,} task rows read for page 1). For a rare tag neither form is "
        "a range scan (see [below](#plans-that-are-still-not-a-range-scan))."
        + (
            f" Reading a common tag's links first instead (measured as an alternative) "
            f"costs {_cost(links_first)}: {describe(links_first)}."
            if links_first is not None
            else ""
        )
    )
    add("")
    plan_block(add, out, f"Before, {shipped.title}", before.measured[-1], names)
    add(f"Shipped, {shipped.title} (the page statement, after the tag lookup):")
    add("")
    add("```sql")
    add(short_sql(shipped.measured[-1].sql, names))
    add("```")
    add("")
    plan_block(add, out, "Plan", shipped.measured[-1], names)


def write_undated_change(report: Report, add: Any, out: list[str], names: Names) -> None:
    keys = ["due.boundary", "due.deep", "due.deep.1k"]
    add("### 2. sort=due_at: the undated tail in index order (`_ordered`)")
    add("")
    add(
        "`list_page` reads a nullable sort as two range scans: the dated tasks, then the "
        "undated ones. Shipped: the undated phase is ordered by `_ordered(undated, sort)`, "
        "i.e. `ORDER BY due_at, id` like ix_tasks_user_id_due_at_id (every due_at there is "
        "NULL, so the order and the cursor are those of `id`). Before, it was ordered by "
        "`id` alone, which the (user_id, due_at, id) index does not provide under "
        "`due_at IS NULL` in PostgreSQL's eyes: the planner walked pk_tasks through every "
        "user's rows or read and sorted the user's undated tasks after the cursor."
    )
    add("")
    _before_after_table(add, report, keys, "before (by id)", "shipped (due_at, id)")
    for key, label in [("due.deep.1k", "1k user"), ("due.deep", "big user")]:
        before = _alt(report, "before", key)
        if before is not None:
            plan_block(add, out, f"Before, {label}", before.measured[-1], names)
    shipped = _case(report.cases, "due.deep")
    plan_block(add, out, f"Shipped, {shipped.title}", shipped.measured[-1], names)


def write_generic(report: Report, add: Any, out: list[str], names: Names) -> None:
    svc = report.service
    add("### 3. Custom plans for prepared statements (`core/db.py`)")
    add("")
    add(
        "SQLAlchemy's asyncpg dialect prepares every statement and caches it per "
        "connection, so one SQL text serves every user, word and tag. With PostgreSQL's "
        "default `plan_cache_mode=auto`, from the sixth execution a prepared statement may "
        "run a *generic* plan, made without the values, whenever its estimated cost is "
        "below the average of the custom plans so far. The service sets "
        "`plan_cache_mode=force_custom_plan` in asyncpg's `server_settings`, so every "
        "execution is planned with its values. Behind a transaction-mode pooler it sends "
        "no server settings and turns asyncpg's statement cache off instead: each statement "
        "is prepared afresh and so also planned with its values."
    )
    add("")
    add(
        f"Check on the service's engine: `SHOW plan_cache_mode` = `{svc.plan_cache_mode}`; "
        f"after {svc.repeats} runs of the `tag={report.seed.big_tags_by_use[0]}` listing, the "
        f"connection's {svc.statements} prepared statements with parameters had used "
        f"{svc.generic_plans} "
        f"generic and {svc.custom_plans:,} custom plans (the most used one "
        f"{svc.max_custom_plans} custom plans)."
    )
    add("")
    add(
        "What generic plans would cost: the statements as asyncpg sends them, "
        f"`EXPLAIN EXECUTE` under `force_generic_plan`. *auto*: generic plans PostgreSQL "
        f"picked by itself in {AUTO_EXECUTIONS} executions with the same values under the "
        "default mode (per statement)."
    )
    add("")
    add(
        "| query | user | custom ms | custom buffers | generic ms | generic buffers "
        "| est. cost custom / generic | auto | generic plan |"
    )
    add("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for row in report.generic:
        costs = " + ".join(
            f"{a.cost:.0f} / {b.cost:.0f}"
            for a, b in zip(row.case.measured, row.generic, strict=True)
        )
        add(
            f"| {row.case.title} | {row.case.user} | {_ms(row.case.median_ms)} | "
            f"{row.case.buffers:,} | {_ms(row.median_ms)} | {row.buffers:,} | {costs} | "
            f"{' + '.join(str(n) for n in row.auto_generic)} | "
            f"{' ; '.join(plan_shape(g.root) for g in row.generic)} |"
        )
    add("")
    worse = [row for row in report.generic if row.buffers > 10 * row.case.buffers + 100]
    worse.sort(key=lambda row: row.median_ms, reverse=True)
    add(
        (
            "Generic plans are much worse for: "
            + "; ".join(
                f"{r.case.title} ({r.case.user}): {_ms(r.median_ms)} ms instead of "
                f"{_ms(r.case.median_ms)}"
                for r in worse
            )
            + ". Without the values the planner cannot tell a common word from a rare one, "
            "a large tag from a small one or a big user from a small one, so it picks one "
            "plan for all: collect every match through a bitmap, then sort. That suits a "
            "rare word; for a common word or a large tag it reads every match instead of "
            "stopping after 21 rows. And a statement whose first executions had expensive "
            "custom plans (a rare word, a small user) makes the generic plan look cheap. "
            if worse
            else "Generic plans were no worse here. "
        )
        + f"Planning with the values took at most {_planning_ms(report):.2f} ms for any "
        "statement measured, which is what force_custom_plan costs per execution."
    )
    add("")
    if worse:
        row = worse[0]
        plan_block(
            add, out, f"Generic plan, {row.case.title} ({row.case.user})", row.generic[-1], names
        )


def write_search(report: Report, add: Any) -> None:
    sizes = report.sizes
    add("## Search: tsvector + GIN (shipped) vs pg_trgm")
    add("")
    add(
        "Big user, page 1, sort=-created_at. pg_trgm: `CREATE EXTENSION pg_trgm; CREATE INDEX "
        "... USING gin ((title || ' ' || description) gin_trgm_ops)` (built in "
        f"{report.trgm_build_s:.1f} s), queried with `(title || ' ' || description) ILIKE "
        "'%word%'`. Sizes: " + ", ".join(f"{k} {v}" for k, v in sizes.items()) + "."
    )
    add("")
    add(
        "| query | matches (tsvector / ILIKE) | tsvector ms | tsvector buffers | tsvector plan "
        "| pg_trgm ms | pg_trgm buffers | pg_trgm plan |"
    )
    add("|---|---:|---:|---:|---|---:|---:|---|")
    for row in report.search:
        add(
            f"| {row.label} `{row.word}` | {row.ts_matches:,} / {row.trgm_matches:,} | "
            f"{_ms(row.ts.median_ms)} | {row.ts.buffers:,} | {plan_shape(row.ts.root)} | "
            f"{_ms(row.trgm.median_ms)} | {row.trgm.buffers:,} | {plan_shape(row.trgm.root)} |"
        )
    add("")
    slower = [row.label for row in report.search if row.trgm.median_ms < row.ts.median_ms]
    add(
        (
            "tsvector was as fast or faster in every case"
            if not slower
            else f"pg_trgm was faster for {', '.join(slower)}"
        )
        + ", so the service keeps tsvector + GIN. Where both plans have the same shape, `@@` "
        "on the stored vector is cheaper per row than `ILIKE` on the concatenated text; "
        "where the trigram index is used, every candidate it returns is rechecked against "
        f"the text. The trigram index is {sizes['bench_tasks_text_trgm']} against "
        f"{sizes['ix_tasks_search_vector']} for the tsvector GIN (the stored vectors add "
        f"{sizes['search_vector values']} to the heap). `ILIKE '%word%'` also means "
        "something else: it matches inside words (substring, not the documented word-prefix "
        "match), does not split multi-word queries, and a query shorter than 3 characters "
        "gets no index. pg_trgm would only pay off for typo-tolerant (`%` similarity) or "
        "substring search, which the API does not offer."
    )
    add("")


def git_commit() -> str:
    """``git rev-parse --short HEAD``, and which top-level paths differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    changed = sorted({line[3:].split("/", 1)[0] for line in status.splitlines() if line})
    if changed:
        return f"`{head}`, with uncommitted changes in: {', '.join(changed)}"
    return f"`{head}`"


def main() -> int:
    started = datetime.now(UTC)
    clock = time.perf_counter()
    log("starting PostgreSQL")
    server = start_postgres(fast=True, settings=SERVER_SETTINGS)
    try:
        log(f"PostgreSQL on port {server.port} (pid {server.pid}); migrating")
        upgrade(server.url(driver="asyncpg"))  # runs its own event loop: not inside ours
        report = asyncio.run(run(server))
        report.started = started
        report.seconds = time.perf_counter() - clock
        report.commit = git_commit()
        write_report(report, OUTPUT)
        log(f"wrote {OUTPUT.relative_to(ROOT)} in {report.seconds:.0f}s")
    finally:
        server.stop()  # by PID; also removes the cluster's directory
    return 0


if __name__ == "__main__":
    sys.exit(main())
