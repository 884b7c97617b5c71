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
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid4

import attrs

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
    "edge_contacts",
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
@attrs.frozen
class _Pools:
    names: tuple[str, ...]
    amounts: tuple[Decimal, ...]
    times: tuple[datetime, ...]  # created_at values
    versions: tuple[int, ...]
    needles: tuple[str, ...]  # for contains / startswith


_STAGES = ["awareness", "retention", "loyalty", "churned"]
_COUNTRIES = ["GB", "FR", "US"]
_TAGS = ["vip", "beta", "newsletter"]
_EMAILS = ["ada@example.com", "Ada@Example.com", "bob@example.org", "zoe@mail.example"]
_ZONES = [timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))]

_REGULAR = _Pools(
    names=("Ada", "ada", "Bob", "Åsa", "Zoë", "Ada Lovelace", "bob"),
    amounts=(Decimal("0"), Decimal("10.50"), Decimal("99.99"), Decimal("1000")),
    times=tuple(_T0 + timedelta(hours=h) for h in range(7)),
    versions=(1, 2, 3),
    needles=("a", "A", "Ada", "o", ""),
)

_BIGGEST = Decimal(f"{'9' * Money.MAX_DIGITS}.{'9' * Money.MAX_PLACES}")
_MINUS_TWO = timezone(timedelta(hours=-2))
#: Values at the edges of what entities accept, where stores that convert on the way
#: in disagree with Python: amounts that one float cannot tell apart (2**53 cents and
#: one more), the largest and the finest amounts, datetimes at both ends of the
#: range (the same instant written in two zones), integers near 2**63, characters
#: outside the Basic Multilingual Plane, combining marks and case pairs.
_EDGE = _Pools(
    names=("😀", "e\u0301", "é", "\u202eabc", "ß", "SS", "\uffff", "İ", "i", "\u00a0x", "Ω", "ω"),
    amounts=(
        Decimal("90071992547409.93"),
        Decimal("90071992547409.94"),
        Decimal("-90071992547409.93"),
        _BIGGEST,
        _BIGGEST.copy_negate(),
        Decimal(10**Money.MAX_DIGITS - 1),
        Decimal("1E-40"),
        Decimal("2E-40"),
        Decimal("0"),
        Decimal("0.1"),
        Decimal("0.10000000000000000555"),
    ),
    times=(
        datetime(1, 1, 1, tzinfo=timezone.utc),
        datetime(1, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))),
        datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc),
        datetime.max.replace(tzinfo=timezone.utc),
        datetime(9999, 12, 31, 21, 59, 59, 999999, tzinfo=_MINUS_TWO),
        datetime(9999, 12, 31, 21, 59, 59, 999998, tzinfo=_MINUS_TWO),
        _T0,
    ),
    versions=(1, 2**53, 2**53 + 1, 2**63 - 2, 2**63 - 1),
    needles=("😀", "\u0301", "é", "\u202e", "ß", "S", "\uffff", "i", "\u00a0", "ω"),
)


@st.composite
def _contact(draw: st.DrawFn, pools: _Pools) -> Contact:
    when = draw(st.sampled_from(pools.times))
    zone = draw(st.sampled_from(_ZONES))
    with contextlib.suppress(OverflowError):  # unless the zone moves it out of the range
        when = when.astimezone(zone)
    country = draw(st.none() | st.sampled_from(_COUNTRIES))
    amount = draw(st.none() | st.sampled_from(pools.amounts))
    return Contact(
        id=draw(st.uuids()),
        version=draw(st.sampled_from(pools.versions)),
        created_at=when,
        updated_at=when,
        first_name=draw(st.sampled_from(pools.names)),
        last_name=draw(st.none() | st.sampled_from(pools.names)),
        email=draw(st.none() | st.sampled_from(_EMAILS).map(Email)),
        address=None if country is None else Address(lines=["1 Main St"], country=country),
        lifecycle_stage=draw(st.sampled_from(_STAGES)),
        preferred_channel=draw(st.none() | st.sampled_from([Channel.EMAIL, Channel.PHONE])),
        tags=draw(st.frozensets(st.sampled_from(_TAGS), max_size=2)),
        lifetime_value=None if amount is None else Money(amount, "EUR"),
    )


def contact_sets(max_size: int = 12) -> st.SearchStrategy[list[Contact]]:
    """Lists of contacts with shared values (ties, ``None``s, mixed case, several time zones)."""
    return st.lists(_contact(_REGULAR), max_size=max_size, unique_by=lambda c: c.id)


def edge_contacts() -> list[Contact]:
    """Contacts holding every value at the ends of what entities accept, in every field queried.

    Amounts one float cannot tell apart (``90071992547409.93`` and ``.94``),
    the largest and the finest amounts, datetimes in years 1 and 9999 (the
    same instant in two zones), integers near ``2**63``, characters outside
    the Basic Multilingual Plane, combining marks, case pairs. Contact ``i``
    takes value ``i`` of each list (cycling), so every value is stored and
    every list has ties.
    """
    pools = _EDGE
    n = 2 * max(len(pools.names), len(pools.amounts), len(pools.times), len(pools.versions))
    out = []
    for i in range(n):
        when = pools.times[i % len(pools.times)]
        out.append(
            Contact(
                id=UUID(int=i + 1),
                version=pools.versions[i % len(pools.versions)],
                created_at=when,
                updated_at=when,
                first_name=pools.names[i % len(pools.names)],
                last_name=None if i % 3 == 0 else pools.names[(i * 7) % len(pools.names)],
                lifetime_value=None
                if i % 5 == 4
                else Money(pools.amounts[i % len(pools.amounts)], "EUR"),
            )
        )
    return out


