"""Synthetic people with known duplicates, for testing and demonstrating duplicate detection.

In the style of FEBRL's data generator (Christen 2005, "Probabilistic data
generation for deduplication and data linkage"): original records are drawn
with realistic value frequencies (names from the US Census Bureau's 1990
frequency files, so there are many Smiths and few Zwickers), then each
original gets a number of duplicates, each changed the ways real CRM data
differ: typing errors (insertions, deletions, substitutions, transpositions),
nicknames, first and last names swapped, fields left empty, a phone number
written another way or mistyped, another e-mail address, a move to another
address, day and month of birth swapped.

Two profiles:

* ``"easy"``: half the originals have one duplicate, each with one change
  among typos, missing fields and reformatted phone numbers or e-mails;
* ``"hard"``: up to four duplicates per original, each with one to three
  changes drawn from every kind above.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from importlib import resources
from typing import Any

import attrs
import numpy as np

from crmkit.quality._records import CONTACT_COLUMNS

__all__ = ["NICKNAMES", "SyntheticPeople", "synthetic_people"]

COLUMNS = (
    CONTACT_COLUMNS  # first_name, last_name, email, phone, street, city, postcode, date_of_birth
)

#: Common English given names and their nicknames (each nickname maps back to one name).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will", "Billy"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Richard": ("Rick", "Rich", "Dick"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Jack", "Johnny"),
    "Michael": ("Mike", "Mick"),
    "Thomas": ("Tom", "Tommy"),
    "Charles": ("Charlie", "Chuck"),
    "Joseph": ("Joe", "Joey"),
    "Daniel": ("Dan", "Danny"),
    "Christopher": ("Chris",),
    "Matthew": ("Matt",),
    "Anthony": ("Tony",),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Samuel": ("Sam",),
    "Benjamin": ("Ben",),
    "Alexander": ("Alex",),
    "Andrew": ("Andy", "Drew"),
    "Nicholas": ("Nick",),
    "Steven": ("Steve",),
    "Timothy": ("Tim",),
    "Gregory": ("Greg",),
    "Peter": ("Pete",),
    "Ronald": ("Ron",),
    "Donald": ("Don",),
    "Kenneth": ("Ken",),
    "Lawrence": ("Larry",),
    "Gerald": ("Jerry",),
    "Harold": ("Harry",),
    "Francis": ("Frank",),
    "Frederick": ("Fred",),
    "Raymond": ("Ray",),
    "Walter": ("Walt",),
    "Douglas": ("Doug",),
    "Philip": ("Phil",),
    "Vincent": ("Vince",),
    "Joshua": ("Josh",),
    "Jacob": ("Jake",),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Elizabeth": ("Liz", "Beth", "Betty"),
    "Katherine": ("Kate", "Kathy", "Katie"),
    "Jennifer": ("Jen", "Jenny"),
    "Patricia": ("Pat", "Patty", "Trish"),
    "Susan": ("Sue", "Susie"),
    "Deborah": ("Debbie", "Deb"),
    "Rebecca": ("Becky",),
    "Barbara": ("Barb",),
    "Victoria": ("Vicky",),
    "Jessica": ("Jess",),
    "Abigail": ("Abby",),
    "Judith": ("Judy",),
    "Cynthia": ("Cindy",),
    "Pamela": ("Pam",),
    "Kimberly": ("Kim",),
    "Virginia": ("Ginny",),
    "Dorothy": ("Dot",),
}

_CITIES = (
    "London", "Birmingham", "Leeds", "Glasgow", "Sheffield", "Bradford", "Liverpool",
    "Edinburgh", "Manchester", "Bristol", "Cardiff", "Leicester", "Coventry", "Nottingham",
    "Newcastle", "Belfast", "Brighton", "Hull", "Plymouth", "Stoke", "Wolverhampton", "Derby",
    "Swansea", "Southampton", "Aberdeen", "Portsmouth", "York", "Oxford", "Cambridge", "Bath",
    "Exeter", "Norwich", "Reading", "Dundee", "Preston", "Luton", "Sunderland", "Ipswich",
)  # fmt: skip
_STREET_TYPES = ("Road", "Street", "Lane", "Avenue", "Close", "Drive", "Way", "Place", "Grove")
_DOMAINS = ("gmail.com", "yahoo.co.uk", "hotmail.com", "outlook.com", "btinternet.com")
_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


@attrs.frozen(eq=False)
class SyntheticPeople:
    """Generated records and the true person behind each.

    ``columns`` maps each of :data:`COLUMNS` to an object array (``None``
    where a value is missing; ``date_of_birth`` holds ISO dates as text, the
    way a CSV export has them); ``entity`` numbers the true person of each
    record (records of one person are duplicates of each other).
    """

    columns: dict[str, np.ndarray]
    entity: np.ndarray
    profile: str

    def __len__(self) -> int:
        return int(self.entity.size)

    def rows(self) -> list[dict[str, Any]]:
        """The records as dicts (``record_id`` first), for CSV or JSON Lines."""
        names = list(self.columns)
        values = zip(*(self.columns[c].tolist() for c in names), strict=True)
        return [
            {"record_id": f"r{i}", **dict(zip(names, row, strict=True))}
            for i, row in enumerate(values)
        ]

    @property
    def n_entities(self) -> int:
        return int(np.unique(self.entity).size)


def _names() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    path = resources.files("crmkit.datasets").joinpath("data").joinpath("census1990_names.csv.gz")
    rows: dict[str, tuple[list[str], list[float]]] = {}
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="ascii") as fh:
        next(fh)
        for line in fh:
            kind, name, percent = line.rstrip("\n").split(",")
            names, weights = rows.setdefault(kind, ([], []))
            names.append(name)
            weights.append(float(percent))
    return {
        kind: (np.array(names, dtype=object), np.array(w) / np.sum(w))
        for kind, (names, w) in rows.items()
    }


def _typo(text: str, rng: np.random.Generator) -> str:
    """One typing error: insert, delete, substitute or transpose a character."""
    if len(text) < 2:
        return text + str(_LETTERS[rng.integers(26)])
    i = int(rng.integers(len(text)))
    kind = int(rng.integers(4))
    letter = str(_LETTERS[rng.integers(26)])
    if kind == 0:
        return text[:i] + letter + text[i:]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + letter + text[i + 1 :]
    i = min(i, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _phone_variant(phone: str, rng: np.random.Generator) -> str:
    """The same UK number written another way: national format, spaces, dashes."""
    national = "0" + phone[3:]
    kind = int(rng.integers(3))
    if kind == 0:
        return national
    if kind == 1:
        return f"{national[:5]} {national[5:]}"
    return f"+44 {phone[3:7]}-{phone[7:]}"


def _mistype_digit(phone: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(6, len(phone)))  # after +447X: the number stays a valid mobile
    return phone[:i] + str(int(rng.integers(10))) + phone[i + 1 :]


def _email(first: str, last: str, rng: np.random.Generator) -> str:
    domain = _DOMAINS[int(rng.integers(len(_DOMAINS)))]
    style = int(rng.integers(3))
    local = (
        f"{first}.{last}"
        if style == 0
        else f"{first[0]}{last}{int(rng.integers(1, 99))}"
        if style == 1
        else f"{last}.{first}"
    )
    return f"{local.lower()}@{domain}"


_EASY = ("typo_first", "typo_last", "missing", "phone_format", "email_case")
_HARD = (
    *_EASY,
    "nickname",
    "swap_names",
    "new_email",
    "typo_email",
    "phone_typo",
    "moved",
    "dob_swap",
    "typo_street",
)


def _postcode(rng: np.random.Generator) -> str:
    """A UK-style postcode such as ``KT12 4QX`` (random, not a real one)."""
    a, b, c, d = (str(x) for x in _LETTERS[rng.integers(26, size=4)])
    return f"{a}{b}{int(rng.integers(1, 30))} {int(rng.integers(10))}{c}{d}".upper()


def _address(rng: np.random.Generator, street_names: np.ndarray) -> dict[str, str]:
    """A new random address: house number, street, city, postcode."""
    name = street_names[int(rng.integers(street_names.size))]
    kind = _STREET_TYPES[int(rng.integers(len(_STREET_TYPES)))]
    return {
        "street": f"{int(rng.integers(1, 300))} {name} {kind}",
        "city": _CITIES[int(rng.integers(len(_CITIES)))],
        "postcode": _postcode(rng),
    }


def _change(
    record: dict[str, Any], kind: str, fresh: dict[str, Any], rng: np.random.Generator
) -> None:
    """Apply one change of ``kind`` to ``record`` in place (``fresh``: a new address)."""
    first, last = record["first_name"], record["last_name"]
    if kind == "typo_first" and first:
        record["first_name"] = _typo(first, rng)
    elif kind == "typo_last" and last:
        record["last_name"] = _typo(last, rng)
    elif kind == "missing":
        column = ("email", "phone", "street", "date_of_birth", "first_name")[int(rng.integers(5))]
        record[column] = None
    elif kind == "phone_format" and record["phone"]:
        record["phone"] = _phone_variant(record["phone"], rng)
    elif kind == "email_case" and record["email"]:
        local, domain = record["email"].split("@")
        record["email"] = f"{local.capitalize()}@{domain.upper()}"
    elif kind == "nickname" and first in NICKNAMES:
        options = NICKNAMES[first]
        record["first_name"] = options[int(rng.integers(len(options)))]
    elif kind == "swap_names":
        record["first_name"], record["last_name"] = last, first
    elif kind == "new_email" and first and last:
        local, domain = _email(first, last, rng).split("@")
        record["email"] = f"{local}{int(rng.integers(100, 10_000))}@{domain}"  # a new address
    elif kind == "typo_email" and record["email"]:
        local, domain = record["email"].split("@")
        record["email"] = f"{_typo(local, rng)}@{domain}"
    elif kind == "phone_typo" and record["phone"]:
        record["phone"] = _mistype_digit(record["phone"], rng)
    elif kind == "moved":
        for column in ("street", "city", "postcode"):
            record[column] = fresh[column]
    elif kind == "dob_swap" and record["date_of_birth"]:
        year, month, day = record["date_of_birth"].split("-")
        if int(day) <= 12 and day != month:
            record["date_of_birth"] = f"{year}-{day}-{month}"
    elif kind == "typo_street" and record["street"]:
        record["street"] = _typo(record["street"], rng)


def synthetic_people(
    n: int = 1000, *, profile: str = "easy", seed: int | np.random.Generator | None = 0
) -> SyntheticPeople:
    """``n`` records of people, some of them duplicates of others, and who is who.

    >>> people = synthetic_people(200, profile="hard", seed=3)
    >>> len(people), people.n_entities < len(people)
    (200, True)
    >>> sorted(people.columns)[:3]
    ['city', 'date_of_birth', 'email']
    """
    from crmkit._args import choice, whole
    from crmkit._validation import as_rng

    n = whole(n, "n", 1, 10_000_000)
    profile = choice(profile, "profile", ("easy", "hard"))
    rng = as_rng(seed)
    names = _names()
    # Duplicates per original person; originals until the records reach n.
    if profile == "easy":
        dups = (rng.random(n) < 0.5).astype(np.int64)
    else:
        dups = rng.choice(5, size=n, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    sizes = np.cumsum(1 + dups)
    last = int(np.searchsorted(sizes, n))  # the original whose records reach n
    dups = dups[: last + 1]
    dups[last] = n - (int(sizes[last - 1]) if last else 0) - 1
    originals = last + 1
    female = rng.random(originals) < 0.5
    firsts = np.where(
        female,
        rng.choice(names["female"][0], originals, p=names["female"][1]),
        rng.choice(names["male"][0], originals, p=names["male"][1]),
    )
    lasts = rng.choice(names["last"][0], originals, p=names["last"][1])
    street_names = names["last"][0][:2000]
    addresses = [_address(rng, street_names) for _ in range(originals)]
    # UK mobile numbers in ranges phonenumbers knows as valid (07[1-5,7,8] ...).
    mobile = np.array(["+4471", "+4472", "+4473", "+4474", "+4475", "+4477", "+4478"])
    numbers = rng.choice(mobile.size * 90_000_000, size=originals, replace=False)  # distinct
    phones = np.char.add(
        mobile[numbers // 90_000_000], (10_000_000 + numbers % 90_000_000).astype(str)
    )
    births = np.datetime64("1940-01-01") + rng.integers(0, 65 * 365, originals).astype(
        "timedelta64[D]"
    )
    # An address and a number belong to one person: a second john.smith@gmail.com gets a
    # number, as mail providers make people choose.
    emails = [_email(str(f), str(la), rng) for f, la in zip(firsts, lasts, strict=True)]
    taken: set[str] = set()
    for i, email in enumerate(emails):
        local, domain = email.split("@")
        k = 1
        while email in taken:
            k += 1
            email = f"{local}{k}@{domain}"
        taken.add(email)
        emails[i] = email
    people: list[dict[str, Any]] = [
        {
            "first_name": str(firsts[i]),
            "last_name": str(lasts[i]),
            "email": emails[i] if rng.random() < 0.9 else None,
            "phone": str(phones[i]) if rng.random() < 0.85 else None,
            **addresses[i],
            "date_of_birth": str(births[i]) if rng.random() < 0.8 else None,
        }
        for i in range(originals)
    ]
    kinds: Sequence[str] = _EASY if profile == "easy" else _HARD
    records: list[dict[str, Any]] = []
    entity: list[int] = []
    for i, person in enumerate(people):
        records.append(person)
        entity.append(i)
        for _ in range(int(dups[i])):
            copy = dict(person)
            changes = 1 if profile == "easy" else int(rng.integers(1, 4))
            fresh = _address(rng, street_names)
            for kind in rng.choice(kinds, size=changes, replace=False):
                _change(copy, str(kind), fresh, rng)
            if not any(copy[c] for c in ("first_name", "last_name", "email", "phone")):
                copy["last_name"] = person["last_name"]  # a contact must stay identifiable
            records.append(copy)
            entity.append(i)
    # Shuffle, so duplicates are not neighbours in the file.
    order = rng.permutation(len(records))
    columns = {c: np.array([records[j][c] for j in order], dtype=object) for c in COLUMNS}
    return SyntheticPeople(columns, np.asarray(entity, dtype=np.int64)[order], profile)
