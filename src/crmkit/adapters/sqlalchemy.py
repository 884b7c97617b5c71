"""A complete crmkit repository adapter on SQLAlchemy 2 Core (SQLite and PostgreSQL).

Install it with the ``sql`` extra (``pip install "crmkit[sql]"``). It passes
crmkit's contract suite (``crmkit.testing.contract``) on SQLite and
PostgreSQL, and it is the example to copy when you write an adapter for
another database; ``docs/adapters.md`` walks through it.

Storage layout, one table per entity type:

* ``id`` (UUID, primary key) and ``version`` (integer) as real columns;
* ``data``: the whole entity as crmkit's JSON (``crmkit.entities.serde``),
  which is what ``get`` reads back, so the adapter never loses a field;
* one column per queryable scalar field (``address.country`` becomes
  ``address__country``), holding the value as crmkit's reference semantics
  compare it: datetimes as naive UTC, enums by value, e-mails as text;
* one side table per collection field (``contact__tags``: entity id and one
  tag per row) so ``F("tags").contains("vip")`` is an ``EXISTS``.

Queries become SQLAlchemy expressions with bound parameters, so a value such
as ``"x'); DROP TABLE contacts; --"`` is only ever data. Text comparisons and
ordering use the ``C`` collation on PostgreSQL (code-point order, as in
Python); ``NULL``s sort last ascending and first descending on both engines.

Usage::

    from crmkit.adapters.sqlalchemy import Schema, SqlRepository, SqlUnitOfWork, sqlite_engine

    engine = sqlite_engine("sqlite:///crm.db")   # or create_engine("postgresql+psycopg://...")
    schema = Schema()
    schema.create_all(engine)
    contacts = SqlRepository(Contact, engine, schema)
    with SqlUnitOfWork(engine, schema) as uow:
        uow.repository(Contact).add(Contact(first_name="Ada"))
        uow.commit()
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from types import TracebackType
from typing import Any, Generic, TypeVar
from uuid import UUID

from crmkit._text import describe, shown

try:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection, Engine
except ImportError:  # pragma: no cover - the extra is installed in the test environment
    from crmkit.errors import MissingDependency

    raise MissingDependency(
        'crmkit.adapters.sqlalchemy needs SQLAlchemy 2: pip install "crmkit[sql]"'
    ) from None

from crmkit.entities import ENTITY_TYPES, Entity, Money
from crmkit.entities.serde import from_json, to_json
from crmkit.errors import ConcurrencyError, DuplicateError, NotFound, ValidationError
from crmkit.repository import And, Condition, FieldInfo, Not, Or, Page, Query, resolve_field

__all__ = ["ExactDecimal", "Schema", "SqlRepository", "SqlUnitOfWork", "sqlite_engine"]

E = TypeVar("E", bound=Entity)


class ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """Money amounts, compared and ordered exactly on every engine.

    PostgreSQL has an exact ``NUMERIC(61, 40)``: every amount an entity accepts
    (below ``10**21``, at most 40 decimal places) fits it. SQLite has no exact
    decimal type (``NUMERIC`` columns store 8-byte floats, which cannot tell
    90071992547409.93 from 90071992547409.94), so there the amount is stored
    as text whose code-point order is numeric order: a sign digit (``0``
    negative, ``1`` otherwise), then the 61 digits of ``|amount| * 10**40``
    zero-padded, complemented to 9 for negative amounts. Equal amounts give
    equal texts (``1.0`` and ``1.00`` too), so ``=``, ``<``, ``IN`` and
    ``ORDER BY`` agree with :class:`~decimal.Decimal`.
    """

    impl = sa.Text
    cache_ok = True

    _width = Money.MAX_DIGITS + Money.MAX_PLACES

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.Numeric(self._width, Money.MAX_PLACES))
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: Decimal | None, dialect: sa.Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        scaled = int(value.scaleb(Money.MAX_PLACES, context=_WIDE))  # exact: at most 40 places
        if scaled < 0:
            return f"0{10**self._width - 1 + scaled:0{self._width}d}"
        return f"1{scaled:0{self._width}d}"

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        if value is None or isinstance(value, Decimal):  # PostgreSQL's NUMERIC
            return value
        digits = int(value[1:])
        scaled = digits if value[0] == "1" else -(10**self._width - 1 - digits)
        return Decimal(scaled).scaleb(-Money.MAX_PLACES, context=_WIDE).normalize(_WIDE)


_WIDE = decimal.Context(prec=2 * (Money.MAX_DIGITS + Money.MAX_PLACES))

_COLUMN_TYPES: dict[str, Callable[[], Any]] = {
    "text": sa.Text,
    "integer": sa.BigInteger,
    "number": sa.Float,
    "decimal": ExactDecimal,
    "bool": sa.Boolean,
    "uuid": sa.Uuid,
    "datetime": sa.DateTime,  # naive UTC: sorts and compares by instant
    "date": sa.Date,
    "enum": sa.Text,
    "email": sa.Text,
    "phone": sa.Text,
}
_COLLECTIONS = {"tags": sa.Text, "uuids": sa.Uuid}


def _column_name(info: FieldInfo) -> str:
    return "__".join(info.parts)


def _queryable_fields(entity_type: type) -> list[FieldInfo]:
    """Every field path of ``entity_type`` a query may name, nested ones included."""
    import attrs

    out: list[FieldInfo] = []

    def walk(cls: type, prefix: str) -> None:
        for field in attrs.fields(cls):
            path = f"{prefix}{field.name}"
            try:
                out.append(resolve_field(entity_type, path))
            except ValidationError:
                inner = _nested_type(entity_type, path)
                if inner is not None:
                    walk(inner, f"{path}.")

    walk(entity_type, "")
    return out


def _nested_type(entity_type: type, path: str) -> type | None:
    import typing

    import attrs

    current: Any = entity_type
    for part in path.split("."):
        hint = typing.get_type_hints(current)[part]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        current = args[0] if args and typing.get_origin(hint) is not tuple else hint
    return current if isinstance(current, type) and attrs.has(current) else None


def _storage(info: FieldInfo, value: Any) -> Any:
    """A Python value as its column stores it."""
    if value is None:
        return None
    if info.kind == "datetime":
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return info.storage_value(value)


class Schema:
    """The tables of every entity type, in one :class:`sqlalchemy.MetaData`.

    ``column_types`` maps each kind of queryable field (see
    :class:`crmkit.repository.FieldInfo`) to the column type that stores it;
    a subclass may change one, and the contract suite says whether the
    change keeps crmkit's semantics (a float column for money does not).
    """

    column_types: dict[str, Callable[[], Any]] = _COLUMN_TYPES

    def __init__(self, prefix: str = "crm_") -> None:
        if type(prefix) is not str or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,30}", prefix):
            raise ValidationError(
                [
                    (
                        "prefix",
                        f"must be a short SQL identifier such as 'crm_', got {describe(prefix)}",
                    )
                ]
            )
        self.metadata = sa.MetaData()
        self.tables: dict[type, sa.Table] = {}
        self.side_tables: dict[tuple[type, str], sa.Table] = {}
        self.fields: dict[type, list[FieldInfo]] = {}
        for entity_type in ENTITY_TYPES:
            name = prefix + entity_type.__name__.lower()
            fields = _queryable_fields(entity_type)
            columns = [
                sa.Column("id", sa.Uuid, primary_key=True),
                sa.Column("version", sa.BigInteger, nullable=False),
                sa.Column("data", sa.Text, nullable=False),
            ]
            scalar = [
                f for f in fields if f.kind not in _COLLECTIONS and f.path not in ("id", "version")
            ]
            columns += [sa.Column(_column_name(f), self.column_types[f.kind]()) for f in scalar]
            self.tables[entity_type] = sa.Table(name, self.metadata, *columns)
            self.fields[entity_type] = scalar
            for f in fields:
                if f.kind in _COLLECTIONS:
                    side = sa.Table(
                        f"{name}__{_column_name(f)}",
                        self.metadata,
                        sa.Column(
                            "entity_id",
                            sa.Uuid,
                            sa.ForeignKey(f"{name}.id", ondelete="CASCADE"),
                            index=True,
                        ),
                        sa.Column("value", _COLLECTIONS[f.kind](), nullable=False),
                    )
                    self.side_tables[(entity_type, f.path)] = side

    def create_all(self, engine: Engine) -> None:
        self.metadata.create_all(engine)

    def clear(self, connection: Connection) -> None:
        """Delete every row (fast reset between tests)."""
        for table in reversed(self.metadata.sorted_tables):
            connection.execute(table.delete())

    def row(self, entity: Entity) -> dict[str, Any]:
        values: dict[str, Any] = {
            "id": entity.id,
            "version": entity.version,
            "data": to_json(entity),
        }
        for f in self.fields[type(entity)]:
            values[_column_name(f)] = _storage(f, f.get(entity))
        return values

    def side_rows(self, entity: Entity) -> dict[sa.Table, list[dict[str, Any]]]:
        out: dict[sa.Table, list[dict[str, Any]]] = {}
        for (entity_type, path), table in self.side_tables.items():
            if entity_type is type(entity):
                values = resolve_field(entity_type, path).get(entity) or ()
                out[table] = [{"entity_id": entity.id, "value": v} for v in sorted(values, key=str)]
        return out


class _Compiler:
    """Turns a checked crmkit query into SQLAlchemy expressions."""

    def __init__(self, schema: Schema, entity_type: type, dialect: str) -> None:
        self.schema = schema
        self.entity_type = entity_type
        self.table = schema.tables[entity_type]
        self.postgres = dialect == "postgresql"

    def column(self, info: FieldInfo) -> Any:
        col = (
            self.table.c[_column_name(info)]
            if info.path not in ("id", "version")
            else self.table.c[info.path]
        )
        if self.postgres and info.kind in ("text", "enum", "email", "phone"):
            return col.collate("C")
        return col

    def value(self, info: FieldInfo, value: Any) -> Any:
        return _storage(info, value)

    def _any_of(self, items: tuple[Any, ...]) -> list[Any]:
        """The parts of an ``Or``; equality tests of one column become one ``IN``.

        ``x = a OR x = b OR ...`` and ``x IN (a, b, ...)`` agree in SQL's
        three-valued logic, and an engine parses the chain as deep as it is
        long (SQLite refuses depth 1,000): 10,000 e-mail addresses OR-ed
        together are one ``IN`` list.
        """
        parts: list[Any] = []
        equal: dict[str, tuple[FieldInfo, list[Any]]] = {}
        for item in items:
            if (
                isinstance(item, Condition)
                and item.op == "eq"
                and item.info.kind not in _COLLECTIONS
                and item.value is not None
            ):
                equal.setdefault(item.info.path, (item.info, []))[1].append(item.value)
            else:
                parts.append(self.filter(item))
        for info, values in equal.values():
            col = self.column(info)
            stored = [self.value(info, v) for v in values]
            parts.append(col == stored[0] if len(stored) == 1 else col.in_(stored))
        return parts

    def filter(self, node: Any) -> Any:
        if isinstance(node, And):
            return sa.and_(sa.true(), *(self.filter(n) for n in node.items))
        if isinstance(node, Or):
            return sa.or_(sa.false(), *self._any_of(node.items))
        if isinstance(node, Not):
            return sa.not_(self.filter(node.item))
        assert isinstance(node, Condition)
        info, op, value = node.info, node.op, node.value
        if info.kind in _COLLECTIONS:
            side = self.schema.side_tables[(self.entity_type, info.path)]
            return sa.exists().where(side.c.entity_id == self.table.c.id, side.c.value == value)
        col = self.column(info)
        if op == "is_null":
            return col.is_(None) if value else col.is_not(None)
        if op == "in":
            return col.in_([self.value(info, v) for v in value])
        if op == "contains":
            position = sa.func.strpos(col, value) if self.postgres else sa.func.instr(col, value)
            return position > 0
        if op == "startswith":
            return sa.func.substr(col, 1, len(value)) == value
        if op == "email_is":
            return sa.func.lower(col) == value
        v = self.value(info, value)
        return {
            "eq": col == v,
            "ne": col != v,
            "lt": col < v,
            "le": col <= v,
            "gt": col > v,
            "ge": col >= v,
        }[op]

    def order(self, query: Query[Any]) -> list[Any]:
        out = []
        for item in query.sort_order:
            col = self.column(item.info)
            out.append(col.desc().nulls_first() if item.descending else col.asc().nulls_last())
        return out

    def after(self, query: Query[Any]) -> Any:
        """The keyset predicate: rows strictly after the cursor in the query's order."""
        keys = query.keyset()
        if not keys:
            return sa.true()
        alternatives = []
        for i, (info, descending, value) in enumerate(keys):
            col = self.column(info)
            v = self.value(info, value)
            equal_before = [
                (self.column(k) == self.value(k, kv))
                if kv is not None
                else self.column(k).is_(None)
                for k, _, kv in keys[:i]
            ]
            if descending:  # order: NULLs first, then larger values first
                beyond = col.is_not(None) if v is None else col < v
            else:  # order: smaller values first, NULLs last
                beyond = sa.false() if v is None else sa.or_(col > v, col.is_(None))
            alternatives.append(sa.and_(*equal_before, beyond))
        return sa.or_(*alternatives)


