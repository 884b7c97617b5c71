"""Records: the table the quality functions read, built from columns, rows, contacts or a frame."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from crmkit._text import describe
from crmkit.errors import ValidationError

__all__ = ["CONTACT_COLUMNS", "Records", "as_records"]

#: The contact columns the ready-made pieces know (contact_model, crmkit dedupe, synthetic_people).
CONTACT_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "postcode",
    "date_of_birth",
)


def _column(name: str, values: Any) -> np.ndarray:
    """An object array of ``str`` or ``None`` (blank text counts as missing)."""
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    if isinstance(values, (str, bytes)):
        raise ValidationError([(name, "must be a sequence of values, got text")])
    try:
        array = np.empty(len(values), dtype=object)
        array[:] = values.tolist() if isinstance(values, np.ndarray) else list(values)
    except (TypeError, ValueError, OverflowError, RecursionError):
        raise ValidationError(
            [(name, f"must be a sequence of values, got {describe(values)}")]
        ) from None
    if array.ndim != 1:
        raise ValidationError([(name, f"must be one-dimensional, got shape {array.shape}")])
    out = np.empty(array.size, dtype=object)
    for i, value in enumerate(array.tolist()):
        if value is None or (isinstance(value, float) and value != value):
            out[i] = None
        elif isinstance(value, str):
            out[i] = value if value.strip() else None
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, bool
        ):
            out[i] = str(value)
        elif hasattr(value, "isoformat"):
            out[i] = value.isoformat()
        else:
            raise ValidationError(
                [(f"{name}[{i}]", f"must be text, a number or a date, got {describe(value)}")]
            )
    return out


class Records:
    """Named columns of text, one value per record (``None`` where missing).

    ``ids`` names each record (default: its position). Build one from
    columns, from rows (:meth:`from_rows`), from contacts
    (:meth:`from_contacts`) or through :func:`as_records`, which takes any
    of these. Numbers and dates become text; blank text is missing.

    >>> r = Records({"first_name": ["Ada", None], "last_name": ["Lovelace", "Hopper"]})
    >>> len(r), r["first_name"].tolist()
    (2, ['Ada', None])
    """

    __slots__ = ("_codes", "_columns", "_ids")

    def __init__(self, columns: Mapping[str, Any], ids: Any = None) -> None:
        if not isinstance(columns, Mapping) or not columns:
            raise ValidationError([("columns", "must map at least one column name to its values")])
        checked: dict[str, np.ndarray] = {}
        size: int | None = None
        for name, values in columns.items():
            if type(name) is not str:
                raise ValidationError([("columns", f"names must be text, got {describe(name)}")])
            column = _column(name, values)
            if size is not None and column.size != size:
                raise ValidationError(
                    [(name, f"has {column.size} values where the other columns have {size}")]
                )
            size = column.size
            checked[name] = column
        if ids is None:
            ident = np.arange(size or 0)
        else:
            try:
                ident = np.empty(len(ids), dtype=object)
                ident[:] = ids.tolist() if isinstance(ids, np.ndarray) else list(ids)
            except (TypeError, ValueError, OverflowError, RecursionError):
                raise ValidationError(
                    [("ids", f"must be a sequence, got {describe(ids)}")]
                ) from None
        if ident.shape != (size,):
            raise ValidationError(
                [("ids", f"must hold one id per record ({size}), got shape {ident.shape}")]
            )
        self._columns = MappingProxyType(checked)
        self._ids = ident
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def columns(self) -> Mapping[str, np.ndarray]:
        """The columns by name (read-only)."""
        return self._columns

    @property
    def ids(self) -> np.ndarray:
        """One id per record."""
        return self._ids

    def __repr__(self) -> str:
        return f"Records({len(self):,} records; columns {', '.join(self._columns)})"

    def __len__(self) -> int:
        return int(self.ids.size)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self._columns[name]
        except KeyError:
            raise ValidationError(
                [("column", f"{describe(name)} is not a column ({', '.join(self.columns)})")]
            ) from None

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """The column as integer codes (-1 where missing) and the sorted distinct values they index.

        Matching compares codes, not strings: equal values have equal codes,
        the order of the codes is the order of the values, and a similarity
        is computed once per distinct pair of values. Worked out once per
        column (the records never change).

        >>> codes, values = Records({"n": ["b", None, "a", "b"]}).codes("n")
        >>> codes.tolist(), values.tolist()
        ([1, -1, 0, 1], ['a', 'b'])
        """
        found = self._codes.get(column)
        if found is None:
            values = self[column]
            present = values != None  # noqa: E711 - elementwise on an object array
            distinct, inverse = np.unique(values[present].astype(str), return_inverse=True)
            codes = np.full(values.size, -1, dtype=np.int64)
            codes[present] = inverse.ravel()
            found = (codes, distinct.astype(object))
            self._codes[column] = found
        return found

    def with_columns(self, **columns: Any) -> Records:
        """A copy with ``columns`` added or replaced."""
        return Records({**self._columns, **columns}, self._ids)

    @classmethod
    def from_rows(
        cls, rows: Iterable[Mapping[str, Any]], *, id_column: str | None = None
    ) -> Records:
        """Records from dicts (CSV or JSON Lines rows); ``id_column`` names the records."""
        from crmkit._args import items, text

        rows = items(rows, "rows")
        if id_column is not None:
            id_column = text(id_column, "id_column")
        names: dict[str, None] = {}
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise ValidationError([(f"rows[{i}]", f"must be a mapping, got {describe(row)}")])
            names.update(dict.fromkeys(row))
        ids = None
        if id_column is not None:
            names.pop(id_column, None)
            ids = [row.get(id_column) for row in rows]
        if not rows:
            raise ValidationError([("rows", "must hold at least one record")])
        return cls({n: [row.get(n) for row in rows] for n in names}, ids)

    @classmethod
    def from_contacts(cls, contacts: Iterable[Any]) -> Records:
        """Matching fields of :class:`~crmkit.entities.Contact` objects, named by their ids.

        Columns: ``first_name``, ``last_name``, ``email`` (the normalised
        address), ``phone`` (E.164), ``street`` (the address lines),
        ``city``, ``postcode``, ``country`` and ``updated_at``.
        """
        from crmkit._args import items
        from crmkit.entities import Contact

        contacts = items(contacts, "contacts")
        for i, c in enumerate(contacts):
            if not isinstance(c, Contact):
                raise ValidationError([(f"contacts[{i}]", f"must be a Contact, got {describe(c)}")])
        if not contacts:
            raise ValidationError([("contacts", "must hold at least one contact")])

        def address(c: Any, part: str) -> Any:
            a = c.address
            if a is None:
                return None
            return ", ".join(a.lines) if part == "lines" else getattr(a, part)

        return cls(
            {
                "first_name": [c.first_name for c in contacts],
                "last_name": [c.last_name for c in contacts],
                "email": [c.email.normalized if c.email else None for c in contacts],
                "phone": [c.phone.e164 if c.phone else None for c in contacts],
                "street": [address(c, "lines") for c in contacts],
                "city": [address(c, "city") for c in contacts],
                "postcode": [address(c, "postal_code") for c in contacts],
                "country": [address(c, "country") for c in contacts],
                "updated_at": [c.updated_at for c in contacts],
            },
            [c.id for c in contacts],
        )


def as_records(data: Any) -> Records:
    """:class:`Records` from records, columns (a mapping of sequences), rows, contacts or a frame."""
    if isinstance(data, Records):
        return data
    if isinstance(data, Mapping):
        return Records(data)
    from crmkit.value._frames import is_frame

    if is_frame(data):
        import narwhals.stable.v2 as nw

        frame = nw.from_native(data)
        if isinstance(frame, nw.LazyFrame):
            frame = frame.collect()
        return Records({c: frame[c].to_list() for c in frame.columns})
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise ValidationError(
            [("records", f"must be records, columns, rows or contacts, got {describe(data)}")]
        )
    from crmkit._args import items
    from crmkit.entities import Contact

    rows = items(data, "records")
    if rows and isinstance(rows[0], Contact):
        return Records.from_contacts(rows)
    return Records.from_rows(rows)
