"""The in-memory reference implementation: correct, thread-safe, not durable."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, TypeVar
from uuid import UUID

import attrs

from crmkit.entities import Entity
from crmkit.entities._base import utcnow
from crmkit.entities._rules import describe, to_uuid
from crmkit.errors import ConcurrencyError, DuplicateError, NotFound, ValidationError
from crmkit.repository._query import Page, Query

__all__ = [
    "AsyncInMemoryRepository",
    "AsyncInMemoryUnitOfWork",
    "InMemoryRepository",
    "InMemoryStore",
    "InMemoryUnitOfWork",
]

E = TypeVar("E", bound=Entity)

Clock = Callable[[], datetime]


class InMemoryStore:
    """Entities of every type in process memory, behind one lock.

    Share one store between repositories and units of work to see the same
    data. Nothing is written anywhere: the data is gone with the process.
    ``clock`` gives the ``updated_at`` of saves (default: now, UTC).
    """

    def __init__(self, clock: Clock = utcnow) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._tables: dict[type, dict[UUID, Any]] = {}

    def table(self, entity_type: type[E]) -> dict[UUID, E]:
        """The id -> entity mapping of one type (callers hold :attr:`lock`)."""
        return self._tables.setdefault(entity_type, {})


def _check_entity(entity_type: type, entity: Any) -> None:
    if not isinstance(entity, entity_type):
        raise ValidationError(
            [("entity", f"must be a {entity_type.__name__}, got {describe(entity)}")]
        )


def _check_id(value: Any) -> UUID:
    parsed = to_uuid(value)
    if type(parsed) is UUID:
        return parsed
    raise ValidationError([("id", f"must be a UUID, got {describe(value)}")])


def _check_query(entity_type: type, query: Any) -> Query[Any]:
    if query is None:
        return Query(entity_type)
    if not isinstance(query, Query) or query.entity_type is not entity_type:
        raise ValidationError(
            [("query", f"must be a Query of {entity_type.__name__}, got {describe(query)}")]
        )
    return query


def _not_found(entity_type: type, id: UUID) -> NotFound:
    return NotFound(f"no {entity_type.__name__} with id {id}")


def _saved(entity: E, stored: E, clock: Clock) -> E:
    if entity.version != stored.version:
        raise ConcurrencyError(
            f"{type(entity).__name__} {entity.id} was changed by someone else: you saved version "
            f"{entity.version}, the stored one is version {stored.version}; reload it and apply your change again"
        )
    updated = max(clock(), entity.updated_at, stored.updated_at)
    return attrs.evolve(entity, version=entity.version + 1, updated_at=updated)


def _check_remove(entity_type: type, id: UUID, stored: Any, expected_version: Any) -> None:
    if type(expected_version) is not int or not 0 <= expected_version < 2**63:
        raise ValidationError(
            [("expected_version", f"must be an integer version, got {describe(expected_version)}")]
        )
    if stored.version != expected_version:
        raise ConcurrencyError(
            f"{entity_type.__name__} {id} is at version {stored.version}, not {expected_version}; nothing was removed"
        )


class InMemoryRepository(Generic[E]):
    """A :class:`~crmkit.repository.Repository` kept in memory: for prototypes and tests.

    Thread-safe (every operation holds the store's lock) and exactly the
    reference semantics of :class:`~crmkit.repository.Query`. Not durable.

    >>> from crmkit.entities import Contact
    >>> contacts = InMemoryRepository(Contact)
    >>> ada = contacts.add(Contact(first_name="Ada"))
    >>> saved = contacts.save(ada.evolve(last_name="Lovelace"))
    >>> saved.version, contacts.get(ada.id).last_name
    (2, 'Lovelace')
    >>> contacts.save(ada)  # version 1 is stale now
    Traceback (most recent call last):
    ...
    crmkit.errors.ConcurrencyError: Contact ... was changed by someone else: you saved version 1, the stored one is version 2; reload it and apply your change again
    """

    def __init__(self, entity_type: type[E], store: InMemoryStore | None = None) -> None:
        if not (isinstance(entity_type, type) and issubclass(entity_type, Entity)):
            raise ValidationError(
                [("entity_type", f"must be a crmkit entity class, got {describe(entity_type)}")]
            )
        self._type = entity_type
        self._store = store if store is not None else InMemoryStore()

    @property
    def entity_type(self) -> type[E]:
        return self._type

    def add(self, entity: E) -> E:
        _check_entity(self._type, entity)
        with self._store.lock:
            table = self._store.table(self._type)
            if entity.id in table:
                raise DuplicateError(f"a {self._type.__name__} with id {entity.id} exists already")
            table[entity.id] = entity
        return entity

    def get(self, id: UUID) -> E:
        key = _check_id(id)
        with self._store.lock:
            try:
                return self._store.table(self._type)[key]
            except KeyError:
                raise _not_found(self._type, key) from None

    def save(self, entity: E) -> E:
        _check_entity(self._type, entity)
        with self._store.lock:
            table = self._store.table(self._type)
            stored = table.get(entity.id)
            if stored is None:
                raise _not_found(self._type, entity.id)
            new = _saved(entity, stored, self._store.clock)
            table[entity.id] = new
        return new

    def remove(self, id: UUID, *, expected_version: int) -> None:
        key = _check_id(id)
        with self._store.lock:
            table = self._store.table(self._type)
            stored = table.get(key)
            if stored is None:
                raise _not_found(self._type, key)
            _check_remove(self._type, key, stored, expected_version)
            del table[key]

    def query(self, query: Query[E]) -> Page[E]:
        q = _check_query(self._type, query)
        with self._store.lock:
            entities = list(self._store.table(self._type).values())
        return q.run(entities)

    def count(self, query: Query[E] | None = None) -> int:
        q = _check_query(self._type, query)
        with self._store.lock:
            entities = list(self._store.table(self._type).values())
        return sum(1 for e in entities if q.matches(e))

    def __repr__(self) -> str:
        with self._store.lock:
            n = len(self._store.table(self._type))
        return f"InMemoryRepository({self._type.__name__}, {n} stored)"


_ABSENT = object()


@attrs.define
class _Change:
    """What a unit of work did to one id: the stored version it started from, and the result."""

    base_version: Any  # the stored version when first touched, or _ABSENT for a new id
    entity: Any  # the entity as the transaction sees it, None once removed


class _TransactionRepository(Generic[E]):
    """A repository seen through a unit of work: changes are staged until commit."""

    def __init__(self, uow: InMemoryUnitOfWork, entity_type: type[E]) -> None:
        self._uow = uow
        self._type = entity_type

    @property
    def entity_type(self) -> type[E]:
        return self._type

    def _changes(self) -> dict[UUID, _Change]:
        return self._uow._staged(self._type)

    def _current(self, id: UUID) -> Any:
        change = self._changes().get(id)
        if change is not None:
            return change.entity
        with self._uow.store.lock:
            return self._uow.store.table(self._type).get(id)

    def _stage(self, id: UUID, entity: Any) -> None:
        changes = self._changes()
        if id not in changes:
            with self._uow.store.lock:
                stored = self._uow.store.table(self._type).get(id)
            changes[id] = _Change(_ABSENT if stored is None else stored.version, entity)
        else:
            changes[id].entity = entity

    def add(self, entity: E) -> E:
        _check_entity(self._type, entity)
        if self._current(entity.id) is not None:
            raise DuplicateError(f"a {self._type.__name__} with id {entity.id} exists already")
        self._stage(entity.id, entity)
        return entity

    def get(self, id: UUID) -> E:
        key = _check_id(id)
        current = self._current(key)
        if current is None:
            raise _not_found(self._type, key)
        return current  # type: ignore[no-any-return]

    def save(self, entity: E) -> E:
        _check_entity(self._type, entity)
        stored = self._current(entity.id)
        if stored is None:
            raise _not_found(self._type, entity.id)
        new: E = _saved(entity, stored, self._uow.store.clock)
        self._stage(entity.id, new)
        return new

    def remove(self, id: UUID, *, expected_version: int) -> None:
        key = _check_id(id)
        stored = self._current(key)
        if stored is None:
            raise _not_found(self._type, key)
        _check_remove(self._type, key, stored, expected_version)
        self._stage(key, None)

    def _visible(self) -> list[E]:
        with self._uow.store.lock:
            merged = dict(self._uow.store.table(self._type))
        for id, change in self._changes().items():
            if change.entity is None:
                merged.pop(id, None)
            else:
                merged[id] = change.entity
        return list(merged.values())

    def query(self, query: Query[E]) -> Page[E]:
        return _check_query(self._type, query).run(self._visible())

    def count(self, query: Query[E] | None = None) -> int:
        q = _check_query(self._type, query)
        return sum(1 for e in self._visible() if q.matches(e))


class InMemoryUnitOfWork:
    """A :class:`~crmkit.repository.UnitOfWork` over an :class:`InMemoryStore`.

    Changes are staged and applied at :meth:`commit` all at once, after
    checking under the store's lock that nobody changed the same entities
    since the transaction read them (optimistic concurrency: a conflict
    raises :class:`~crmkit.errors.ConcurrencyError` and applies nothing).
    One unit of work belongs to one thread at a time.

    >>> from crmkit.entities import Contact
    >>> store = InMemoryStore()
    >>> with InMemoryUnitOfWork(store) as uow:
    ...     ada = uow.repository(Contact).add(Contact(first_name="Ada"))
    ...     uow.record({"event": "contact_created", "id": str(ada.id)})
    ...     events = uow.commit()
    >>> len(events), InMemoryRepository(Contact, store).count()
    (1, 1)
    >>> with InMemoryUnitOfWork(store) as uow:
    ...     _ = uow.repository(Contact).add(Contact(first_name="Grace"))
    ...     # no commit: rolled back on leaving the block
    >>> InMemoryRepository(Contact, store).count()
    1
    """

    def __init__(self, store: InMemoryStore | None = None) -> None:
        if store is not None and not isinstance(store, InMemoryStore):
            raise ValidationError([("store", f"must be an InMemoryStore, got {describe(store)}")])
        self.store = store if store is not None else InMemoryStore()
        self._changes: dict[type, dict[UUID, _Change]] = {}
        self._events: list[Any] = []
        self._active = False

    def _staged(self, entity_type: type) -> dict[UUID, _Change]:
        if not self._active:
            raise ValidationError([("uow", "use the unit of work inside a 'with' block")])
        return self._changes.setdefault(entity_type, {})

    def __enter__(self) -> InMemoryUnitOfWork:
        if self._active:
            raise ValidationError([("uow", "this unit of work is already open")])
        self._active = True
        self._changes = {}
        self._events = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        self._active = False

    def repository(self, entity_type: type[E]) -> _TransactionRepository[E]:
        """The repository of ``entity_type`` inside this transaction."""
        if not (isinstance(entity_type, type) and issubclass(entity_type, Entity)):
            raise ValidationError(
                [("entity_type", f"must be a crmkit entity class, got {describe(entity_type)}")]
            )
        self._staged(entity_type)
        return _TransactionRepository(self, entity_type)

    def record(self, *events: Any) -> None:
        """Add domain events to publish with this transaction."""
        self._staged(Entity)  # refuses outside the block
        self._events.extend(events)

    @property
    def pending_events(self) -> tuple[Any, ...]:
        """Events recorded since the transaction began."""
        return tuple(self._events)

    def commit(self) -> Sequence[Any]:
        """Apply every staged change at once; return the recorded events. Conflicts apply nothing."""
        self._staged(Entity)
        with self.store.lock:
            for entity_type, changes in self._changes.items():
                table: dict[UUID, Any] = self.store.table(entity_type)
                for id, change in changes.items():
                    stored = table.get(id)
                    now = _ABSENT if stored is None else stored.version
                    if now != change.base_version:
                        self.rollback()
                        raise ConcurrencyError(
                            f"{entity_type.__name__} {id} changed since this unit of work read it; nothing was committed"
                        )
            for entity_type, changes in self._changes.items():
                table = self.store.table(entity_type)
                for id, change in changes.items():
                    if change.entity is None:
                        table.pop(id, None)
                    else:
                        table[id] = change.entity
        events = tuple(self._events)
        self._changes = {}
        self._events = []
        return events

    def rollback(self) -> None:
        """Discard every staged change and recorded event."""
        self._changes = {}
        self._events = []


class _AsyncFacade(Generic[E]):
    """An async repository over a synchronous in-memory one (memory never blocks)."""

    def __init__(self, sync: InMemoryRepository[E] | _TransactionRepository[E]) -> None:
        self._sync = sync

    @property
    def entity_type(self) -> type[E]:
        return self._sync.entity_type

    async def add(self, entity: E) -> E:
        return self._sync.add(entity)

    async def get(self, id: UUID) -> E:
        return self._sync.get(id)

    async def save(self, entity: E) -> E:
        return self._sync.save(entity)

    async def remove(self, id: UUID, *, expected_version: int) -> None:
        self._sync.remove(id, expected_version=expected_version)

    async def query(self, query: Query[E]) -> Page[E]:
        return self._sync.query(query)

    async def count(self, query: Query[E] | None = None) -> int:
        return self._sync.count(query)


class AsyncInMemoryRepository(_AsyncFacade[E]):
    """The asyncio twin of :class:`InMemoryRepository` (same store, same semantics)."""

    def __init__(self, entity_type: type[E], store: InMemoryStore | None = None) -> None:
        super().__init__(InMemoryRepository(entity_type, store))


class AsyncInMemoryUnitOfWork:
    """The asyncio twin of :class:`InMemoryUnitOfWork`: ``async with uow: ...``."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self._sync = InMemoryUnitOfWork(store)

    @property
    def store(self) -> InMemoryStore:
        return self._sync.store

    async def __aenter__(self) -> AsyncInMemoryUnitOfWork:
        self._sync.__enter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._sync.__exit__(exc_type, exc, tb)

    def repository(self, entity_type: type[E]) -> _AsyncFacade[E]:
        return _AsyncFacade(self._sync.repository(entity_type))

    def record(self, *events: Any) -> None:
        self._sync.record(*events)

    @property
    def pending_events(self) -> tuple[Any, ...]:
        return self._sync.pending_events

    async def commit(self) -> Sequence[Any]:
        return self._sync.commit()

    async def rollback(self) -> None:
        self._sync.rollback()
