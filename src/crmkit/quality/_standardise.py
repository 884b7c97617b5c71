"""Standardise contact data before matching: every change reported, nothing rewritten in place.

Names go through Unicode NFKC (the compatibility forms: full-width letters,
ligatures), case folding and whitespace collapsing, and lose their
honorifics ("Dr", "Mrs") and suffixes ("Jr", "III"), which are kept in
columns of their own. E-mail addresses become crmkit's de-duplication key
(:attr:`crmkit.entities.Email.normalized`), phone numbers E.164 through
phonenumbers with a default region, postcodes and country codes upper case
with single spaces, dates ISO 8601. Values that cannot be read (an e-mail
without a domain, a phone number that is not one) become missing in the
standardised copy and are counted as ``invalid``.

Each function works on the distinct values of a column, so a name shared
by ten thousand customers is parsed once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial

import attrs
import numpy as np

from crmkit.quality._records import Records, as_records

__all__ = ["Change", "Standardised", "standardise", "standardise_contacts"]

HONORIFICS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "dame",
        "lord",
        "lady",
        "rev",
        "fr",
        "mme",
        "mlle",
        "herr",
        "frau",
        "sr",
        "sra",
    ]
)
SUFFIXES = frozenset(["jr", "sr", "ii", "iii", "iv", "v", "phd", "md", "esq", "jnr", "snr"])
_SPACE = re.compile(r"\s+")
_NAME_JUNK = re.compile(r"[^\w\s'\-]")


@attrs.frozen
class Change:
    """What standardisation did to one column: ``changed`` values rewritten, ``invalid`` cleared.

    ``examples`` holds up to three ``(before, after)`` pairs of each kind.
    """

    column: str
    kind: str
    changed: int
    invalid: int
    examples: tuple[tuple[str, str | None], ...]


@attrs.frozen(eq=False)
class Standardised:
    """The standardised copy of the records and the changes, one per column touched."""

    records: Records
    changes: tuple[Change, ...]

    def report(self) -> str:
        """One line per column: how many values changed and how many were unreadable."""
        lines = []
        for c in self.changes:
            shown = "; ".join(f"{b!r} -> {a!r}" for b, a in c.examples)
            lines.append(
                f"{c.column} ({c.kind}): {c.changed:,} changed, {c.invalid:,} unreadable"
                + (f"; e.g. {shown}" if shown else "")
            )
        return "\n".join(lines)


def _by_value(values: np.ndarray, fn: Callable[[str], object]) -> np.ndarray:
    """``fn`` of each entry, computed once per distinct present value (``None`` stays ``None``)."""
    out = np.full(values.size, None, dtype=object)
    present = np.flatnonzero(values != None)  # noqa: E711 - elementwise on an object array
    if present.size:
        distinct, inverse = np.unique(values[present].astype(str), return_inverse=True)
        mapped = np.empty(distinct.size, dtype=object)
        mapped[:] = [fn(v) for v in distinct.tolist()]
        out[present] = mapped[inverse]
    return out


def clean_text(text: str) -> str:
    """NFKC, case-folded, single spaces, no leading or trailing space.

    >>> clean_text("  ＪＯＨＮ   Smith ")
    'john smith'
    """
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def split_name(text: str) -> tuple[str | None, str | None, str | None]:
    """``(name, honorific, suffix)`` of a cleaned name; punctuation other than ``'`` and ``-`` dropped.

    >>> split_name("Dr. Martin Luther King Jr.")
    ('martin luther king', 'dr', 'jr')
    """
    words = _NAME_JUNK.sub(" ", clean_text(text)).split()
    honorific = suffix = None
    if len(words) > 1 and words[0] in HONORIFICS:
        honorific = words.pop(0)
    if len(words) > 1 and words[-1] in SUFFIXES:
        suffix = words.pop()
    return (" ".join(words) or None), honorific, suffix


def _name_part(i: int, text: str) -> str | None:
    return split_name(text)[i]


def _email(text: str) -> str | None:
    from crmkit.entities import Email
    from crmkit.errors import ValidationError

    try:
        return Email(text.strip()).normalized
    except ValidationError:
        return None


def _phone(region: str | None) -> Callable[[str], str | None]:
    from crmkit.entities import PhoneNumber
    from crmkit.errors import ValidationError

    def parse(text: str) -> str | None:
        try:
            return PhoneNumber.parse(text, region=region).e164
        except ValidationError:
            return None

    return parse


def _code(text: str) -> str | None:
    """Postcodes and country codes: upper case, single spaces, letters, digits, spaces and dashes."""
    cleaned = _SPACE.sub(" ", re.sub(r"[^\w\s\-]", "", unicodedata.normalize("NFKC", text))).strip()
    return cleaned.upper() or None


def _country(text: str) -> str | None:
    from crmkit.entities import Address

    code = _code(text)
    return code if code in Address.ISO_COUNTRIES else None


_DATE_FORMATS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
    re.compile(r"(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})"),
)


def _date(dayfirst: bool) -> Callable[[str], str | None]:
    """ISO 8601 from ``YYYY-MM-DD``, ``YYYYMMDD``, ``YYYY/MM/DD`` and ``DD/MM/YYYY`` (or ``MM/DD/YYYY``)."""
    local = re.compile(r"(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y>\d{4})")

    def parse(text: str) -> str | None:
        text = text.strip()[:10] if "T" in text or " " in text.strip() else text.strip()
        for pattern in _DATE_FORMATS:
            m = pattern.fullmatch(text)
            if m:
                y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
                break
        else:
            m = local.fullmatch(text)
            if not m:
                return None
            y = int(m["y"])
            d, mo = (int(m["a"]), int(m["b"])) if dayfirst else (int(m["b"]), int(m["a"]))
        try:
            return date(y, mo, d).isoformat()
        except ValueError:
            return None

    return parse


def region_code(value: object) -> str | None:
    """An ISO 3166-1 alpha-2 region (for phone numbers), upper case; None stays None."""
    from crmkit._args import text
    from crmkit.entities import Address
    from crmkit.errors import ValidationError

    if value is None:
        return None
    region = text(value, "default_region").upper()
    if region not in Address.ISO_COUNTRIES:
        raise ValidationError([("default_region", "must be an ISO 3166-1 alpha-2 code such as GB")])
    return region


def _examples(
    before: np.ndarray, after: np.ndarray, mask: np.ndarray
) -> tuple[tuple[str, str | None], ...]:
    picked = np.flatnonzero(mask)[:3]
    return tuple((str(before[i]), after[i]) for i in picked)


def standardise(
    records: object,
    *,
    names: Sequence[str] = (),
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    postcodes: Sequence[str] = (),
    countries: Sequence[str] = (),
    dates: Sequence[str] = (),
    default_region: str | None = None,
    dayfirst: bool = True,
) -> Standardised:
    """A standardised copy of ``records`` and a report of every change.

    Name columns gain ``<column>_honorific`` and ``<column>_suffix``
    columns for what was split off. ``default_region`` (ISO 3166-1
    alpha-2) reads national phone numbers; ``dayfirst`` reads ``01/02/2020``
    as 1 February.

    >>> from crmkit.quality import Records, standardise
    >>> r = Records({"name": ["  Dr. ＡＤＡ  Lovelace", "grace hopper"],
    ...              "phone": ["020 7946 0958", "not a number"]})
    >>> s = standardise(r, names=["name"], phones=["phone"], default_region="GB")
    >>> s.records["name"].tolist(), s.records["name_honorific"].tolist()
    (['ada lovelace', 'grace hopper'], ['dr', None])
    >>> s.records["phone"].tolist()
    ['+442079460958', None]
    >>> print(s.report())
    name (name): 1 changed, 0 unreadable; e.g. '  Dr. ＡＤＡ  Lovelace' -> 'ada lovelace'
    phone (phone): 1 changed, 1 unreadable; e.g. '020 7946 0958' -> '+442079460958'; 'not a number' -> None
    """
    from crmkit._args import instance, texts

    records = as_records(records)
    instance(dayfirst, bool, "dayfirst")
    default_region = region_code(default_region)
    plan: list[tuple[str, str, Callable[[str], str | None]]] = []
    for kind, columns, fn in (
        ("email", emails, _email),
        ("phone", phones, _phone(default_region)),
        ("postcode", postcodes, _code),
        ("country", countries, _country),
        ("date", dates, _date(dayfirst)),
    ):
        for column in texts(columns, kind + "s"):
            records[column]
            plan.append((column, kind, fn))
    new: dict[str, np.ndarray] = {}
    changes = []
    for column in texts(names, "names"):
        before = records[column]
        for i, suffix in enumerate(("", "_honorific", "_suffix")):
            new[column + suffix] = _by_value(before, partial(_name_part, i))
        changes.append(_change(column, "name", before, new[column]))
    for column, kind, fn in plan:
        before = records[column]
        new[column] = _by_value(before, fn)
        changes.append(_change(column, kind, before, new[column]))
    return Standardised(records.with_columns(**new), tuple(changes))


def _change(column: str, kind: str, before: np.ndarray, after: np.ndarray) -> Change:
    invalid = (before != None) & (after == None)  # noqa: E711 - elementwise on object arrays
    changed = (before != after) & ~invalid
    return Change(
        column,
        kind,
        int(np.sum(changed)),
        int(np.sum(invalid)),
        _examples(before, after, changed) + _examples(before, after, invalid),
    )


def standardise_contacts(records: object, *, default_region: str | None = None) -> Standardised:
    """:func:`standardise` of whichever contact columns are present, each as what its name says.

    ``first_name``/``last_name`` as names, ``email``, ``phone`` (read with
    ``default_region``), ``postcode``, ``country``, ``date_of_birth``: the
    columns :func:`~crmkit.quality.contact_model` compares.

    >>> from crmkit.quality import Records, standardise_contacts
    >>> s = standardise_contacts(Records({"last_name": [" SMITH "], "phone": ["020 7946 0958"]}),
    ...                          default_region="GB")
    >>> s.records["last_name"].tolist(), s.records["phone"].tolist()
    (['smith'], ['+442079460958'])
    """
    records = as_records(records)

    def have(*columns: str) -> list[str]:
        return [c for c in columns if c in records.columns]

    return standardise(
        records,
        names=have("first_name", "last_name"),
        emails=have("email"),
        phones=have("phone"),
        postcodes=have("postcode"),
        countries=have("country"),
        dates=have("date_of_birth"),
        default_region=default_region,
    )
