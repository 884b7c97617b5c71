"""The storage interfaces an application implements: repositories and units of work."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol, TypeVar, runtime_checkable
from uuid import UUID

from crmkit.entities import Entity
from crmkit.repository._query import Page, Query

__all__ = ["AsyncRepository", "AsyncUnitOfWork", "Repository", "UnitOfWork"]

E = TypeVar("E", bound=Entity)


@runtime_checkable
class Repository(Protocol[E]):
    """Storage of one entity type, with optimistic concurrency.

    Semantics every implementation keeps (``crmkit.testing.contract`` checks them):

    * ``add(e)`` stores ``e`` as given and returns it; :class:`~crmkit.errors.DuplicateError`
      if an entity with that id exists.
    * ``get(id)`` returns the stored entity; :class:`~crmkit.errors.NotFound` otherwise.
    * ``save(e)`` succeeds only when ``e.version`` equals the stored version: it stores and
      returns ``e`` with ``version + 1`` and a fresh ``updated_at`` (now, never earlier than
      before). A stale version raises :class:`~crmkit.errors.ConcurrencyError` and changes
      nothing; a missing entity raises ``NotFound``.
    * ``remove(id, expected_version=v)`` deletes it if its version is ``v``, else
      ``ConcurrencyError``; ``NotFound`` if missing.
    * ``query(q)`` returns one :class:`~crmkit.repository.Page` of the entities matching
      ``q`` in ``q``'s order, starting after ``q.cursor``; ``count(q)`` counts all matches,
      ignoring limit and cursor. Results equal :meth:`Query.run` on the stored entities.
    """

    @property
    def entity_type(self) -> type[E]: ...

    def add(self, entity: E) -> E: ...

    def get(self, id: UUID) -> E: ...

    def save(self, entity: E) -> E: ...

    def remove(self, id: UUID, *, expected_version: int) -> None: ...

    def query(self, query: Query[E]) -> Page[E]: ...

    def count(self, query: Query[E] | None = None) -> int: ...


@runtime_checkable
class UnitOfWork(Protocol):
    """A transaction over repositories of several entity types, collecting domain events.

    Use it as a context manager: ``uow.repository(Contact)`` gives the
    repository of that type inside the transaction; ``uow.record(event)``
    adds domain events (such as lifecycle transition records) to publish
    with the transaction; ``commit()`` makes every change visible at once and
    returns the recorded events (for an outbox); ``rollback()`` discards the
    changes and the events. Leaving the block without ``commit()``, or by an
    exception, rolls back.
    """

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def repository(self, entity_type: type[E]) -> Repository[E]: ...

    def record(self, *events: Any) -> None: ...

    def commit(self) -> Sequence[Any]: ...

    def rollback(self) -> None: ...


@runtime_checkable
class AsyncRepository(Protocol[E]):
    """The asyncio twin of :class:`Repository`, with the same semantics."""

    @property
    def entity_type(self) -> type[E]: ...

    async def add(self, entity: E) -> E: ...

    async def get(self, id: UUID) -> E: ...

    async def save(self, entity: E) -> E: ...

    async def remove(self, id: UUID, *, expected_version: int) -> None: ...

    async def query(self, query: Query[E]) -> Page[E]: ...

    async def count(self, query: Query[E] | None = None) -> int: ...


@runtime_checkable
class AsyncUnitOfWork(Protocol):
    """The asyncio twin of :class:`UnitOfWork`: ``async with uow: ...``."""

    async def __aenter__(self) -> AsyncUnitOfWork: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def repository(self, entity_type: type[E]) -> AsyncRepository[E]: ...

    def record(self, *events: Any) -> None: ...

    async def commit(self) -> Sequence[Any]: ...

    async def rollback(self) -> None: ...
