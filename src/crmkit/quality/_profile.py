"""Profile: how complete, valid, unique, plausible and fresh each field of a set of records is.

Per column: completeness (the share of records with a value), validity
(the share of present values that read as what the column holds: an
e-mail address, a phone number, a country code, a date, by crmkit's own
rules), uniqueness (distinct values over present values), suspicious
values (placeholders such as "test@test.com", "N/A", "unknown", and for
columns that should identify one person, values shared by many records)
and, where the records carry ``updated_at``, freshness. Everything is
computed on the distinct values of a column, then counted with numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

import attrs
import numpy as np

from crmkit._table import table
from crmkit.errors import ValidationError
from crmkit.quality._records import as_records

__all__ = ["FieldProfile", "Profile", "profile"]

#: Values people type when they have nothing to type (compared case-folded, without spaces).
PLACEHOLDERS = frozenset(
    [
        "n/a",
        "na",
        "none",
        "null",
        "nil",
        "unknown",
        "unk",
        "tbd",
        "tba",
        "-",
        "--",
        ".",
        "x",
        "xx",
        "xxx",
        "xxxx",
        "test",
        "testing",
        "asdf",
        "qwerty",
        "abc",
        "123",
        "1234",
        "12345",
        "123456",
        "0",
        "00",
        "000",
        "0000",
        "none@none.com",
        "test@test.com",
        "test@example.com",
        "noemail@noemail.com",
        "no@email.com",
        "email@email.com",
        "a@a.com",
        "x@x.com",
        "noreply@noreply.com",
        "0000000000",
        "1111111111",
        "1234567890",
        "+440000000000",
        "dummy",
        "fake",
        "sample",
        "nobody",
        "anonymous",
    ]
)
#: Columns whose values should each belong to one person: many records sharing one is suspicious.
IDENTIFYING = frozenset({"email", "phone"})
#: How many records may share an identifying value before it is called suspicious.
SHARED_LIMIT = 5

_KINDS = {
    "email": "email",
    "phone": "phone",
    "mobile": "phone",
    "country": "country",
    "date_of_birth": "date",
    "birth_date": "date",
    "postcode": "postcode",
    "postal_code": "postcode",
    "first_name": "name",
    "last_name": "name",
}


@attrs.frozen
class FieldProfile:
    """The figures of one column (validity is None where crmkit has no rule for the column)."""

    column: str
    kind: str | None
    present: int
    completeness: float
    validity: float | None
    distinct: int
    uniqueness: float
    suspicious: int
    examples: tuple[str, ...]  # the most common suspicious values

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class Profile:
    """Per column profiles of a set of records, and their freshness when ``updated_at`` is known."""

    records: int
    fields: tuple[FieldProfile, ...]
    as_of: datetime | None
    median_age_days: float | None
    stale_share: float | None  # updated more than a year before ``as_of``

    def __getitem__(self, column: str) -> FieldProfile:
        for f in self.fields:
            if f.column == column:
                return f
        raise ValidationError([("column", f"{column!r} was not profiled")])

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "fields": [f.to_dict() for f in self.fields],
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "median_age_days": self.median_age_days,
            "stale_share": self.stale_share,
        }

    def __str__(self) -> str:
        rows = [
            (
                f.column,
                f.completeness,
                "-" if f.validity is None else f"{f.validity:.1%}",
                f.uniqueness,
                f.suspicious,
                ", ".join(repr(e) for e in f.examples[:2]),
            )
            for f in self.fields
        ]
        out = table(
            ("field", "complete", "valid", "unique", "suspicious", "e.g."),
            rows,
            formats=("", ".1%", "", ".1%", ",", ""),
            title=f"{self.records:,} records",
        )
        if self.median_age_days is not None:
            out += (
                f"\nlast updated: median {self.median_age_days:,.0f} days before "
                f"{self.as_of:%Y-%m-%d}; {self.stale_share:.1%} more than a year before"
            )
        return out


def _epoch(text: str) -> float:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ValidationError(
            [("updated_at", f"must hold ISO 8601 datetimes with a zone, got {text[:40]!r}")]
        )
    return when.timestamp()


def _validity(kind: str | None, values: np.ndarray, region: str | None) -> np.ndarray | None:
    """Whether each distinct value reads as a ``kind`` (None: no rule for the kind)."""
    from crmkit.quality import _standardise as st

    rules: dict[str, Callable[[str], object]] = {
        "email": st._email,
        "phone": st._phone(region),
        "country": st._country,
        "date": st._date(True),
        "postcode": st._code,
        "name": partial(st._name_part, 0),
    }
    check = rules.get(kind or "")
    if check is None:
        return None
    return np.array([check(v) is not None for v in values.tolist()], dtype=bool)


def profile(
    records: Any,
    *,
    kinds: Mapping[str, str] | None = None,
    as_of: datetime | None = None,
    default_region: str | None = None,
) -> Profile:
    """Profile every column of ``records`` (see the module docs).

    ``kinds`` names what a column holds where its name does not say
    (``{"mail": "email"}``; kinds: email, phone, country, date, postcode,
    name). ``as_of`` (timezone-aware) measures freshness from an
    ``updated_at`` column (ISO datetimes, as ``Records.from_contacts`` gives).
    ``default_region`` reads national phone numbers.

    >>> from crmkit.quality import Records, profile
    >>> p = profile(Records({"email": ["ada@example.com", "test@test.com", None, "bad"],
    ...                      "phone": ["+442079460958"] * 4}))
    >>> p["email"].completeness, p["email"].validity, p["email"].suspicious
    (0.75, 0.6666666666666666, 1)
    >>> p["phone"].suspicious  # one number for four records: not one person's
    0
    """
    from crmkit._args import choice, instance, text
    from crmkit.quality._standardise import region_code

    records = as_records(records)
    region = region_code(default_region)
    chosen: dict[str, str] = {}
    if kinds is not None:
        instance(kinds, Mapping, "kinds")
        for column, named in kinds.items():
            records[text(column, "kinds")]
            chosen[column] = choice(named, f"kinds[{column}]", sorted(set(_KINDS.values())))
    if as_of is not None and (not isinstance(as_of, datetime) or as_of.tzinfo is None):
        raise ValidationError([("as_of", "must be a timezone-aware datetime")])
    n = len(records)
    fields = []
    for column in records.columns:
        if column == "updated_at":
            continue
        kind: str | None = chosen.get(column, _KINDS.get(column))
        codes, values = records.codes(column)
        present = codes >= 0
        counts = np.bincount(codes[present], minlength=values.size)
        folded = np.array(["".join(v.casefold().split()) for v in values.tolist()], dtype=object)
        odd = np.isin(folded, list(PLACEHOLDERS)) if values.size else np.zeros(0, dtype=bool)
        if column in IDENTIFYING or kind in ("email", "phone"):
            odd |= counts > SHARED_LIMIT
        valid = _validity(kind, values, region)
        n_present = int(present.sum())
        worst = np.flatnonzero(odd)[np.argsort(-counts[odd], kind="stable")][:3]
        fields.append(
            FieldProfile(
                column=column,
                kind=kind,
                present=n_present,
                completeness=n_present / n,
                validity=None
                if valid is None
                else (float(counts[valid].sum()) / n_present if n_present else 1.0),
                distinct=int(values.size),
                uniqueness=values.size / n_present if n_present else 1.0,
                suspicious=int(counts[odd].sum()),
                examples=tuple(str(values[i]) for i in worst),
            )
        )
    median = stale = None
    if as_of is not None and "updated_at" in records.columns:
        stamps = records["updated_at"]
        known = stamps[stamps != None]  # noqa: E711 - elementwise on an object array
        if known.size:
            seconds = np.array([_epoch(v) for v in known.tolist()])
            ages = (as_of.timestamp() - seconds) / 86_400
            median, stale = float(np.median(ages)), float(np.mean(ages > 365))
    return Profile(n, tuple(fields), as_of, median, stale)
