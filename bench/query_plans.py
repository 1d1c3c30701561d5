"""EXPLAIN (ANALYZE, BUFFERS) of the SQL the task listing runs, on a seeded PostgreSQL.

Run from the repository root::

    .venv/bin/python -m bench.query_plans

It starts a throwaway PostgreSQL (``tests/servers.py``), migrates it with Alembic,
seeds 100 users x 1,000 tasks plus one user with 200,000 tasks (COPY, not the API),
captures the statements the real repository functions execute (``list_page``,
``names_by_task``), compiles them with literal values and measures them. It then
compares the shipped tsvector search with a pg_trgm index, and writes
``docs/query-plans.md``. Nothing in ``src/`` is changed; the pg_trgm index exists only
in the throwaway database.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import re
import statistics
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
from sqlalchemy import Select, exists, func, text
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session
from sqlmodel import col
from tests.servers import PostgresServer, start_postgres

from taskapi.core.migrate import upgrade
from taskapi.tags import repository as tag_repository
from taskapi.tags.models import TaskTag, tag_key
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
_TASK_COLUMNS = re.compile(r"SELECT tasks\.id, tasks\.user_id, .*?tasks\.version")


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
        self.alternatives: dict[str, Case] = {}  # measured rewrites, by the case they replace
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
    ) -> list[Task]:
        """Run the real ``list_page`` once, then measure each statement it executed."""
        self.capture.take()
        rows = await task_repository.list_page(
            self.session, user_id, filters or TaskFilters(), sort, LIMIT, after
        )
        self.cases.append(await self.measure(key, title, user_id, self.capture.take()))
        return rows

    async def tags_of_page(
        self, key: str, title: str, user_id: uuid.UUID, tasks: list[Task]
    ) -> None:
        self.capture.take()
        await tag_repository.names_by_task(self.session, user_id, [t.id for t in tasks])
        self.cases.append(await self.measure(key, title, user_id, self.capture.take()))

    async def alternative(
        self, replaces: str, title: str, user_id: uuid.UUID, statements: Sequence[Any]
    ) -> None:
        title = f"{_case(self.cases, replaces).title}, rewritten: {title}"
        case = await self.measure(f"alt.{replaces}", title, user_id, statements)
        self.alternatives[replaces] = case

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
# rewrites worth measuring (in the throwaway database only; src/ is not changed)
# --------------------------------------------------------------------------------------


def tag_by_id(
    user_id: uuid.UUID, tag_id: uuid.UUID, sort: TaskSort, after: Keyset | None
) -> Select[Task]:
    """The tag filter with the tag id resolved beforehand: the planner then knows the tag."""
    statement = task_repository.owned(user_id).where(
        exists().where(
            col(TaskTag.task_id) == col(Task.id),
            col(TaskTag.user_id) == user_id,
            col(TaskTag.tag_id) == tag_id,
        )
    )
    if after is not None:
        statement = statement.where(task_repository._after(sort, after))
    return task_repository._ordered(statement, sort).limit(LIMIT)


def undated_in_index_order(user_id: uuid.UUID, sort: TaskSort, after: Keyset) -> Select[Task]:
    """The undated phase ordered by (due_at, id) as the index is, not by id alone."""
    statement = task_repository.owned(user_id).where(col(Task.due_at).is_(None))
    if after.value is None:
        statement = statement.where(
            col(Task.id) < after.id if sort.descending else col(Task.id) > after.id
        )
    return task_repository._ordered(statement, sort).limit(LIMIT)


# --------------------------------------------------------------------------------------
# generic plans: what a prepared statement may switch to after five executions
# --------------------------------------------------------------------------------------


@dataclass
class GenericRow:
    case: Case
    generic: list[Measured]

    @property
    def median_ms(self) -> float:
        return sum(m.median_ms for m in self.generic)

    @property
    def buffers(self) -> int:
        return sum(m.buffers for m in self.generic)

    @property
    def switches(self) -> bool:
        """Whether the generic plan looks cheaper than the custom one for these values."""
        return sum(m.cost for m in self.generic) < sum(m.cost for m in self.case.measured)


async def generic_plan(conn: asyncpg.Connection, measured: Measured) -> Measured:
    """EXPLAIN EXECUTE of the statement as asyncpg sends it, under force_generic_plan."""
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
    await conn.execute(f"PREPARE bench_generic AS {compiled}")
    try:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        return await explain(conn, f"EXECUTE bench_generic({', '.join(values)})", measured.phase)
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
    machine: dict[str, str] = field(default_factory=dict)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0


async def run(server: PostgresServer) -> Report:
    conn: asyncpg.Connection = await asyncpg.connect(server.dsn)
    engine: AsyncEngine = create_async_engine(server.url(driver="asyncpg"))
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

    log("rewrites (measured only)")
    tag_ids = {
        name: await bench.conn.fetchval(
            "SELECT id FROM tags WHERE user_id = $1 AND name_key = $2", big, tag_key(name)
        )
        for name in (common_tag, rare_tag)
    }
    tag_cases: list[tuple[str, str, Keyset | None]] = [
        ("tag.p1", common_tag, None),
        ("tag.deep", common_tag, tag_deep),
        ("tag-rare.p1", rare_tag, None),
    ]
    for key, name, tag_after in tag_cases:
        statement = tag_by_id(big, tag_ids[name], by_created, tag_after)
        await bench.alternative(key, "tag id resolved first", big, [statement])
    for key, user_id, after in [("due.deep", big, due_deep), ("due.deep.1k", small, due_deep_1k)]:
        statement = undated_in_index_order(user_id, by_due, after)
        await bench.alternative(key, "undated ordered by (due_at, id)", user_id, [statement])

    log("generic plans (prepared statements)")
    generic: list[GenericRow] = []
    for key in [
        "created.p1", "pending.p1", "tag.p1", "q-common.p1", "q-rare.p1", "q-prefix.p1",
        "q-common.p1.1k", "due.deep", "tags.page",
    ]:  # fmt: skip
        case = _case(bench.cases, key)
        plans = [await generic_plan(bench.conn, m) for m in case.measured]
        generic.append(GenericRow(case, plans))
        log(f"  {case.title} ({case.user}): generic {generic[-1].median_ms:.2f} ms")

    search_rows, sizes, build_s = await compare_search(bench.conn, big, words, probes.counts)
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
    )


async def compare_search(
    conn: asyncpg.Connection, user_id: uuid.UUID, words: dict[str, str], counts: dict[str, int]
) -> tuple[list[SearchRow], dict[str, str], float]:
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
        shipped = task_repository._filtered(
            owned, user_id, TaskFilters(text=word), [], "postgresql"
        )
        ts_statement = task_repository._ordered(shipped, by_created).limit(LIMIT)
        ilike = text("(tasks.title || ' ' || tasks.description) ILIKE :pattern").bindparams(
            pattern=f"%{word}%"
        )
        trgm_statement = task_repository._ordered(owned.where(ilike), by_created).limit(LIMIT)
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
    sql = _TASK_COLUMNS.sub("SELECT tasks.*", sql)
    return "\n".join(line.rstrip() for line in names(sql).splitlines() if line.strip())


def plan_shape(node: dict[str, Any]) -> str:
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
    """Estimated and actual rows of the first scan of task_tags in the plan."""
    for node in walk(case.measured[0].root):
        if node.get("Relation Name") == "task_tags":
            return int(node["Plan Rows"]), int(node["Actual Rows"])
    return 0, 0


_TAG_REWRITE = (
    "EXISTS (SELECT 1 FROM task_tags WHERE task_tags.task_id = tasks.id "
    "AND task_tags.user_id = :user AND task_tags.tag_id = :tag_id)"
)


def _alternatives(cases: Sequence[Case], report: Report) -> str:
    measured = [
        f"{case.title}: {_cost(report.alternatives[case.key])} (now {_cost(case)})"
        for case in cases
        if case.key in report.alternatives
    ]
    return " Measured here, not applied: " + "; ".join(measured) + "." if measured else ""


def tag_advice(cases: Sequence[Case], report: Report) -> str:
    estimate, actual = _task_tags_estimate(cases[0])
    no_gain = [
        case.title
        for case in cases
        if case.key in report.alternatives
        and report.alternatives[case.key].buffers > case.buffers / 3
    ]
    caveat = (
        f" No gain for {', '.join(no_gain)}: a rare tag costs about one index probe per "
        "task walked either way (bounded by the tag's rarity, not by the page)."
        if no_gain
        else ""
    )
    return (
        "Cause: the EXISTS joins `tags` inside the subquery, so the planner does not know "
        f"which tag it filters on; it estimates the tag's links at {estimate:,} rows (actual "
        f"{actual:,}), fetches every tagged task through pk_tasks and sorts them: the cost "
        "is the tag's size, on page 1 as deep down. Suggestion (query rewrite in "
        "`_has_tag`): resolve the names to tag ids first (one lookup on "
        "uq_tags_user_id_name_key; an unknown name means an empty page) and filter with "
        f"`{_TAG_REWRITE}`. With the id known, the planner uses the statistics of "
        "task_tags.tag_id: for a common tag it walks ix_tasks_user_id_created_at_id and "
        "probes pk_task_tags per row." + _alternatives(cases, report) + caveat + " The rewrite "
        "needs a custom plan (see *Prepared statements*). No index turns a tag filter into a "
        "range scan short of copying created_at into task_tags."
    )


def undated_advice(cases: Sequence[Case], report: Report) -> str:
    small = _case(report.cases, "due.deep.1k")
    small_alt = report.alternatives.get("due.deep.1k")
    return (
        "Cause: the undated phase of `list_page` orders by `id` alone, and `due_at IS NULL` "
        "does not let PostgreSQL use the id order inside ix_tasks_user_id_due_at_id. It "
        "either walks pk_tasks through every user's tasks, filtering on user_id (these plans; "
        "cheap here only because this user owns two thirds of the table), or reads and sorts "
        f"all of the user's undated tasks after the cursor (the 1k user: {small.sorted_rows:,} "
        f"rows sorted, {_cost(small)}"
        + (f"; rewritten {_cost(small_alt)}" if small_alt else "")
        + "). Suggestion (query rewrite): order the undated phase with "
        "`_ordered(undated, sort)`, i.e. `ORDER BY due_at, id` (`due_at DESC, id DESC` when "
        "descending). Every due_at there is NULL, so the order and the cursor are unchanged, "
        "and the plan becomes a range scan of ix_tasks_user_id_due_at_id from (user_id, NULL, "
        "cursor id)." + _alternatives(cases, report)
    )


def other_advice(cases: Sequence[Case], report: Report) -> str:
    return (
        "No index serves both the filter and the sort. Suggestion: a partial index "
        "`(user_id, created_at, id) WHERE <filter>` if the filter is frequent in requests "
        "and selective." + _alternatives(cases, report)
    )


PROBLEMS = [
    ("tag", "Tag filter (`_has_tag`)", tag_advice),
    ("due", "sort=due_at, undated tail", undated_advice),
    ("", "Other", other_advice),
]


def search_recommendation(report: Report) -> str:
    ts_wins = [row for row in report.search if row.ts.median_ms <= row.trgm.median_ms]
    verdicts = "; ".join(
        f"{row.label} `{row.word}`: tsvector {_ms(row.ts.median_ms)} ms / "
        f"{row.ts.buffers:,} buffers vs pg_trgm {_ms(row.trgm.median_ms)} ms / "
        f"{row.trgm.buffers:,} buffers"
        for row in report.search
    )
    sizes = report.sizes
    if len(ts_wins) == len(report.search):
        head = "**Recommendation: keep tsvector + GIN.** It is as fast or faster in every case"
    else:
        head = (
            "**Recommendation: keep tsvector + GIN** for its semantics, although pg_trgm was "
            "faster in " + ", ".join(r.label for r in report.search if r not in ts_wins)
        )
    return (
        f"{head} ({verdicts}). With the same plan shape, `@@` on the stored vector is "
        "cheaper per row than `ILIKE` on the concatenated text; where the trigram index is "
        "used, every candidate it returns must be rechecked against the text. The trigram "
        f"index is {sizes['bench_tasks_text_trgm']} against {sizes['ix_tasks_search_vector']} "
        f"for the tsvector GIN (the stored vectors add {sizes['search_vector values']} to "
        "the heap). `ILIKE '%word%'` also changes the meaning: it matches inside words "
        "(substring, not the documented word-prefix match), has no word splitting for "
        "multi-word queries, and a query shorter than 3 characters gets no index at all. "
        "pg_trgm would only pay off for typo-tolerant (`%` similarity) or substring search, "
        "which the API does not offer."
    )


def write_report(report: Report, path: Path) -> None:
    seeded, names, m, cases = report.seed, Names(report.seed), report.machine, report.cases
    c, p = report.counts, report.probes
    common_tag, rare_tag = seeded.big_tags_by_use[0], seeded.big_tags_by_use[-1]
    out: list[str] = []
    add = out.append
    add("# Query plans of the task listing (PostgreSQL)")
    add("")
    add(
        f"Generated {report.started:%Y-%m-%d %H:%M} UTC by `{COMMAND}` "
        f"([bench/query_plans.py](../bench/query_plans.py)) in {report.seconds:.0f} s. "
        "Do not edit by hand: re-run the script."
    )
    add("")
    add("## Setup")
    add("")
    add(
        f"- Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}, {m['memory']} RAM, {m['os']}; "
        f"load average at the end {m['load']} (other jobs shared the machine: times are "
        "noisy, buffer counts are not)."
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
        "- Method: the statements are the ones the repository executes: `list_page` and "
        "`names_by_task` run against the database and their statements are captured with "
        "the `do_orm_execute` event, then compiled with literal values. Page size 20, so "
        f"LIMIT 21. `EXPLAIN (ANALYZE, BUFFERS, TIMING OFF)`: one warm-up, {RUNS} runs; "
        "*ms* is the median execution time, the plan is the median run's. *Task rows read*: "
        "rows fetched from `tasks`, including those a filter threw away. *Buffers*: shared "
        "8 kB pages touched (hit + read)."
    )
    add("")

    add("## Page 1 vs deep page (big user, 200,000 tasks)")
    add("")
    add(
        "| listing | page 1 ms | page 1 buffers | deep page | deep ms | deep buffers "
        "| deep task rows read |"
    )
    add("|---|---:|---:|---|---:|---:|---:|")
    pairs = [
        ("sort=-created_at (default)", "created.p1", "created.deep"),
        ("sort=due_at, dated range", "due.p1", "due.deep-dated"),
        ("sort=due_at, dated → undated", "due.p1", "due.boundary"),
        ("sort=due_at, undated tail", "due.p1", "due.deep"),
        ("sort=priority", "priority.p1", "priority.deep"),
        ("sort=title", "title.p1", "title.deep"),
        ("status=pending", "pending.p1", "pending.deep"),
        (f"tag={common_tag}", "tag.p1", "tag.deep"),
        (f"q={p.common}", "q-common.p1", "q-common.deep"),
    ]
    for label, first_key, deep_key in pairs:
        first, deep = _case(cases, first_key), _case(cases, deep_key)
        where = deep.title.split(", ", 1)[1]
        add(
            f"| {label} | {_ms(first.median_ms)} | {first.buffers:,} | {where} | "
            f"{_ms(deep.median_ms)} | {deep.buffers:,} | {deep.examined:,} |"
        )
    add("")
    grows = [
        label
        for label, first_key, deep_key in pairs
        if _case(cases, deep_key).buffers > 3 * _case(cases, first_key).buffers + 20
    ]
    add(
        "Every keyset page starts its scan at the cursor, so depth costs nothing: a deep "
        "page touches as many buffers as page 1"
        + (f", except: {', '.join(grows)}." if grows else ".")
        + f" The tag filter is as slow on page 1 as deep down ({_cost(_case(cases, 'tag.p1'))}):"
        " its cost is the tag's size, see below."
    )
    add("")

    add("## Search: tsvector + GIN (shipped) vs pg_trgm")
    add("")
    add(
        "Big user, page 1, sort=-created_at. pg_trgm: `CREATE EXTENSION pg_trgm; CREATE INDEX "
        "... USING gin ((title || ' ' || description) gin_trgm_ops)` (built in "
        f"{report.trgm_build_s:.1f} s), queried with `(title || ' ' || description) ILIKE "
        "'%word%'`. Sizes: " + ", ".join(f"{k} {v}" for k, v in report.sizes.items()) + "."
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
    add(f"ms: median of {RUNS} runs. " + search_recommendation(report))
    add("")

    add("## Plans that are not an index range scan (big user)")
    add("")
    add(
        f"Flagged when a page reads more than {EXAMINED_LIMIT:,} task rows, sorts more than "
        f"{EXAMINED_LIMIT:,} rows, scans a table sequentially, or walks pk_tasks (every "
        "user's rows) instead of an index that starts with user_id. Recommendations only: "
        "nothing was applied to the code or the migrations."
    )
    add("")
    flagged = [case for case in cases if case.user == "big" and case.not_a_range_scan]
    if not flagged:
        add("None.")
        add("")
    for prefix, label, advice in PROBLEMS:
        group = [case for case in flagged if case.key.startswith(prefix)]
        flagged = [case for case in flagged if case not in group]
        if not group:
            continue
        add(f"- **{label}**. Affected:")
        for case in group:
            add(
                f"  - {case.title}: {_cost(case)}, {case.examined:,} task rows read, "
                f"{case.sorted_rows:,} rows sorted; `{case.shape}`"
            )
        add(f"\n  {advice(group, report)}")
        add("")
    add("## Prepared statements: generic plans")
    add("")
    add(
        "SQLAlchemy's asyncpg dialect prepares every statement and caches it per connection, "
        "so one SQL text serves every user, word and tag. After five executions PostgreSQL "
        "may switch to a *generic* plan (made without the values) when its estimated cost is "
        "below the average custom plan's. The statements as asyncpg sends them, forced "
        "to a generic plan (`plan_cache_mode = force_generic_plan`, `EXPLAIN EXECUTE`); "
        "*switches*: the generic plan's estimated cost is below the custom plan's for these "
        "values, so repeating this very request makes PostgreSQL switch:"
    )
    add("")
    add(
        "| query | user | custom ms | custom buffers | generic ms | generic buffers "
        "| est. cost custom / generic | switches | generic plan |"
    )
    add("|---|---|---:|---:|---:|---:|---:|---|---|")
    for g_row in report.generic:
        costs = " + ".join(
            f"{a.cost:.0f} / {b.cost:.0f}"
            for a, b in zip(g_row.case.measured, g_row.generic, strict=True)
        )
        add(
            f"| {g_row.case.title} | {g_row.case.user} | {_ms(g_row.case.median_ms)} | "
            f"{g_row.case.buffers:,} | {_ms(g_row.median_ms)} | {g_row.buffers:,} | {costs} | "
            f"{'yes' if g_row.switches else 'no'} | "
            f"{' ; '.join(plan_shape(g.root) for g in g_row.generic)} |"
        )
    add("")
    worse = [row for row in report.generic if row.buffers > 10 * row.case.buffers + 100]
    planning = max(m.planning_ms for case in cases for m in case.measured)
    if worse:
        add(
            "Generic plans are much worse for: "
            + "; ".join(f"{r.case.title} ({r.case.user}): {_ms(r.median_ms)} ms" for r in worse)
            + ". A generic plan's cost that is lower than the average custom cost (a mix of "
            "rare searches, large tags and small users easily gets there) makes the switch "
            "happen for every later execution on that connection. **Suggestion** (not "
            "applied): add `plan_cache_mode=force_custom_plan` to the connection's "
            "`server_settings` in `core/db.py` (next to `statement_timeout`), so every "
            "execution is planned with its values; planning took at most "
            f"{planning:.2f} ms for the statements above."
        )
    else:
        add("Generic plans were no worse here.")
    add("")

    add("## All queries")
    add("")
    add("| query | user | ms | rows | task rows read | buffers | plan |")
    add("|---|---|---:|---:|---:|---:|---|")
    for case in [*cases, *report.alternatives.values()]:
        add(
            f"| {case.title} | {case.user} | {_ms(case.median_ms)} | {case.rows} | "
            f"{case.examined:,} | {case.buffers:,} | {case.shape} |"
        )
    add("")
    add("## Statements and plans")
    add("")
    sections: list[tuple[str, Measured]] = []
    for case in [*cases, *report.alternatives.values()]:
        sections += [(f"{case.title} ({case.user} user)", m) for m in case.measured]
    for row in report.search:
        sections.append((f"pg_trgm: {row.label} word `{row.word}` (big user)", row.trgm))
    for g_row in report.generic:
        sections += [
            (f"generic plan: {g_row.case.title} ({g_row.case.user} user)", g) for g in g_row.generic
        ]
    for title, measured in sections:
        phase = f", {measured.phase}" if measured.phase and measured.phase not in title else ""
        add(f"### {title}{phase}")
        add("")
        times = ", ".join(_ms(t) for t in measured.times)
        add(
            f"{_ms(measured.median_ms)} ms median (runs: {times}); planning "
            f"{measured.planning_ms:.2f} ms; {measured.buffers:,} buffers."
        )
        add("")
        if not measured.sql.startswith("EXECUTE"):
            add("```sql")
            add(short_sql(measured.sql, names))
            add("```")
            add("")
        add("```")
        out.extend(render_plan(measured.root, names))
        add("```")
        add("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out).rstrip() + "\n", encoding="utf-8")


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
        write_report(report, OUTPUT)
        log(f"wrote {OUTPUT.relative_to(ROOT)} in {report.seconds:.0f}s")
    finally:
        server.stop()  # by PID; also removes the cluster's directory
    return 0


if __name__ == "__main__":
    sys.exit(main())
