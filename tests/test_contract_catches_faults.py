"""The contract suite must fail broken adapters, or it proves nothing.

Each faulty adapter below breaks one rule; the matching contract test is run
against it and must fail.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import pytest

from crmkit.repository import InMemoryRepository, InMemoryStore, InMemoryUnitOfWork, Page, Query
from crmkit.testing.contract import RepositoryContract, UnitOfWorkContract


class IgnoresVersion(InMemoryRepository[Any]):
    """Saves whatever it is given: the classic lost update."""

    def save(self, entity: Any) -> Any:
        with self._store.lock:
            stored = self._store.table(self.entity_type)[entity.id]
            new = attrs.evolve(entity, version=stored.version + 1)
            self._store.table(self.entity_type)[entity.id] = new
        return new


class IgnoresOrdering(InMemoryRepository[Any]):
    """Filters correctly but returns entities in insertion order, paging by offset."""

    def query(self, query: Query[Any]) -> Page[Any]:
        with self._store.lock:
            matched = [e for e in self._store.table(self.entity_type).values() if query.matches(e)]
        start = int(query.cursor or 0)
        size = query.page_size or len(matched) or 1
        items = tuple(matched[start : start + size])
        more = start + size < len(matched)
        return Page(items, str(start + size) if more else None)


class RollbackKeepsWrites(InMemoryUnitOfWork):
    """Commits on rollback: leaving the block keeps every write."""

    def rollback(self) -> None:
        if self._active and self._changes:
            InMemoryUnitOfWork.commit(self)
        super().rollback()


def _fails(test: Any, **fixtures: Any) -> bool:
    try:
        test(**fixtures)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        return not isinstance(exc, pytest.skip.Exception)
    return False


def test_the_suite_catches_a_repository_that_ignores_versions() -> None:
    contract = RepositoryContract()
    make = lambda t: IgnoresVersion(t)  # noqa: E731
    assert _fails(contract.test_stale_save_raises_and_keeps_the_stored_entity, make_repository=make)
    assert _fails(contract.test_no_update_is_lost_under_concurrent_saves, make_repository=make)


def test_the_suite_catches_a_repository_that_ignores_ordering() -> None:
    contract = RepositoryContract()
    make = lambda t: IgnoresOrdering(t)  # noqa: E731
    assert _fails(contract.test_query_equals_the_reference, make_repository=make)


def test_the_suite_catches_a_unit_of_work_whose_rollback_keeps_writes() -> None:
    contract = UnitOfWorkContract()
    store = InMemoryStore()
    make = lambda: RollbackKeepsWrites(store)  # noqa: E731
    assert _fails(contract.test_leaving_without_commit_rolls_back, make_unit_of_work=make)
    store2 = InMemoryStore()
    assert _fails(
        contract.test_an_exception_rolls_back_and_propagates,
        make_unit_of_work=lambda: RollbackKeepsWrites(store2),
    )


def test_the_suite_catches_an_adapter_that_compares_money_as_float() -> None:
    # The SQL adapter as it was first written: NUMERIC on SQLite keeps 8-byte floats.
    sa = pytest.importorskip("sqlalchemy")
    from crmkit.adapters.sqlalchemy import Schema, SqlRepository, sqlite_engine

    class FloatMoney(Schema):
        column_types: ClassVar[dict[str, Any]] = {
            **Schema.column_types,
            "decimal": lambda: sa.Numeric(asdecimal=True),
        }

    def fresh(schema_type: type[Schema]) -> Any:
        def make(entity_type: type) -> Any:  # a new in-memory database per call
            engine, schema = sqlite_engine(), schema_type()
            schema.create_all(engine)
            return SqlRepository(entity_type, engine, schema)

        return make

    contract = RepositoryContract()
    assert _fails(contract.test_money_is_compared_exactly, make_repository=fresh(FloatMoney))
    assert _fails(
        contract.test_edge_values_are_stored_and_ordered_exactly, make_repository=fresh(FloatMoney)
    )
    # The control: the shipped adapter passes the same two tests (and the whole suite, edge
    # queries included, in test_sqlalchemy_adapter.py).
    for test in (
        contract.test_money_is_compared_exactly,
        contract.test_edge_values_are_stored_and_ordered_exactly,
    ):
        assert not _fails(test, make_repository=fresh(Schema))


def test_the_reference_passes_the_same_tests() -> None:
    # The control: the same calls on the correct implementation do not fail.
    contract = RepositoryContract()
    make = lambda t: InMemoryRepository(t)  # noqa: E731
    assert not _fails(
        contract.test_stale_save_raises_and_keeps_the_stored_entity, make_repository=make
    )
    assert not _fails(contract.test_query_equals_the_reference, make_repository=make)
    store = InMemoryStore()
    assert not _fails(
        UnitOfWorkContract().test_leaving_without_commit_rolls_back,
        make_unit_of_work=lambda: InMemoryUnitOfWork(store),
    )