class _Core(Generic[E]):
    """The statements, run on a connection given by the caller."""

    def __init__(self, entity_type: type[E], schema: Schema) -> None:
        if not isinstance(schema, Schema):
            raise ValidationError([("schema", f"must be a Schema, got {describe(schema)}")])
        if not isinstance(entity_type, type) or entity_type not in schema.tables:
            raise ValidationError([("entity_type", f"no table for {shown(entity_type)}")])
        self.entity_type = entity_type
        self.schema = schema
        self.table = schema.tables[entity_type]

    def _check(self, entity: Any) -> None:
        if not isinstance(entity, self.entity_type):
            raise ValidationError(
                [("entity", f"must be a {self.entity_type.__name__}, got {type(entity).__name__}")]
            )

    def _write_side(self, conn: Connection, entity: Entity, replace: bool) -> None:
        for table, rows in self.schema.side_rows(entity).items():
            if replace:
                conn.execute(table.delete().where(table.c.entity_id == entity.id))
            if rows:
                conn.execute(table.insert(), rows)

    def add(self, conn: Connection, entity: E) -> E:
        self._check(entity)
        try:
            with (
                conn.begin_nested()
            ):  # a savepoint: a duplicate must not abort the caller's transaction
                conn.execute(self.table.insert().values(**self.schema.row(entity)))
                self._write_side(conn, entity, replace=False)
        except sa.exc.IntegrityError:
            raise DuplicateError(
                f"a {self.entity_type.__name__} with id {entity.id} exists already"
            ) from None
        return entity

    def get(self, conn: Connection, id: UUID) -> E:
        if not isinstance(id, UUID):
            raise ValidationError([("id", f"must be a UUID, got {type(id).__name__}")])
        data = conn.execute(
            sa.select(self.table.c.data).where(self.table.c.id == id)
        ).scalar_one_or_none()
        if data is None:
            raise NotFound(f"no {self.entity_type.__name__} with id {id}")
        return from_json(self.entity_type, data)

    def _stored_version(self, conn: Connection, id: UUID) -> int | None:
        return conn.execute(
            sa.select(self.table.c.version).where(self.table.c.id == id)
        ).scalar_one_or_none()

    def save(self, conn: Connection, entity: E, now: datetime) -> E:
        self._check(entity)
        stored = self.get(conn, entity.id)  # NotFound if missing
        new = entity.evolve(
            version=entity.version + 1, updated_at=max(now, entity.updated_at, stored.updated_at)
        )
        result = conn.execute(
            self.table.update()
            .where(self.table.c.id == entity.id, self.table.c.version == entity.version)
            .values(**self.schema.row(new))
        )
        if result.rowcount != 1:
            version = self._stored_version(conn, entity.id)
            if version is None:
                raise NotFound(f"no {self.entity_type.__name__} with id {entity.id}")
            raise ConcurrencyError(
                f"{self.entity_type.__name__} {entity.id} was changed by someone else: you saved version "
                f"{entity.version}, the stored one is version {version}; reload it and apply your change again"
            )
        self._write_side(conn, new, replace=True)
        return new

    def remove(self, conn: Connection, id: UUID, expected_version: int) -> None:
        if not isinstance(id, UUID):
            raise ValidationError([("id", f"must be a UUID, got {describe(id)}")])
        if type(expected_version) is not int or not 0 <= expected_version < 2**63:
            raise ValidationError(
                [
                    (
                        "expected_version",
                        f"must be an integer version, got {describe(expected_version)}",
                    )
                ]
            )
        result = conn.execute(
            self.table.delete().where(
                self.table.c.id == id, self.table.c.version == expected_version
            )
        )
        if result.rowcount != 1:
            version = self._stored_version(conn, id)
            if version is None:
                raise NotFound(f"no {self.entity_type.__name__} with id {id}")
            raise ConcurrencyError(
                f"{self.entity_type.__name__} {id} is at version {version}, not {expected_version}; nothing was removed"
            )
        for (entity_type, _), side in self.schema.side_tables.items():
            if entity_type is self.entity_type:
                conn.execute(side.delete().where(side.c.entity_id == id))

    def _query(self, query: Any) -> Query[E]:
        if query is None:
            return Query(self.entity_type)
        if not isinstance(query, Query) or query.entity_type is not self.entity_type:
            raise ValidationError([("query", f"must be a Query of {self.entity_type.__name__}")])
        return query

    def query(self, conn: Connection, query: Query[E]) -> Page[E]:
        q = self._query(query)
        compiler = _Compiler(self.schema, self.entity_type, conn.dialect.name)
        stmt = sa.select(self.table.c.data).order_by(*compiler.order(q))
        if q.filter is not None:
            stmt = stmt.where(compiler.filter(q.filter))
        if q.cursor is not None:
            stmt = stmt.where(compiler.after(q))
        if q.page_size is not None:
            stmt = stmt.limit(q.page_size + 1)  # one more tells whether a next page exists
        rows = [from_json(self.entity_type, data) for data in conn.execute(stmt).scalars()]
        if q.page_size is None or len(rows) <= q.page_size:
            return Page(tuple(rows), None)
        items = tuple(rows[: q.page_size])
        return Page(items, q.cursor_for(items[-1]))

    def count(self, conn: Connection, query: Query[E] | None) -> int:
        q = self._query(query)
        compiler = _Compiler(self.schema, self.entity_type, conn.dialect.name)
        stmt = sa.select(sa.func.count()).select_from(self.table)
        if q.filter is not None:
            stmt = stmt.where(compiler.filter(q.filter))
        return int(conn.execute(stmt).scalar_one())