def _leaf(pools: _Pools) -> st.SearchStrategy[Any]:
    text = st.sampled_from(["first_name", "last_name", "lifecycle_stage", "address.country"])
    text_value = st.sampled_from([*pools.names, *_STAGES, *_COUNTRIES, "A", "a", ""])
    ops = st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"])
    ordered = st.one_of(
        st.tuples(text, ops, text_value),
        st.tuples(st.just("version"), ops, st.sampled_from([0, *pools.versions])),
        st.tuples(st.just("created_at"), ops, st.sampled_from(pools.times)),
        st.tuples(st.just("lifetime_value.amount"), ops, st.sampled_from(pools.amounts)),
    )
    return st.one_of(
        ordered.map(lambda t: _make(t[0], t[1], t[2])),
        st.tuples(text, st.lists(text_value, max_size=3)).map(lambda t: F(t[0]).in_(t[1])),
        st.tuples(
            st.just("lifetime_value.amount"), st.lists(st.sampled_from(pools.amounts), max_size=3)
        ).map(lambda t: F(t[0]).in_(t[1])),
        st.tuples(
            text, st.sampled_from(["contains", "startswith"]), st.sampled_from(pools.needles)
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


def _filters(pools: _Pools) -> st.SearchStrategy[Any]:
    return st.recursive(
        _leaf(pools),
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


_EDGE_FIELDS = ["lifetime_value.amount", "created_at", "version", "first_name"]


@st.composite
def contact_queries(draw: st.DrawFn, *, edge: bool = False) -> Query[Contact]:
    """Random queries over :class:`~crmkit.entities.Contact`: filters, orderings with ties, limits.

    ``edge=True`` compares with the values of ``contact_sets(edge=True)``.
    """
    q = Query(Contact)
    if draw(st.booleans()):
        q = q.where(draw(_filters(_EDGE if edge else _REGULAR)))
    fields = draw(st.lists(st.sampled_from(_ORDER_FIELDS), max_size=3, unique=True))
    if edge:  # order first by a field whose values sit at the edges
        first = draw(st.sampled_from(_EDGE_FIELDS))
        fields = [first, *(f for f in fields if f != first)]
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


def _agrees_with_reference(repo: Any, contacts: list[Contact], query: Query[Contact]) -> None:
    """Store ``contacts``; every page of ``query`` and its count must equal the reference's."""
    for c in contacts:
        repo.add(c)
    expected = _all_pages(lambda q: q.run(contacts), query)
    got = _all_pages(repo.query, query)
    assert [c.id for c in got] == [c.id for c in expected], (
        f"{query!r} returned {len(got)} entities in another order or selection than the reference"
    )
    assert got == expected
    assert repo.count(query) == sum(1 for c in contacts if query.matches(c))


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
        _agrees_with_reference(self.open(make_repository, Contact), contacts, query)

    def test_edge_values_are_stored_and_ordered_exactly(self, make_repository: Any) -> None:
        """Every edge value read back, sorted both ways page by page, and compared."""
        repo = self.open(make_repository, Contact)
        contacts = edge_contacts()
        for c in contacts:
            repo.add(c)
        for c in contacts:
            assert repo.get(c.id) == c, f"contact {c.id} changed on the way through the store"
        queries = [
            Query(Contact).order_by(sign + field).limit(3)
            for field in _EDGE_FIELDS
            for sign in ("", "-")
        ]
        pools = {
            "lifetime_value.amount": _EDGE.amounts,
            "created_at": _EDGE.times,
            "version": _EDGE.versions,
            "first_name": _EDGE.names,
        }
        queries += [
            Query(Contact).where(_make(field, op, value))
            for field, values in pools.items()
            for value in values
            for op in ("eq", "lt", "ge")
        ]
        for query in queries:
            expected = [c.id for c in _all_pages(lambda q: q.run(contacts), query)]
            got = [c.id for c in _all_pages(repo.query, query)]
            assert got == expected, f"{query!r} disagrees with the reference"

    @_fixture_ok
    @given(query=contact_queries(edge=True))
    def test_edge_queries_equal_the_reference(
        self, make_repository: Any, query: Query[Contact]
    ) -> None:
        _agrees_with_reference(self.open(make_repository, Contact), edge_contacts(), query)

    def test_money_is_compared_exactly(self, make_repository: Any) -> None:
        """Two amounts one float cannot tell apart stay apart in filters and ordering."""
        repo = self.open(make_repository, Contact)
        low, high = Decimal("90071992547409.93"), Decimal("90071992547409.94")
        a = repo.add(Contact(first_name="A", lifetime_value=Money(low, "EUR")))
        b = repo.add(Contact(first_name="B", lifetime_value=Money(high, "EUR")))
        amount = F("lifetime_value.amount")
        assert [c.id for c in repo.query(Query(Contact).where(amount == low)).items] == [a.id]
        assert [c.id for c in repo.query(Query(Contact).where(amount > low)).items] == [b.id]
        by_amount = Query(Contact).order_by("-lifetime_value.amount")
        assert [c.id for c in repo.query(by_amount).items] == [b.id, a.id]

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
