"""Serialization benchmark: crmkit as users install it vs pydantic v2 and msgspec, on 100,000 contacts.

    python benchmarks/serde.py [--records 100000] [--repeat 5] [--json figures.json]

Each library gets a model of the same shape and the same rules (an e-mail
checked against the WHATWG grammar, an E.164 phone number, an ISO country
and currency code, timezone-aware datetimes, UUIDs, a Decimal amount, tags,
unknown keys refused) and reads the same 100,000 JSON-like dicts, then
writes them back to JSON-safe dicts. crmkit runs in
``benchmarks/.venv-crmkit`` (the README's install line), the peers in
``benchmarks/.venv-serde``, in a second process on the same records (the
rules travel with the data, so the peers check the very same lists); runs
alternate, best of N (see ``_harness.py``). The garbage collector stays on,
as in an application.
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

PEERS = h.Env(
    "serde",
    requirements=("pydantic>=2", "msgspec"),
    packages=("pydantic", "pydantic-core", "msgspec"),
)
ENVS = [h.crmkit_env(), PEERS]
E164 = r"^\+[1-9][0-9]{4,14}$"
CITIES = [
    ("London", "GB", "SW1A 1AA"),
    ("Paris", "FR", "75001"),
    ("Berlin", "DE", "10115"),
    ("Austin", "US", "73301"),
    ("Osaka", "JP", "530-0001"),
    ("Lyon", "FR", "69001"),
]


def make_records(n: int, names: tuple[list[str], list[str]], seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    base = datetime(2024, 1, 1, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        first, last = rng.choice(names[0]), rng.choice(names[1])
        city, country, postal = rng.choice(CITIES)
        created = base + timedelta(seconds=rng.randrange(60_000_000))
        out.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "version": rng.randint(1, 9),
                "created_at": created.isoformat(),
                "updated_at": (created + timedelta(days=rng.randrange(300))).isoformat(),
                "attributes": {
                    "segment": rng.choice(["smb", "mid", "ent"]),
                    "nps": rng.randint(0, 10),
                },
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}.{last.lower()}{i}@example.com",
                "phone": f"+4420{rng.randrange(10**7, 10**8)}",
                "address": {
                    "lines": [f"{rng.randint(1, 200)} High Street"],
                    "city": city,
                    "region": None,
                    "postal_code": postal,
                    "country": country,
                },
                "job_title": "Engineer",
                "account_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "owner": "rep-7",
                "lifecycle_stage": "retention",
                "preferred_channel": rng.choice(["email", "phone", "chat"]),
                "tags": sorted(rng.sample(["vip", "newsletter", "b2b", "churn-risk", "beta"], 2)),
                "lifetime_value": {
                    "amount": f"{rng.randint(0, 99999)}.{rng.randint(0, 99):02d}",
                    "currency": rng.choice(["EUR", "GBP", "USD"]),
                },
                "erased_at": None,
            }
        )
    return out


def dataset(n: int) -> dict[str, Any]:
    """The records and the rules both sides check (built in the crmkit environment)."""
    from crmkit.datasets._demo import _FIRST, _LAST
    from crmkit.entities._iso import COUNTRIES, CURRENCY_MINOR_UNITS
    from crmkit.entities._values import _EMAIL

    return {
        "records": make_records(n, (list(_FIRST), list(_LAST))),
        "countries": sorted(COUNTRIES),
        "currencies": sorted(CURRENCY_MINOR_UNITS),
        "email": _EMAIL.pattern,
    }


def _timed(work: Any) -> dict[str, float]:
    start = time.perf_counter()
    work()
    return {"_seconds": time.perf_counter() - start}


# -- crmkit -----------------------------------------------------------------------------------


def crmkit_from_dict(d: dict[str, Any]) -> Any:
    from crmkit.entities import Contact
    from crmkit.entities.serde import from_dict

    return {"n": len([from_dict(Contact, r) for r in d["records"]])}


def crmkit_to_dict(d: dict[str, Any]) -> Any:
    from crmkit.entities import Contact
    from crmkit.entities.serde import from_dict, to_dict

    contacts = [from_dict(Contact, r) for r in d["records"]]
    assert [to_dict(c) for c in contacts[:1000]] == d["records"][:1000], "crmkit round trip differs"
    return _timed(lambda: [to_dict(c) for c in contacts])


# -- the peers ----------------------------------------------------------------------------------


@functools.cache
def _pydantic(email: str, countries: tuple[str, ...], currencies: tuple[str, ...]) -> Any:
    import pydantic

    known_countries, known_currencies = frozenset(countries), frozenset(currencies)

    class PAddress(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
        lines: tuple[pydantic.constr(min_length=1, max_length=200), ...] = pydantic.Field(  # type: ignore[valid-type]
            min_length=1, max_length=4
        )
        city: str | None = None
        region: str | None = None
        postal_code: str | None = None
        country: str

        @pydantic.field_validator("country")
        @classmethod
        def _country(cls, v: str) -> str:
            if v not in known_countries:
                raise ValueError("not an ISO 3166-1 alpha-2 code")
            return v

    class PMoney(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
        amount: pydantic.condecimal(allow_inf_nan=False)  # type: ignore[valid-type]
        currency: str

        @pydantic.field_validator("currency")
        @classmethod
        def _currency(cls, v: str) -> str:
            if v not in known_currencies:
                raise ValueError("not an ISO 4217 code")
            return v

    class PContact(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
        id: uuid.UUID
        version: pydantic.conint(ge=1)  # type: ignore[valid-type]
        created_at: pydantic.AwareDatetime
        updated_at: pydantic.AwareDatetime
        attributes: dict[str, Any]
        first_name: pydantic.constr(min_length=1, max_length=200) | None = None  # type: ignore[valid-type]
        last_name: pydantic.constr(min_length=1, max_length=200) | None = None  # type: ignore[valid-type]
        email: pydantic.constr(pattern=email, max_length=254) | None = None  # type: ignore[valid-type]
        phone: pydantic.constr(pattern=E164) | None = None  # type: ignore[valid-type]
        address: PAddress | None = None
        job_title: str | None = None
        account_id: uuid.UUID | None = None
        owner: str | None = None
        lifecycle_stage: str = "awareness"
        preferred_channel: str | None = None
        tags: frozenset[str] = frozenset()
        lifetime_value: PMoney | None = None
        erased_at: pydantic.AwareDatetime | None = None

    return PContact


@functools.cache
def _msgspec(email: str, countries: tuple[str, ...], currencies: tuple[str, ...]) -> Any:
    import msgspec

    known_countries, known_currencies = frozenset(countries), frozenset(currencies)
    # defstruct with the types themselves: class bodies here would hold string annotations
    # (from __future__ import annotations) that msgspec cannot resolve inside a function.
    options = {"forbid_unknown_fields": True, "frozen": True}
    aware = Annotated[datetime, msgspec.Meta(tz=True)]
    address = msgspec.defstruct(
        "MAddress",
        [
            ("lines", tuple[str, ...]),
            ("country", str),
            ("city", str | None, None),
            ("region", str | None, None),
            ("postal_code", str | None, None),
        ],
        **options,
    )
    money = msgspec.defstruct("MMoney", [("amount", Decimal), ("currency", str)], **options)
    contact = msgspec.defstruct(
        "MContact",
        [
            ("id", uuid.UUID),
            ("version", Annotated[int, msgspec.Meta(ge=1)]),
            ("created_at", aware),
            ("updated_at", aware),
            ("attributes", dict[str, Any]),
            ("first_name", str | None, None),
            ("last_name", str | None, None),
            ("email", Annotated[str, msgspec.Meta(pattern=email, max_length=254)] | None, None),
            ("phone", Annotated[str, msgspec.Meta(pattern=E164)] | None, None),
            ("address", address | None, None),
            ("job_title", str | None, None),
            ("account_id", uuid.UUID | None, None),
            ("owner", str | None, None),
            ("lifecycle_stage", str, "awareness"),
            ("preferred_channel", str | None, None),
            ("tags", frozenset[str], frozenset()),
            ("lifetime_value", money | None, None),
            ("erased_at", aware | None, None),
        ],
        **options,
    )

    def convert(d: Any) -> Any:
        obj = msgspec.convert(d, contact)
        # msgspec has no custom validators: apply the code checks crmkit and pydantic apply.
        if obj.address is not None and obj.address.country not in known_countries:
            raise ValueError("country")
        if obj.lifetime_value is not None and obj.lifetime_value.currency not in known_currencies:
            raise ValueError("currency")
        return obj

    return convert


def _rules(d: dict[str, Any]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    return d["email"], tuple(d["countries"]), tuple(d["currencies"])


def pydantic_from_dict(d: dict[str, Any]) -> Any:
    model = _pydantic(*_rules(d))
    return _timed(lambda: [model.model_validate(r) for r in d["records"]])


def pydantic_to_dict(d: dict[str, Any]) -> Any:
    model = _pydantic(*_rules(d))
    objects = [model.model_validate(r) for r in d["records"]]
    return _timed(lambda: [m.model_dump(mode="json") for m in objects])


def pydantic_to_python(d: dict[str, Any]) -> Any:
    model = _pydantic(*_rules(d))
    objects = [model.model_validate(r) for r in d["records"]]
    return _timed(lambda: [m.model_dump() for m in objects])


def msgspec_from_dict(d: dict[str, Any]) -> Any:
    convert = _msgspec(*_rules(d))
    return _timed(lambda: [convert(r) for r in d["records"]])


def msgspec_to_dict(d: dict[str, Any]) -> Any:
    import msgspec

    convert = _msgspec(*_rules(d))
    objects = [convert(r) for r in d["records"]]
    return _timed(lambda: [msgspec.to_builtins(m) for m in objects])


FUNCTIONS = {
    n: f
    for n, f in globals().items()
    if n.startswith(("crmkit_", "pydantic_", "msgspec_")) and callable(f)
}


def plan(args: argparse.Namespace) -> tuple[dict[str, Any], list[h.Case]]:
    datasets = {"contacts": lambda: dataset(args.records)}
    return datasets, [
        h.Case(
            f"from_dict (validate), {args.records:,} contacts",
            "contacts",
            {
                "crmkit": ("crmkit", "crmkit_from_dict"),
                "pydantic": ("serde", "pydantic_from_dict"),
                "msgspec": ("serde", "msgspec_from_dict"),
            },
            repeat=args.repeat,
        ),
        h.Case(
            f"to_dict (JSON-safe), {args.records:,} contacts",
            "contacts",
            {
                "crmkit": ("crmkit", "crmkit_to_dict"),
                "pydantic": ("serde", "pydantic_to_dict"),
                "pydantic python": ("serde", "pydantic_to_python"),
                "msgspec": ("serde", "msgspec_to_dict"),
            },
            repeat=args.repeat,
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    h.main(ENVS, FUNCTIONS, plan, title="crmkit vs pydantic v2 and msgspec", parser=parser)
