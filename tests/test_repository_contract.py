"""The in-memory reference implementation passes the contract suite it defines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crmkit.repository import (
    AsyncInMemoryRepository,
    AsyncInMemoryUnitOfWork,
    InMemoryRepository,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from crmkit.testing.contract import (
    AsyncRepositoryContract,
    AsyncUnitOfWorkContract,
    RepositoryContract,
    UnitOfWorkContract,
)


class TestInMemoryRepository(RepositoryContract):
    @pytest.fixture
    def make_repository(self) -> Callable[[type[Any]], Any]:
        return lambda entity_type: InMemoryRepository(entity_type)


class TestInMemoryUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def make_unit_of_work(self) -> Callable[[], Any]:
        store = InMemoryStore()
        return lambda: InMemoryUnitOfWork(store)


class TestAsyncInMemoryRepository(AsyncRepositoryContract):
    @pytest.fixture
    def make_repository(self) -> Callable[[type[Any]], Any]:
        return lambda entity_type: AsyncInMemoryRepository(entity_type)


class TestAsyncInMemoryUnitOfWork(AsyncUnitOfWorkContract):
    @pytest.fixture
    def make_unit_of_work(self) -> Callable[[], Any]:
        store = InMemoryStore()
        return lambda: AsyncInMemoryUnitOfWork(store)
