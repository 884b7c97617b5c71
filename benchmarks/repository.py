"""Repository benchmark: the in-memory reference and the SQLAlchemy adapter on SQLite.

Adds contacts (through units of work, 1,000 per transaction), runs mixed
queries (equality, ranges, prefixes, case-insensitive e-mail, tags, with
ordering and a page size, half of them followed by a second page), and
optimistic read-modify-save cycles; prints operations per second.

    python benchmarks/repository.py [--contacts 100000] [--queries 1000] [--saves 10000]

It runs in ``benchmarks/.venv-crmkit`` (the README's install line, which
brings SQLAlchemy with the test extra) and prints that environment.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _harness  # noqa: E402

_harness.single(("sqlalchemy",))

from crmkit.adapters.sqlalchemy import (  # noqa: E402
    Schema,
    SqlRepository,
    SqlUnitOfWork,
    sqlite_engine,
)
from crmkit.datasets._demo import _FIRST, _LAST  # noqa: E402
from crmkit.entities import Address, Channel, Contact, Email  # noqa: E402
from crmkit.repository import F, InMemoryRepository, InMemoryStore, InMemoryUnitOfWork, Query  # noqa: E402

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
COUNTRIES = ["GB", "FR", "DE", "US", "JP"]
STAGES = ["awareness", "acquisition", "retention", "loyalty", "churned"]


def make_contacts(n: int, seed: int = 11) -> list[Contact]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        out.append(
            Contact(
                created_at=T0 + timedelta(minutes=rng.randrange(1_000_000)),
                first_name=first,
                last_name=last,
                email=Email(f"{first.lower()}.{last.lower().replace('-', '')}{i}@example.com"),
                address=Address(lines=["1 High Street"], country=rng.choice(COUNTRIES)),
                lifecycle_stage=rng.choice(STAGES),
                preferred_channel=rng.choice([Channel.EMAIL, Channel.PHONE, None]),
                tags=frozenset(rng.sample(["vip", "newsletter", "beta", "b2b"], rng.randint(0, 2))),
            )
        )
    return out


def make_queries(n: int, contacts: list[Contact], seed: int = 12) -> list[Query[Contact]]:
    rng = random.Random(seed)
    queries = []
    for _ in range(n):
        kind = rng.randrange(6)
        if kind == 0:
            q = Query(Contact).where(
                F("address.country") == rng.choice(COUNTRIES),
                F("lifecycle_stage") == rng.choice(STAGES),
            )
        elif kind == 1:
            start = T0 + timedelta(minutes=rng.randrange(900_000))
            q = Query(Contact).where(
                F("created_at") >= start, F("created_at") < start + timedelta(days=3)
            )
        elif kind == 2:
            q = Query(Contact).where(F("last_name").startswith(rng.choice(_LAST)[:3]))
        elif kind == 3:
            q = Query(Contact).where(F("email").email_is(str(rng.choice(contacts).email).upper()))
        elif kind == 4:
            q = Query(Contact).where(
                F("tags").contains(rng.choice(["vip", "beta"])), F("preferred_channel").is_null()
            )
        else:
            q = Query(Contact).where(
                F("lifecycle_stage").in_(rng.sample(STAGES, 2)) | (F("address.country") == "JP")
            )
        order = rng.choice([("-created_at",), ("last_name", "first_name"), ("email",)])
        queries.append(q.order_by(*order).limit(50))
    return queries


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    t0 = time.perf_counter()
    ops = fn()
    return time.perf_counter() - t0, ops


def run(
    name: str,
    make_uow: Callable[[], Any],
    repo: Any,
    contacts: list[Contact],
    queries: list[Query[Contact]],
    saves: int,
) -> None:
    def add_all() -> int:
        for i in range(0, len(contacts), 1000):
            with make_uow() as uow:
                r = uow.repository(Contact)
                for c in contacts[i : i + 1000]:
                    r.add(c)
                uow.commit()
        return len(contacts)

    def query_all() -> int:
        ops = 0
        for i, q in enumerate(queries):
            page = repo.query(q)
            ops += 1
            if i % 2 and page.next_cursor:
                repo.query(q.after(page.next_cursor))
                ops += 1
        return ops

    def save_all() -> int:
        rng = random.Random(13)
        for _ in range(saves):
            c = repo.get(rng.choice(contacts).id)
            repo.save(c.evolve(lifecycle_stage=rng.choice(STAGES)))
        return saves

    print(f"\n{name}")
    for label, fn in (
        ("add (1,000 per unit of work)", add_all),
        ("query (page of 50)", query_all),
        ("get + optimistic save", save_all),
    ):
        secs, ops = timed(fn)
        print(f"  {label:32s} {ops:>9,} ops in {secs:7.2f} s = {ops / secs:12,.0f} ops/s")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--saves", type=int, default=10_000)
    args = ap.parse_args()
    contacts = make_contacts(args.contacts)
    queries = make_queries(args.queries, contacts)
    print(
        f"{args.contacts:,} contacts, {args.queries:,} queries, {args.saves:,} saves; Python {sys.version.split()[0]}"
    )

    store = InMemoryStore()
    run(
        "in-memory reference",
        lambda: InMemoryUnitOfWork(store),
        InMemoryRepository(Contact, store),
        contacts,
        queries,
        args.saves,
    )

    with tempfile.TemporaryDirectory() as tmp:
        engine = sqlite_engine(f"sqlite:///{tmp}/bench.db")
        schema = Schema()
        schema.create_all(engine)
        run(
            "SQLAlchemy adapter on SQLite (a file, default durability)",
            lambda: SqlUnitOfWork(engine, schema),
            SqlRepository(Contact, engine, schema),
            contacts,
            queries,
            args.saves,
        )
        engine.dispose()


if __name__ == "__main__":
    main()
