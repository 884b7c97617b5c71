"""The contract test suite that repository adapters run.

An adapter author proves their implementation keeps crmkit's repository
semantics by subclassing these pytest classes in their own test suite and
supplying one fixture. Nothing else is needed (no crmkit conftest):

.. code-block:: python

    import pytest
    from crmkit.testing.contract import RepositoryContract, UnitOfWorkContract

    class TestMyRepository(RepositoryContract):
        @pytest.fixture
        def make_repository(self):
            # a callable: entity type -> repository over a fresh, empty store
            return lambda entity_type: MyRepository(entity_type, connect_to_a_fresh_database())

    class TestMyUnitOfWork(UnitOfWorkContract):
        @pytest.fixture
        def make_unit_of_work(self):
            store = create_fresh_database()
            return lambda: MyUnitOfWork(store)  # each call: a new unit of work on that one store

The suite generates entities and queries with hypothesis and compares the
adapter's answers with :meth:`crmkit.repository.Query.run`, the reference.
Class attributes declare capabilities: set ``supports_threads = False`` if
your repository objects must not be shared between threads.

Needs pytest and hypothesis (``pip install "crmkit[test]"``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid4

try:
    import pytest
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - only without the extra
    raise ImportError(
        'crmkit.testing.contract needs pytest and hypothesis: pip install "crmkit[test]"'
    ) from exc

from crmkit.entities import ENTITY_TYPES, Address, Channel, Contact, Email, Entity, Money
from crmkit.errors import ConcurrencyError, DuplicateError, NotFound, ValidationError
from crmkit.repository import F, Page, Query
from crmkit.testing.strategies import entities

__all__ = [
    "AsyncRepositoryContract",
    "AsyncUnitOfWorkContract",
    "RepositoryContract",
    "UnitOfWorkContract",
    "contact_queries",
    "contact_sets",
]

E = TypeVar("E", bound=Entity)
T = TypeVar("T")

# The repository comes from a factory fixture called anew per example, and the same test
# bodies serve several contract classes: both health checks are safe to silence here.
_fixture_ok = settings(
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.differing_executors,
        HealthCheck.too_slow,
    ]
)
# The round trip runs once per entity type: a quarter of the profile's examples each
# (the serialization tests already cover every type in depth).
_per_type = settings(_fixture_ok, max_examples=max(10, settings().max_examples // 4))
_T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)

# --------------------------------------------------------------------------- generated data

# Small pools make filters select something, and ties make the ordering rules matter.
_NAMES = ["Ada", "ada", "Bob", "Åsa", "Zoë", "Ada Lovelace", "bob"]
_STAGES = ["awareness", "retention", "loyalty", "churned"]
_COUNTRIES = ["GB", "FR", "US"]
_TAGS = ["vip", "beta", "newsletter"]
_EMAILS = ["ada@example.com", "Ada@Example.com", "bob@example.org", "zoe@mail.example"]
_ZONES = [timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))]
_AMOUNTS = [Decimal("0"), Decimal("10.50"), Decimal("99.99"), Decimal("1000")]


@st.composite
def _contact(draw: st.DrawFn) -> Contact:
    when = _T0 + timedelta(hours=draw(st.integers(0, 6)))
    zone = draw(st.sampled_from(_ZONES))
    country = draw(st.none() | st.sampled_from(_COUNTRIES))
    amount = draw(st.none() | st.sampled_from(_AMOUNTS))
    return Contact(
        id=draw(st.uuids()),
        version=draw(st.integers(1, 3)),
        created_at=when.astimezone(zone),
        first_name=draw(st.sampled_from(_NAMES)),
        last_name=draw(st.none() | st.sampled_from(_NAMES)),
        email=draw(st.none() | st.sampled_from(_EMAILS).map(Email)),
        address=None if country is None else Address(lines=["1 Main St"], country=country),
        lifecycle_stage=draw(st.sampled_from(_STAGES)),
        preferred_channel=draw(st.none() | st.sampled_from([Channel.EMAIL, Channel.PHONE])),
        tags=draw(st.frozensets(st.sampled_from(_TAGS), max_size=2)),
        lifetime_value=None if amount is None else Money(amount, "EUR"),
    )


def contact_sets(max_size: int = 12) -> st.SearchStrategy[list[Contact]]:
    """Lists of contacts with shared values (ties, ``None``s, mixed case, several time zones)."""
    return st.lists(_contact(), max_size=max_size, unique_by=lambda c: c.id)


def _leaf() -> st.SearchStrategy[Any]:
    text = st.sampled_from(["first_name", "last_name", "lifecycle_stage", "address.country"])
    text_value = st.sampled_from([*_NAMES, *_STAGES, *_COUNTRIES, "A", "a", ""])
    ordered = st.one_of(
        st.tuples(text, st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]), text_value),
        st.tuples(st.just("version"), st.sampled_from(["eq", "ne", "lt", "ge"]), st.integers(0, 4)),
        st.tuples(
            st.just("created_at"),
            st.sampled_from(["lt", "le", "gt", "ge", "eq"]),
            st.integers(0, 6).map(lambda h: _T0 + timedelta(hours=h)),
        ),
        st.tuples(
            st.just("lifetime_value.amount"),
            st.sampled_from(["lt", "ge", "eq"]),
            st.sampled_from(_AMOUNTS),
        ),
    )
    return st.one_of(
        ordered.map(lambda t: _make(t[0], t[1], t[2])),
        st.tuples(text, st.lists(text_value, max_size=3)).map(lambda t: F(t[0]).in_(t[1])),
        st.tuples(
            text,
            st.sampled_from(["contains", "startswith"]),
            st.sampled_from(["a", "A", "Ada", "o", ""]),
        ).map(lambda t: getattr(F(t[0]), t[1])(t[2])),
        st.tuples(
            st.sampled_from(
                [
                    "last_name",
                    "email",
                    "address.country",
                    "preferred_channel",
                    "lifetime_value.amount",
                ]
            ),
            st.booleans(),
        ).map(lambda t: F(t[0]).is_null(t[1])),
        st.sampled_from(_TAGS).map(lambda tag: F("tags").contains(tag)),
        st.sampled_from(_EMAILS).map(lambda e: F("email").email_is(e.upper())),
        st.sampled_from(["email", "phone"]).map(lambda c: F("preferred_channel") == c),
    )


def _make(field: str, op: str, value: Any) -> Any:
    f = F(field)
    return {
        "eq": f.__eq__,
        "ne": f.__ne__,
        "lt": f.__lt__,
        "le": f.__le__,
        "gt": f.__gt__,
        "ge": f.__ge__,
    }[op](value)


def _filters() -> st.SearchStrategy[Any]:
    return st.recursive(
        _leaf(),
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(
                lambda xs: xs[0] if len(xs) == 1 else _and(xs)
            ),
            st.lists(inner, min_size=2, max_size=3).map(_or),
            inner.map(lambda x: ~x),
        ),
        max_leaves=5,
    )


def _and(items: list[Any]) -> Any:
    out = items[0]
    for item in items[1:]:
        out = out & item
    return out


def _or(items: list[Any]) -> Any:
    out = items[0]
    for item in items[1:]:
        out = out | item
    return out


_ORDER_FIELDS = [
    "first_name",
    "last_name",
    "created_at",
    "lifecycle_stage",
    "address.country",
    "lifetime_value.amount",
    "version",
    "email",
    "preferred_channel",
]


@st.composite
def contact_queries(draw: st.DrawFn) -> Query[Contact]:
    """Random queries over :class:`~crmkit.entities.Contact`: filters, orderings with ties, limits."""
    q = Query(Contact)
    if draw(st.booleans()):
        q = q.where(draw(_filters()))
    fields = draw(st.lists(st.sampled_from(_ORDER_FIELDS), max_size=3, unique=True))
    q = q.order_by(*[("-" if draw(st.booleans()) else "") + f for f in fields])
    return q.limit(draw(st.none() | st.integers(1, 5)))


def _all_pages(run: Callable[[Query[E]], Page[E]], q: Query[E], limit: int = 1000) -> list[E]:
    items: list[E] = []
    page = run(q)
    for _ in range(limit):
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        page = run(q.after(page.next_cursor))
    raise AssertionError("pagination did not end")


# --------------------------------------------------------------------------- async plumbing


class _Loop:
    """Runs coroutines to completion on one private event loop (Python 3.10 has no asyncio.Runner)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, awaitable: Awaitable[T]) -> T:
        return self.loop.run_until_complete(awaitable)

    def close(self) -> None:
        self.loop.close()