def sqlite_engine(url: str = "sqlite://", **kwargs: Any) -> Engine:
    """An SQLite engine whose transactions and savepoints behave.

    Python's sqlite3 driver delays ``BEGIN`` until the first write, so a
    ``SAVEPOINT`` opened before it (as :meth:`SqlRepository.add` does) would
    commit on release. The two hooks below are SQLAlchemy's documented fix:
    the driver stops managing transactions and SQLAlchemy emits ``BEGIN``.
    It is ``BEGIN IMMEDIATE``: SQLite has one writer at a time, and a
    transaction that reads and then writes (an optimistic save) would
    otherwise fail with "database is locked" instead of waiting its turn.
    """
    if type(url) is not str or not url.startswith("sqlite:"):
        raise ValidationError(
            [("url", f"must be an SQLite URL such as 'sqlite:///crm.db', got {describe(url)}")]
        )
    try:
        engine = sa.create_engine(url, **kwargs)
    except (sa.exc.ArgumentError, ValueError, TypeError) as exc:
        raise ValidationError(
            [("url", f"is not a usable SQLite URL: {type(exc).__name__}")]
        ) from None

    @sa.event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SqlRepository(Generic[E]):
    """A repository whose every call is its own transaction."""

    def __init__(
        self,
        entity_type: type[E],
        engine: Engine,
        schema: Schema,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._core = _Core(entity_type, schema)
        self._engine = engine
        self._clock = clock

    @property
    def entity_type(self) -> type[E]:
        return self._core.entity_type

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._engine.begin() as conn:
            yield conn

    def add(self, entity: E) -> E:
        with self._tx() as conn:
            return self._core.add(conn, entity)

    def get(self, id: UUID) -> E:
        with self._tx() as conn:
            return self._core.get(conn, id)

    def save(self, entity: E) -> E:
        with self._tx() as conn:
            return self._core.save(conn, entity, self._clock())

    def remove(self, id: UUID, *, expected_version: int) -> None:
        with self._tx() as conn:
            self._core.remove(conn, id, expected_version)

    def query(self, query: Query[E]) -> Page[E]:
        with self._tx() as conn:
            return self._core.query(conn, query)

    def count(self, query: Query[E] | None = None) -> int:
        with self._tx() as conn:
            return self._core.count(conn, query)


class _ConnectionRepository(Generic[E]):
    """A repository inside a unit of work: every call on the unit's connection and transaction."""

    def __init__(self, core: _Core[E], conn: Connection, clock: Callable[[], datetime]) -> None:
        self._core = core
        self._conn = conn
        self._clock = clock

    @property
    def entity_type(self) -> type[E]:
        return self._core.entity_type

    def add(self, entity: E) -> E:
        return self._core.add(self._conn, entity)

    def get(self, id: UUID) -> E:
        return self._core.get(self._conn, id)

    def save(self, entity: E) -> E:
        return self._core.save(self._conn, entity, self._clock())

    def remove(self, id: UUID, *, expected_version: int) -> None:
        self._core.remove(self._conn, id, expected_version)

    def query(self, query: Query[E]) -> Page[E]:
        return self._core.query(self._conn, query)

    def count(self, query: Query[E] | None = None) -> int:
        return self._core.count(self._conn, query)


class SqlUnitOfWork:
    """A unit of work as one database transaction."""

    def __init__(
        self, engine: Engine, schema: Schema, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self._engine = engine
        self._schema = schema
        self._clock = clock
        self._conn: Connection | None = None
        self._tx: sa.Transaction | None = None
        self._events: list[Any] = []

    def __enter__(self) -> SqlUnitOfWork:
        self._conn = self._engine.connect()
        self._tx = self._conn.begin()
        self._events = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            if self._conn is not None:
                self._conn.close()
            self._conn = None

    def _connection(self) -> Connection:
        if self._conn is None:
            raise ValidationError([("uow", "use the unit of work inside a 'with' block")])
        if self._tx is None or not self._tx.is_active:
            self._tx = self._conn.begin()
        return self._conn

    def repository(self, entity_type: type[E]) -> _ConnectionRepository[E]:
        return _ConnectionRepository(
            _Core(entity_type, self._schema), self._connection(), self._clock
        )

    def record(self, *events: Any) -> None:
        self._connection()
        self._events.extend(events)

    def commit(self) -> Sequence[Any]:
        self._connection()
        assert self._tx is not None
        self._tx.commit()
        events, self._events = tuple(self._events), []
        return events

    def rollback(self) -> None:
        if self._tx is not None and self._tx.is_active:
            self._tx.rollback()
        self._events = []
