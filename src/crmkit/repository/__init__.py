"""Repository interfaces, the query model, units of work and the in-memory reference.

crmkit stores nothing itself. An application implements
:class:`Repository` (and :class:`UnitOfWork`) for its own database, and
runs ``crmkit.testing.contract`` to prove its adapter keeps the semantics.
:class:`InMemoryRepository` and :class:`InMemoryUnitOfWork` are the
reference implementation, for prototypes and tests.
"""

from crmkit.repository._memory import (
    AsyncInMemoryRepository,
    AsyncInMemoryUnitOfWork,
    InMemoryRepository,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from crmkit.repository._protocols import AsyncRepository, AsyncUnitOfWork, Repository, UnitOfWork
from crmkit.repository._query import (
    And,
    Comparison,
    Condition,
    F,
    FieldInfo,
    Filter,
    Not,
    Or,
    Page,
    Query,
    resolve_field,
)
from crmkit.repository._signing import CursorSigner

__all__ = [
    "And",
    "AsyncInMemoryRepository",
    "AsyncInMemoryUnitOfWork",
    "AsyncRepository",
    "AsyncUnitOfWork",
    "Comparison",
    "Condition",
    "CursorSigner",
    "F",
    "FieldInfo",
    "Filter",
    "InMemoryRepository",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "Not",
    "Or",
    "Page",
    "Query",
    "Repository",
    "UnitOfWork",
    "resolve_field",
]