class _SyncRepository:
    """A synchronous view of an async repository, so one set of test bodies checks both."""

    def __init__(self, repo: Any, loop: _Loop) -> None:
        self._repo = repo
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._repo, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._loop.run(attr(*args, **kwargs))

        return call


class _SyncUnitOfWork:
    def __init__(self, uow: Any, loop: _Loop) -> None:
        self._uow = uow
        self._loop = loop

    def __enter__(self) -> _SyncUnitOfWork:
        self._loop.run(self._uow.__aenter__())
        return self

    def __exit__(self, *exc: Any) -> None:
        self._loop.run(self._uow.__aexit__(*exc))

    def repository(self, entity_type: type) -> _SyncRepository:
        return _SyncRepository(self._uow.repository(entity_type), self._loop)

    def record(self, *events: Any) -> None:
        self._uow.record(*events)

    def commit(self) -> Any:
        return self._loop.run(self._uow.commit())

    def rollback(self) -> None:
        self._loop.run(self._uow.rollback())


# --------------------------------------------------------------------------- repositories


class RepositoryContract:
    """The semantics of :class:`crmkit.repository.Repository`, as pytest tests.

    Subclass it (the subclass name must start with ``Test``) and override the
    ``make_repository`` fixture: it returns a callable that takes an entity
    type and returns a repository of that type over a fresh, empty store.
    Every test calls it anew, so tests never see each other's data.

    Capabilities (class attributes): ``supports_threads`` (default ``True``)
    runs the lost-update test with threads sharing one repository object.
    """

    supports_threads = True
    threads = 6
    saves_per_thread = 8

    @pytest.fixture
    def make_repository(self) -> Callable[[type[Any]], Any]:
        raise NotImplementedError(
            f"{type(self).__name__} must override the make_repository fixture: "
            "return a callable taking an entity type and returning a repository over a fresh, empty store"
        )

    def open(self, make_repository: Callable[[type[E]], Any], entity_type: type[E]) -> Any:
        """The repository the tests talk to (the async contract wraps it)."""
        return make_repository(entity_type)

    # -- storing and reading ------------------------------------------------------------

    @pytest.mark.parametrize("entity_type", ENTITY_TYPES, ids=lambda t: t.__name__)
    @_per_type
    @given(data=st.data())
    def test_add_then_get_gives_the_entity_back(
        self, make_repository: Any, entity_type: type[Entity], data: Any
    ) -> None:
        repo = self.open(make_repository, entity_type)
        batch = data.draw(st.lists(entities(entity_type), max_size=3, unique_by=lambda e: e.id))
        for entity in batch:
            assert repo.add(entity) == entity
        for entity in batch:
            got = repo.get(entity.id)
            assert got == entity, (
                f"{entity_type.__name__} {entity.id} changed on the way through the store"
            )
            assert type(got) is entity_type
        assert repo.count() == len(batch)

    def test_get_of_a_missing_id_raises_not_found(self, make_repository: Any) -> None:
        repo = self.open(make_repository, Contact)
        with pytest.raises(NotFound):
            repo.get(uuid4())

    def test_adding_an_existing_id_raises_duplicate_error(self, make_repository: Any) -> None:
        repo = self.open(make_repository, Contact)
        ada = repo.add(Contact(first_name="Ada"))
        with pytest.raises(DuplicateError):
            repo.add(Contact(id=ada.id, first_name="Grace"))
        assert repo.get(ada.id) == ada

    # -- optimistic concurrency ---------------------------------------------------------------

    def test_save_bumps_the_version_and_updated_at(self, make_repository: Any) -> None:
        repo = self.open(make_repository, Contact)
        ada = repo.add(Contact(first_name="Ada", created_at=_T0))
        saved = repo.save(ada.evolve(last_name="Lovelace"))
        assert saved.version == ada.version + 1
        assert saved.updated_at >= ada.updated_at
        assert saved.last_name == "Lovelace"
        assert repo.get(ada.id) == saved

    def test_stale_save_raises_and_keeps_the_stored_entity(self, make_repository: Any) -> None:
        repo = self.open(make_repository, Contact)
        ada = repo.add(Contact(first_name="Ada"))
        first = repo.save(ada.evolve(last_name="Lovelace"))
        with pytest.raises(ConcurrencyError):
            repo.save(ada.evolve(last_name="Byron"))  # still version 1
        assert repo.get(ada.id) == first

    def test_save_of_a_missing_entity_raises_not_found(self, make_repository: Any) -> None:
        repo = self.open(make_repository, Contact)
        with pytest.raises(NotFound):
            repo.save(Contact(first_name="Ada"))

    def test_remove_checks_the_version(self, make_repository: Any) -> None:
        repo = self.open(make_repository, Contact)
        ada = repo.add(Contact(first_name="Ada"))
        with pytest.raises(ConcurrencyError):
            repo.remove(ada.id, expected_version=ada.version + 1)
        assert repo.get(ada.id) == ada
        repo.remove(ada.id, expected_version=ada.version)
        with pytest.raises(NotFound):
            repo.get(ada.id)
        with pytest.raises(NotFound):
            repo.remove(ada.id, expected_version=ada.version)

    def test_no_update_is_lost_under_concurrent_saves(self, make_repository: Any) -> None:
        if not self.supports_threads:
            pytest.skip("the adapter declares supports_threads = False")
        repo = self.open(make_repository, Contact)
        ada = repo.add(Contact(first_name="Ada"))
        successes: list[str] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def worker(n: int) -> None:
            try:
                for i in range(self.saves_per_thread):
                    tag = f"t{n}-{i}"
                    while True:
                        current = repo.get(ada.id)
                        time.sleep(0.0005)  # let other threads read the same version
                        try:
                            repo.save(current.evolve(tags=current.tags | {tag}))
                        except ConcurrencyError:
                            continue
                        with lock:
                            successes.append(tag)
                        break
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(self.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors[0]
        final = repo.get(ada.id)
        assert final.version == ada.version + len(successes), "a save was lost or counted twice"
        assert final.tags == frozenset(successes), "an update was lost: some saved tags are missing"

    # -- queries --------------------------------------------------------------------------

    @_fixture_ok
    @given(contacts=contact_sets(), query=contact_queries())
    def test_query_equals_the_reference(
        self, make_repository: Any, contacts: list[Contact], query: Query[Contact]
    ) -> None:
        repo = self.open(make_repository, Contact)
        for c in contacts:
            repo.add(c)
        expected = _all_pages(lambda q: q.run(contacts), query)
        got = _all_pages(repo.query, query)
        assert [c.id for c in got] == [c.id for c in expected], (
            f"{query!r} returned {len(got)} entities in another order or selection than the reference"
        )
        assert got == expected
        assert repo.count(query) == sum(1 for c in contacts if query.matches(c))

    @_fixture_ok
    @given(first=contact_sets(), later=contact_sets(), query=contact_queries())
    def test_pages_stay_stable_when_entities_are_added(
        self,
        make_repository: Any,
        first: list[Contact],
        later: list[Contact],
        query: Query[Contact],
    ) -> None:
        later = [c for c in later if c.id not in {x.id for x in first}]
        query = query.limit(2)
        repo = self.open(make_repository, Contact)
        for c in first:
            repo.add(c)
        page = repo.query(query)
        seen = list(page.items)
        for c in later:
            repo.add(c)
        if page.next_cursor is not None:
            seen += _all_pages(repo.query, query.after(page.next_cursor))
        ids = [c.id for c in seen]
        assert len(ids) == len(set(ids)), "an entity appeared on two pages"
        missing = {c.id for c in first if query.matches(c)} - set(ids)
        assert not missing, "an entity present from the start was skipped"
        assert ids == [c.id for c in sorted(seen, key=query.sort_key)], "pages are out of order"

    def test_query_refuses_a_query_of_another_type(self, make_repository: Any) -> None:
        repo = self.open(make_repository, Contact)
        from crmkit.entities import Account

        with pytest.raises(ValidationError):
            repo.query(Query(Account))

    def test_query_values_are_data_not_code(self, make_repository: Any) -> None:
        repo = self.open(make_repository, Contact)
        nasty = "x'); DROP TABLE contacts; --"
        evil = repo.add(Contact(first_name=nasty, last_name='"; DELETE FROM x; --'))
        repo.add(Contact(first_name="Ada"))
        page = repo.query(Query(Contact).where(F("first_name") == nasty))
        assert [c.id for c in page.items] == [evil.id]
        assert repo.count(Query(Contact).where(F("last_name").contains('"; DELETE'))) == 1
        assert repo.count() == 2


class AsyncRepositoryContract(RepositoryContract):
    """The same tests for :class:`crmkit.repository.AsyncRepository` implementations.

    Override ``make_repository`` to return a callable giving an *async*
    repository over a fresh, empty store. The tests drive it on a private
    event loop (no pytest plugin needed); the lost-update test runs
    interleaved tasks instead of threads.
    """

    @pytest.fixture(autouse=True)
    def _event_loop(self) -> Any:
        self._loop = _Loop()
        yield
        self._loop.close()

    def open(self, make_repository: Callable[[type[E]], Any], entity_type: type[E]) -> Any:
        return _SyncRepository(make_repository(entity_type), self._loop)

    def test_no_update_is_lost_under_concurrent_saves(self, make_repository: Any) -> None:
        repo = make_repository(Contact)
        ada = self._loop.run(repo.add(Contact(first_name="Ada")))
        successes: list[str] = []

        async def worker(n: int) -> None:
            for i in range(self.saves_per_thread):
                tag = f"t{n}-{i}"
                while True:
                    current = await repo.get(ada.id)
                    await asyncio.sleep(0)  # let the other tasks interleave
                    try:
                        await repo.save(current.evolve(tags=current.tags | {tag}))
                    except ConcurrencyError:
                        continue
                    successes.append(tag)
                    break

        async def main() -> None:
            await asyncio.gather(*(worker(n) for n in range(self.threads)))

        self._loop.run(main())
        final = self._loop.run(repo.get(ada.id))
        assert final.version == ada.version + len(successes)
        assert final.tags == frozenset(successes)


# --------------------------------------------------------------------------- units of work


class UnitOfWorkContract:
    """The semantics of :class:`crmkit.repository.UnitOfWork`, as pytest tests.

    Override the ``make_unit_of_work`` fixture: it returns a callable; each
    call gives a new unit of work over *one* fresh store created by the
    fixture (so a second unit of work sees what the first committed).
    """

    @pytest.fixture
    def make_unit_of_work(self) -> Callable[[], Any]:
        raise NotImplementedError(
            f"{type(self).__name__} must override the make_unit_of_work fixture: "
            "return a callable giving a new unit of work over one fresh store"
        )

    def open(self, make_unit_of_work: Callable[[], Any]) -> Any:
        return make_unit_of_work()

    def _ids(self, make_unit_of_work: Any, entity_type: type[Entity]) -> set[UUID]:
        with self.open(make_unit_of_work) as uow:
            repo = uow.repository(entity_type)
            return {e.id for e in _all_pages(repo.query, Query(entity_type))}

    def test_commit_makes_changes_visible(self, make_unit_of_work: Any) -> None:
        from crmkit.entities import Account

        with self.open(make_unit_of_work) as uow:
            acme = uow.repository(Account).add(Account(name="Acme"))
            ada = uow.repository(Contact).add(Contact(first_name="Ada", account_id=acme.id))
            uow.commit()
        assert self._ids(make_unit_of_work, Account) == {acme.id}
        assert self._ids(make_unit_of_work, Contact) == {ada.id}
        with self.open(make_unit_of_work) as uow:
            saved = uow.repository(Contact).save(ada.evolve(last_name="Lovelace"))
            uow.commit()
        with self.open(make_unit_of_work) as uow:
            assert uow.repository(Contact).get(ada.id) == saved
            assert saved.version == ada.version + 1

    def test_leaving_without_commit_rolls_back(self, make_unit_of_work: Any) -> None:
        with self.open(make_unit_of_work) as uow:
            uow.repository(Contact).add(Contact(first_name="Ada"))
        assert self._ids(make_unit_of_work, Contact) == set(), (
            "a write survived leaving the block without commit"
        )

    def test_an_exception_rolls_back_and_propagates(self, make_unit_of_work: Any) -> None:
        class Boom(Exception):
            pass

        def fail_inside() -> None:
            with self.open(make_unit_of_work) as uow:
                uow.repository(Contact).add(Contact(first_name="Ada"))
                raise Boom

        with pytest.raises(Boom):
            fail_inside()
        assert self._ids(make_unit_of_work, Contact) == set(), (
            "a write survived an exception in the block"
        )

    def test_rollback_leaves_no_trace(self, make_unit_of_work: Any) -> None:
        with self.open(make_unit_of_work) as uow:
            kept = uow.repository(Contact).add(Contact(first_name="Kept"))
            uow.commit()
        with self.open(make_unit_of_work) as uow:
            repo = uow.repository(Contact)
            repo.add(Contact(first_name="Gone"))
            repo.save(kept.evolve(first_name="Changed"))
            uow.record("an event")
            uow.rollback()
        with self.open(make_unit_of_work) as uow:
            assert uow.repository(Contact).get(kept.id) == kept
        assert self._ids(make_unit_of_work, Contact) == {kept.id}

    def test_commit_returns_the_recorded_events(self, make_unit_of_work: Any) -> None:
        with self.open(make_unit_of_work) as uow:
            ada = uow.repository(Contact).add(Contact(first_name="Ada"))
            uow.record({"event": "created", "id": str(ada.id)}, {"event": "welcomed"})
            events = uow.commit()
        assert list(events) == [{"event": "created", "id": str(ada.id)}, {"event": "welcomed"}]

    def test_stale_save_inside_a_unit_of_work_raises(self, make_unit_of_work: Any) -> None:
        with self.open(make_unit_of_work) as uow:
            ada = uow.repository(Contact).add(Contact(first_name="Ada"))
            uow.commit()
        with self.open(make_unit_of_work) as uow:
            repo = uow.repository(Contact)
            repo.save(ada.evolve(last_name="Lovelace"))
            with pytest.raises(ConcurrencyError):
                repo.save(ada.evolve(last_name="Byron"))


class AsyncUnitOfWorkContract(UnitOfWorkContract):
    """The same tests for :class:`crmkit.repository.AsyncUnitOfWork` implementations.

    Override ``make_unit_of_work`` to return a callable giving a new *async*
    unit of work over one fresh store.
    """

    @pytest.fixture(autouse=True)
    def _event_loop(self) -> Any:
        self._loop = _Loop()
        yield
        self._loop.close()

    def open(self, make_unit_of_work: Callable[[], Any]) -> Any:
        return _SyncUnitOfWork(make_unit_of_work(), self._loop)
