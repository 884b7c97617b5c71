"""crmkit.adapters.sqlalchemy passes the full contract suite on SQLite and PostgreSQL.

PostgreSQL runs where ``CRMKIT_TEST_POSTGRES_URL`` names a reachable server
(``.ci/run`` starts one); elsewhere those tests skip and say why.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sa = pytest.importorskip("sqlalchemy")

from crmkit.adapters.sqlalchemy import (  # noqa: E402
    Schema,
    SqlRepository,
    SqlUnitOfWork,
    sqlite_engine,
)
from crmkit.entities import Contact  # noqa: E402
from crmkit.repository import F, Query  # noqa: E402
from crmkit.testing.contract import RepositoryContract, UnitOfWorkContract  # noqa: E402

POSTGRES_URL = os.environ.get("CRMKIT_TEST_POSTGRES_URL")


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Schema]]:
    path = tmp_path_factory.mktemp("sqlite") / "crm.db"
    engine = sqlite_engine(f"sqlite:///{path}", connect_args={"timeout": 60})

    @sa.event.listens_for(engine, "connect")
    def _fast(dbapi_connection: Any, _: Any) -> None:
        # A throwaway test database: no fsync, write-ahead log for concurrent readers.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    schema = Schema()
    schema.create_all(engine)
    yield engine, schema
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_db() -> Iterator[tuple[Any, Schema]]:
    if not POSTGRES_URL:
        pytest.skip("CRMKIT_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against")
    engine = sa.create_engine(POSTGRES_URL, pool_size=10)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL at CRMKIT_TEST_POSTGRES_URL is not reachable: {exc}")
    schema = Schema(prefix="crmkit_test_")
    schema.metadata.drop_all(engine)
    schema.create_all(engine)
    yield engine, schema
    schema.metadata.drop_all(engine)
    engine.dispose()


def _fresh(engine: Any, schema: Schema) -> None:
    with engine.begin() as conn:
        schema.clear(conn)


class _SqlRepositoryContract(RepositoryContract):
    engine_fixture = ""

    @pytest.fixture
    def make_repository(self, request: pytest.FixtureRequest) -> Callable[[type[Any]], Any]:
        engine, schema = request.getfixturevalue(self.engine_fixture)

        def make(entity_type: type[Any]) -> Any:
            _fresh(engine, schema)
            return SqlRepository(entity_type, engine, schema)

        return make


class _SqlUnitOfWorkContract(UnitOfWorkContract):
    engine_fixture = ""

    @pytest.fixture
    def make_unit_of_work(self, request: pytest.FixtureRequest) -> Callable[[], Any]:
        engine, schema = request.getfixturevalue(self.engine_fixture)
        _fresh(engine, schema)
        return lambda: SqlUnitOfWork(engine, schema)


class TestSqliteRepository(_SqlRepositoryContract):
    engine_fixture = "sqlite_db"


class TestSqliteUnitOfWork(_SqlUnitOfWorkContract):
    engine_fixture = "sqlite_db"


class TestPostgresRepository(_SqlRepositoryContract):
    engine_fixture = "postgres_db"


class TestPostgresUnitOfWork(_SqlUnitOfWorkContract):
    engine_fixture = "postgres_db"


def test_sql_injection_is_stored_and_matched_literally(sqlite_db: tuple[Any, Schema]) -> None:
    engine, schema = sqlite_db
    _fresh(engine, schema)
    repo = SqlRepository(Contact, engine, schema)
    nasty = "x'); DROP TABLE contacts; --"
    ada = repo.add(Contact(first_name=nasty))
    assert repo.get(ada.id).first_name == nasty
    assert [c.id for c in repo.query(Query(Contact).where(F("first_name") == nasty)).items] == [
        ada.id
    ]
    assert sa.inspect(engine).has_table(schema.tables[Contact].name)


def test_the_walkthrough_in_examples_runs() -> None:
    import runpy

    path = Path(__file__).resolve().parents[1] / "examples" / "sqlalchemy_walkthrough.py"
    text = runpy.run_path(str(path))["main"]()
    assert "first British contacts:" in text and "Customer base" in text


def test_ten_thousand_or_ed_e_mails_run_on_sqlite() -> None:
    """One IN list for equality tests of one column: SQLite refuses OR chains 1,000 deep."""
    import functools
    import operator

    emails = [f"user{i}@example.com" for i in range(10_000)]
    any_of = functools.reduce(operator.or_, [F("email") == e for e in emails])
    engine = sqlite_engine()
    schema = Schema()
    schema.create_all(engine)
    with SqlUnitOfWork(engine, schema) as uow:
        for e in emails[::1000]:
            uow.repository(Contact).add(Contact(first_name="Ada", email=e))
        uow.commit()
    with SqlUnitOfWork(engine, schema) as uow:
        query = Query(Contact).where(any_of | (F("first_name") == "Bob")).limit(50)
        assert len(uow.repository(Contact).query(query).items) == 10
