"""Synthetic users, tags, tasks and task-tag links for the load benchmark (``bench.run``).

Rows go straight into the tables (COPY on PostgreSQL, one ``executemany`` transaction on
SQLite), never through the API. Every account has the same password, hashed once with
the service's own Argon2id hasher at its production cost.

Ids are derived from numbers, so that pgbench can compute the same ones in SQL without a
lookup table: ``bench_uuid("t", key)`` is the MD5 of ``"t<key>"`` with the version-4 and
variant bits set, which PostgreSQL computes as :data:`SQL_UUID`. User ``u`` is
``bench_uuid("u", u)``; its task number ``t`` is ``bench_uuid("t", u * TASK_KEY_STRIDE + t)``.
User 0 is the *big* user, users 1..N the regular ones, user N+1 the *tiny* one (100 tasks).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from taskapi.core.config import Settings
from taskapi.core.security import PasswordHasher
from taskapi.tags.models import tag_key
from taskapi.users.repository import email_key

PASSWORD = "bench-password-2026"  # noqa: S105 (the seeded accounts' shared password)
TASK_KEY_STRIDE = 1_000_000
HISTORY_DAYS = 3 * 365
TINY_TASKS = 100
DEEP_ROW = 100_000
SEARCH_SHARE = 0.02  # the search word: closest to this share of the big user's tasks
ID_SAMPLE = 20  # per user: tasks to read (get), tasks to patch
COMPLETE_SAMPLE = 10  # per user: pending, non-recurring tasks to complete and reopen
# PostgreSQL's spelling of bench_uuid(kind, key) for pgbench: ``kind`` and ``key`` are
# substituted with a literal and a pgbench variable.
SQL_UUID = "overlay(overlay(md5('{kind}' || {key}) placing '4' from 13) placing '8' from 17)::uuid"

_WORDS = """
call email review update plan meeting report send check fix buy book prepare schedule
write read finish draft team project budget client order pay invoice follow weekly
monthly notes slides agenda doc list car home office kitchen groceries milk bread eggs
coffee dentist doctor appointment gym run walk clean laundry trash garden water plants
renew insurance passport tax return bank transfer refund receipt expense travel flight
hotel train ticket pack gift birthday party dinner lunch mom dad kids school homework
pickup repair replace install configure deploy release test bug backlog sprint retro
standup demo design mockup feedback contract proposal quote estimate vendor supplier
shipment delivery package store online account password backup server database
migration upgrade patch security audit policy training onboarding interview candidate
offer salary performance goal quarterly annual summary dashboard metrics survey research
market pricing campaign newsletter blog post website landing page copy translate print
scan sign archive organize donate sell recycle paint fence roof lawn mow leaves snow
heater filter plumber electrician landlord lease rent utilities internet phone bill
cancel subscription membership license registration inspection oil tires brakes wash
vacuum windows sheets closet garage attic basement tools ladder drill batteries charger
cable monitor keyboard laptop printer ink paper envelopes stamps neighbor friend cousin
wedding anniversary graduation picnic camping hiking cycling swimming yoga tennis soccer
practice concert museum theater library volunteer charity committee minutes vote
warranty claim appeal complaint reply ledger payroll timesheet mileage grant tuition
"""
VOCABULARY = list(dict.fromkeys(_WORDS.split()))
ZIPF_EXPONENT = 1.0
TAG_NAMES = [
    "work", "home", "errands", "finance", "health", "family", "shopping", "urgent",
    "someday", "reading", "travel", "garden", "car", "school", "kids", "fitness",
    "meetings", "email", "calls", "admin",
]  # fmt: skip
TAG_RANKS = range(len(TAG_NAMES))
PRIORITY_RANKS = range(5)
COMMON_TAG = TAG_NAMES[0]  # drawn most often: every user has it on about a third of its tasks
TASK_COLUMNS = [
    "id", "user_id", "title", "description", "completed", "completed_at", "priority",
    "due_at", "recurrence", "created_at", "updated_at", "next_task_id", "version",
]  # fmt: skip
USER_COLUMNS = ["id", "email", "email_key", "display_name", "password_hash", "created_at"]
USER_COLUMNS += ["updated_at"]
TAG_COLUMNS = ["id", "user_id", "name", "name_key", "created_at"]
LINK_COLUMNS = ["task_id", "tag_id", "user_id"]


@dataclass(frozen=True)
class Sizes:
    users: int
    tasks_per_user: int
    big_tasks: int
    tiny_tasks: int = TINY_TASKS

    def describe(self) -> str:
        return (
            f"{self.users} users × {self.tasks_per_user:,} tasks, one user with "
            f"{self.big_tasks:,} tasks, one with {self.tiny_tasks}"
        )


FULL = Sizes(users=100, tasks_per_user=1_000, big_tasks=200_000)
SMALL = Sizes(users=10, tasks_per_user=100, big_tasks=2_000)


def bench_uuid(kind: str, key: int) -> uuid.UUID:
    digest = hashlib.md5(f"{kind}{key}".encode(), usedforsecurity=False).hexdigest()
    return uuid.UUID(digest[:12] + "4" + digest[13:16] + "8" + digest[17:])


def user_uuid(number: int) -> uuid.UUID:
    return bench_uuid("u", number)


def task_uuid(user_number: int, task_number: int) -> uuid.UUID:
    return bench_uuid("t", user_number * TASK_KEY_STRIDE + task_number)


def email_of(number: int) -> str:
    return f"user{number}@bench.example"


@dataclass
class BenchUser:
    number: int
    id: uuid.UUID
    email: str
    task_count: int
    get_ids: list[uuid.UUID] = field(default_factory=list)
    patch_ids: list[uuid.UUID] = field(default_factory=list)
    complete_ids: list[uuid.UUID] = field(default_factory=list)


@dataclass
class SeedInfo:
    sizes: Sizes
    users: list[BenchUser]  # the regular users, 1..N
    big: BenchUser
    tiny: BenchUser
    tag: str
    search_word: str
    search_hits: dict[str, int]  # "big"/"tiny" -> tasks of that user containing the word
    deep_depth: int  # the deep page starts at this 0-based row of the big user's listing
    deep_keyset: tuple[datetime, uuid.UUID]  # (created_at, id) of the row before it
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Rows:
    users: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[Any, ...]] = field(default_factory=list)
    tasks: list[tuple[Any, ...]] = field(default_factory=list)
    links: list[tuple[Any, ...]] = field(default_factory=list)


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _spread(items: Sequence[uuid.UUID], count: int) -> list[uuid.UUID]:
    """Up to ``count`` items evenly spread over ``items``."""
    if len(items) <= count:
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


class Generator:
    """Deterministic rows: titles of 2-7 words and descriptions (60 %) of 5-30 words drawn
    Zipf-like from a vocabulary, 40 % completed, 30 % with a due date, 5 % recurring,
    priorities none..urgent 30/25/22/15/8 %, 0-3 of the user's 20 tags (Zipf-like)."""

    def __init__(self, seed: int, now: datetime, password_hash: str) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.password_hash = password_hash
        self.word_cum = _cumulative([1 / (r + 1) ** ZIPF_EXPONENT for r in range(len(VOCABULARY))])
        self.tag_cum = _cumulative([1 / (r + 1) ** 1.2 for r in range(len(TAG_NAMES))])
        self.rows = Rows()

    def add_user(self, number: int, task_count: int, doc_freq: Counter[str] | None) -> BenchUser:
        rng = self.rng
        user = BenchUser(number, user_uuid(number), email_of(number), task_count)
        joined = self.now - timedelta(days=HISTORY_DAYS + 1)
        key = email_key(user.email)
        self.rows.users.append(
            (user.id, user.email, key, f"User {number}", self.password_hash, joined, joined)
        )
        tag_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in TAG_NAMES]
        for tag_id, name in zip(tag_ids, TAG_NAMES, strict=True):
            self.rows.tags.append((tag_id, user.id, name.capitalize(), tag_key(name), joined))
        start = self.now - timedelta(days=HISTORY_DAYS)
        step = HISTORY_DAYS * 86_400 / task_count
        readable: list[uuid.UUID] = []
        patchable: list[uuid.UUID] = []
        completable: list[uuid.UUID] = []
        # Words drawn in one go (~15 per task on average), then dealt out; reused from the
        # start in the unlikely case they run short.
        stream = rng.choices(VOCABULARY, cum_weights=self.word_cum, k=task_count * 20 + 40)
        used = 0
        for index in range(task_count):
            task_id = task_uuid(number, index)
            created = start + timedelta(seconds=(index + rng.random()) * step)
            title_count = rng.randint(2, 7)
            body_count = rng.randint(5, 30) if rng.random() < 0.6 else 0
            if used + title_count + body_count > len(stream):
                used = 0
            title_words = stream[used : used + title_count]
            body_words = stream[used + title_count : used + title_count + body_count]
            used += title_count + body_count
            if doc_freq is not None:
                doc_freq.update(set(title_words) | set(body_words))
            completed = rng.random() < 0.4
            completed_at = (
                min(created + timedelta(hours=rng.uniform(1, 720)), self.now) if completed else None
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
            priority = rng.choices(PRIORITY_RANKS, cum_weights=(30, 55, 77, 92, 100))[0]
            title = " ".join(title_words).capitalize()
            description = " ".join(body_words)
            row = (task_id, user.id, title, description, completed, completed_at, priority)
            self.rows.tasks.append((*row, due_at, recurrence, created, updated, None, 1))
            wanted = rng.choices((0, 1, 2, 3), cum_weights=(25, 60, 85, 100))[0]
            chosen: set[int] = set()
            while len(chosen) < wanted:
                chosen.add(rng.choices(TAG_RANKS, cum_weights=self.tag_cum)[0])
            self.rows.links.extend((task_id, tag_ids[i], user.id) for i in sorted(chosen))
            # Disjoint task sets for the scenarios that write, so that no two concurrent
            # requests change the same task (which would be a 409, not a measurement).
            if index % 3 == 0 and not completed and recurrence is None:
                completable.append(task_id)
            elif index % 3 == 1:
                patchable.append(task_id)
            else:
                readable.append(task_id)
        user.get_ids = _spread(readable, ID_SAMPLE)
        user.patch_ids = _spread(patchable, ID_SAMPLE)
        user.complete_ids = _spread(completable, COMPLETE_SAMPLE)
        return user


def password_hash() -> str:
    """The shared password, hashed by the service's hasher at its production defaults."""
    defaults = Settings.model_fields
    settings = Settings(
        _env_file=None,
        env="development",
        password_hash_time_cost=defaults["password_hash_time_cost"].default,
        password_hash_memory_kib=defaults["password_hash_memory_kib"].default,
    )
    return asyncio.run(PasswordHasher(settings).hash(PASSWORD))


def generate(sizes: Sizes, now: datetime) -> tuple[SeedInfo, Rows]:
    gen = Generator(20261122, now, password_hash())
    big_freq: Counter[str] = Counter()
    tiny_freq: Counter[str] = Counter()
    big = gen.add_user(0, sizes.big_tasks, big_freq)
    users = [gen.add_user(n, sizes.tasks_per_user, None) for n in range(1, sizes.users + 1)]
    tiny = gen.add_user(sizes.users + 1, sizes.tiny_tasks, tiny_freq)
    # A word of medium selectivity that the tiny user has too.
    target = SEARCH_SHARE * sizes.big_tasks
    candidates = [word for word in VOCABULARY if tiny_freq[word] > 0] or VOCABULARY
    word = min(candidates, key=lambda w: abs(big_freq[w] - target))
    big_rows = sorted(
        ((row[9], row[0]) for row in gen.rows.tasks if row[1] == big.id), reverse=True
    )
    depth = min(DEEP_ROW, sizes.big_tasks // 2)
    # Inserted in creation order, as a live table fills: users' rows interleave on disk.
    gen.rows.tasks.sort(key=lambda row: row[9])
    info = SeedInfo(
        sizes=sizes,
        users=users,
        big=big,
        tiny=tiny,
        tag=COMMON_TAG,
        search_word=word,
        search_hits={"big": big_freq[word], "tiny": tiny_freq[word]},
        deep_depth=depth,
        deep_keyset=big_rows[depth - 1],
    )
    info.rows = {
        "users": len(gen.rows.users),
        "tags": len(gen.rows.tags),
        "tasks": len(gen.rows.tasks),
        "task_tags": len(gen.rows.links),
    }
    return info, gen.rows


def _chunks(rows: list[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    for offset in range(0, len(rows), size):
        yield rows[offset : offset + size]


async def _copy_postgres(dsn: str, rows: Rows) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        # Loading speed only; the end state is what the migrations define. The rows are
        # consistent by construction, so foreign-key triggers are skipped while copying,
        # and the secondary indexes of the big tables are built once afterwards (from
        # their own definitions) instead of row by row.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        indexes = await conn.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "JOIN pg_class c ON c.relname = i.indexname "
            "JOIN pg_index x ON x.indexrelid = c.oid "
            "WHERE i.tablename IN ('tasks', 'task_tags') AND NOT x.indisunique"
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        await conn.copy_records_to_table("users", records=rows.users, columns=USER_COLUMNS)
        await conn.copy_records_to_table("tags", records=rows.tags, columns=TAG_COLUMNS)
        for chunk in _chunks(rows.tasks, 50_000):
            await conn.copy_records_to_table("tasks", records=chunk, columns=TASK_COLUMNS)
        await conn.copy_records_to_table("task_tags", records=rows.links, columns=LINK_COLUMNS)
        for index in indexes:
            await conn.execute(index["indexdef"])
        await conn.execute("SET session_replication_role = DEFAULT")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def _sqlite_value(value: Any) -> Any:
    """The value as the service's column types store it on SQLite."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def _insert_sqlite(path: str, rows: Rows) -> None:
    tables = [
        ("users", USER_COLUMNS, rows.users),
        ("tags", TAG_COLUMNS, rows.tags),
        ("tasks", TASK_COLUMNS, rows.tasks),
        ("task_tags", LINK_COLUMNS, rows.links),
    ]
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN")
        for table, columns, records in tables:
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
            conn.executemany(sql, ([_sqlite_value(v) for v in row] for row in records))
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def seed(
    sizes: Sizes, *, postgres_dsn: str | None = None, sqlite_path: str | None = None
) -> SeedInfo:
    """Generate the rows and load them into one database (already migrated)."""
    started = time.perf_counter()
    info, rows = generate(sizes, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    if postgres_dsn is not None:
        asyncio.run(_copy_postgres(postgres_dsn, rows))
    elif sqlite_path is not None:
        _insert_sqlite(sqlite_path, rows)
    else:
        raise ValueError("seed needs a PostgreSQL DSN or an SQLite path")
    info.seconds = time.perf_counter() - started
    return info
