"""Serialization benchmark: crmkit vs pydantic v2 vs msgspec on 100,000 contacts.

Each library gets a model of the same shape and the same rules (an e-mail
checked against the WHATWG grammar, an E.164 phone number, an ISO country
and currency code, timezone-aware datetimes, UUIDs, a Decimal amount, tags,
unknown keys refused) and reads the same 100,000 JSON-like dicts, then
writes them back to JSON-safe dicts. Prints records/s and the ratios.

    python benchmarks/serde.py [--records 100000] [--repeat 3]

The peers are installed in ``benchmarks/.venv`` on first run, never into
crmkit's own dependencies.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _venv import ensure_peers

ensure_peers("pydantic>=2", "msgspec")

import msgspec  # noqa: E402
import pydantic  # noqa: E402

from crmkit.datasets._demo import _FIRST, _LAST  # noqa: E402
from crmkit.entities import Contact  # noqa: E402
from crmkit.entities._iso import COUNTRIES, CURRENCY_MINOR_UNITS  # noqa: E402
from crmkit.entities._values import _EMAIL  # noqa: E402
from crmkit.entities.serde import from_dict, make_converter, to_dict  # noqa: E402

EMAIL = _EMAIL.pattern
E164 = r"^\+[1-9][0-9]{4,14}$"
CITIES = [
    ("London", "GB", "SW1A 1AA"),
    ("Paris", "FR", "75001"),
    ("Berlin", "DE", "10115"),
    ("Austin", "US", "73301"),
    ("Osaka", "JP", "530-0001"),
    ("Lyon", "FR", "69001"),
]


def make_records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    base = datetime(2024, 1, 1, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
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


# ----------------------------------------------------------------------------- pydantic v2
CountryCode = pydantic.constr(pattern="^[A-Z]{2}$")


class PAddress(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
    lines: tuple[pydantic.constr(min_length=1, max_length=200), ...] = pydantic.Field(
        min_length=1, max_length=4
    )
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str

    @pydantic.field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        if v not in COUNTRIES:
            raise ValueError("not an ISO 3166-1 alpha-2 code")
        return v


class PMoney(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
    amount: pydantic.condecimal(allow_inf_nan=False)
    currency: str

    @pydantic.field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        if v not in CURRENCY_MINOR_UNITS:
            raise ValueError("not an ISO 4217 code")
        return v


class PContact(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
    id: uuid.UUID
    version: pydantic.conint(ge=1)
    created_at: pydantic.AwareDatetime
    updated_at: pydantic.AwareDatetime
    attributes: dict[str, Any]
    first_name: pydantic.constr(min_length=1, max_length=200) | None = None
    last_name: pydantic.constr(min_length=1, max_length=200) | None = None
    email: pydantic.constr(pattern=EMAIL, max_length=254) | None = None
    phone: pydantic.constr(pattern=E164) | None = None
    address: PAddress | None = None
    job_title: str | None = None
    account_id: uuid.UUID | None = None
    owner: str | None = None
    lifecycle_stage: str = "awareness"
    preferred_channel: str | None = None
    tags: frozenset[str] = frozenset()
    lifetime_value: PMoney | None = None
    erased_at: pydantic.AwareDatetime | None = None


# ----------------------------------------------------------------------------- msgspec
class MAddress(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    lines: tuple[str, ...]
    country: str
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None


MEmail = Annotated[str, msgspec.Meta(pattern=EMAIL, max_length=254)]
MPhone = Annotated[str, msgspec.Meta(pattern=E164)]
MAware = Annotated[datetime, msgspec.Meta(tz=True)]


class MMoney(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    amount: Decimal
    currency: str


class MContact(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    id: uuid.UUID
    version: Annotated[int, msgspec.Meta(ge=1)]
    created_at: MAware
    updated_at: MAware
    attributes: dict[str, Any]
    first_name: str | None = None
    last_name: str | None = None
    email: MEmail | None = None
    phone: MPhone | None = None
    address: MAddress | None = None
    job_title: str | None = None
    account_id: uuid.UUID | None = None
    owner: str | None = None
    lifecycle_stage: str = "awareness"
    preferred_channel: str | None = None
    tags: frozenset[str] = frozenset()
    lifetime_value: MMoney | None = None
    erased_at: MAware | None = None


def msgspec_convert(d: Any) -> MContact:
    obj = msgspec.convert(d, MContact)
    # msgspec has no custom validators: apply the code checks crmkit and pydantic apply.
    if obj.address is not None and obj.address.country not in COUNTRIES:
        raise ValueError("country")
    if obj.lifetime_value is not None and obj.lifetime_value.currency not in CURRENCY_MINOR_UNITS:
        raise ValueError("currency")
    return obj


def best_of(repeat: int, fn: Callable[[], Any], *, pause_gc: bool) -> float:
    """Best wall time of ``repeat`` runs; ``pause_gc`` pauses the collector as ``timeit`` does."""
    times = []
    for _ in range(repeat):
        gc.collect()
        if pause_gc:
            gc.disable()
        try:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return min(times)


def run(records: list[dict[str, Any]], repeat: int, pause_gc: bool) -> dict[str, dict[str, float]]:
    contacts = [from_dict(Contact, r) for r in records]
    p_models = [PContact.model_validate(r) for r in records]
    m_models = [msgspec_convert(r) for r in records]
    cases: dict[str, dict[str, Callable[[], Any]]] = {
        "from_dict (validate)": {
            "crmkit": lambda: [from_dict(Contact, r) for r in records],
            "pydantic": lambda: [PContact.model_validate(r) for r in records],
            "msgspec": lambda: [msgspec_convert(r) for r in records],
        },
        "to_dict (JSON-safe)": {
            "crmkit": lambda: [to_dict(c) for c in contacts],
            "pydantic": lambda: [m.model_dump(mode="json") for m in p_models],
            "pydantic (python mode)": lambda: [m.model_dump() for m in p_models],
            "msgspec": lambda: [msgspec.to_builtins(m) for m in m_models],
        },
    }
    return {
        op: {lib: best_of(repeat, fn, pause_gc=pause_gc) for lib, fn in libs.items()}
        for op, libs in cases.items()
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = args.records
    records = make_records(n)
    make_converter()  # build once, outside the timings
    sample = records[:1000]
    assert [to_dict(from_dict(Contact, r)) for r in sample] == sample, "crmkit round trip differs"

    print(
        f"{n:,} contact records, best of {args.repeat}; Python {sys.version.split()[0]}, "
        f"pydantic {pydantic.VERSION}, msgspec {msgspec.__version__}"
    )
    for pause_gc in (False, True):
        results = run(records, args.repeat, pause_gc)
        print(
            f"\n=== garbage collector {'paused (as timeit does)' if pause_gc else 'on (as in an app)'}"
        )
        for op, timings in results.items():
            ours = timings["crmkit"]
            print(f"{op}")
            for lib, secs in timings.items():
                ratio = "" if lib == "crmkit" else f"   crmkit/{lib} speed = {secs / ours:5.2f}"
                print(f"  {lib:24s} {n / secs:12,.0f} records/s{ratio}")
        frm = results["from_dict (validate)"]
        to = results["to_dict (JSON-safe)"]
        target_from = frm["pydantic"] / frm["crmkit"]
        target_to = to["pydantic"] / to["crmkit"]
        print(
            f"targets: from_dict >= 0.5x pydantic: {target_from:.2f}x "
            f"({'met' if target_from >= 0.5 else 'NOT met'}); "
            f"to_dict >= 1x pydantic model_dump(mode='json'): {target_to:.2f}x "
            f"({'met' if target_to >= 1 else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
