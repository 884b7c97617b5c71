"""The hostile-input harness: one corpus, fed to every public entry point (issue 17).

Each entry point is given as one *valid* call (a ``Spec``). The harness makes
it once as given (it must succeed: otherwise the spec is wrong), then again
with each argument in turn replaced by each value of ``CORPUS`` (deep
nesting, huge and tiny numbers, NaN and infinities, wrong types, lone
surrogates and other odd Unicode, huge strings, empty and one-shot
containers, arrays of the wrong shape or kind, naive datetimes ...).

The rules: only ``crmkit.errors`` exceptions escape (warnings other than
crmkit's are errors too: a numpy ``RuntimeWarning`` means a NaN or an
overflow went unnoticed); no call runs longer than ``TIMEOUT`` seconds; no
line of an error message is longer than ``MAX_LINE`` characters; no result
holds a NaN that nobody asked for.

``python tests/hostile.py`` prints the counts per entry point and the
errors by type (the figures in the issue's closing note); the test suite
runs the same harness (``tests/test_hostile.py``).
"""

from __future__ import annotations

import contextlib
import functools
import math
import signal
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs
import numpy as np

import crmkit.errors as errors

TIMEOUT = 20.0
MAX_LINE = 500
UTC = timezone.utc
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@functools.cache  # built once (85 ms): crmkit never mutates its inputs
def _deep_list(depth: int = 100_000) -> list[Any]:
    out: list[Any] = []
    for _ in range(depth):
        out = [out]
    return out


@functools.cache
def _deep_dict(depth: int = 100_000) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for _ in range(depth):
        out = {"a": out}
    return out


#: name -> a factory of the hostile value (fresh for every call: some are one-shot).
CORPUS: dict[str, Callable[[], Any]] = {
    "None": lambda: None,
    "True": lambda: True,
    "zero": lambda: 0,
    "minus one": lambda: -1,
    "10**5000": lambda: 10**5000,
    "-10**5000": lambda: -(10**5000),
    "2**63": lambda: 2**63,
    "nan": lambda: math.nan,
    "inf": lambda: math.inf,
    "-inf": lambda: -math.inf,
    "1e308": lambda: 1e308,
    "5e-324": lambda: 5e-324,
    "Decimal NaN": lambda: Decimal("NaN"),
    "Decimal 1E+999999": lambda: Decimal("1E+999999"),
    "Decimal 1E-999999": lambda: Decimal("1E-999999"),
    "complex": lambda: 1j,
    "empty string": lambda: "",
    "blank string": lambda: " \t\n",
    "lone surrogate": lambda: "a\ud800b",
    "NUL": lambda: "a\x00b",
    "BOM and RTL override": lambda: "\ufeff\u202eabc",
    "Arabic-Indic digits": lambda: "١٢٣",
    "huge string": lambda: "x" * 1_000_000,
    "huge digit string": lambda: "9" * 100_000,
    "bytes": lambda: b"\xff\xfe\x00",
    "object": lambda: object(),
    "a type": lambda: int,
    "a function": lambda: len,
    "empty list": list,
    "empty dict": dict,
    "empty tuple": lambda: (),
    "a set": lambda: {1, 2},
    "a generator": lambda: (i for i in range(3)),
    "deep list": _deep_list,
    "deep dict": _deep_dict,
    "list with NaN": lambda: [math.nan, 1.0, 2.0],
    "list with inf": lambda: [math.inf, 1.0, 2.0],
    "list of 1e308": lambda: [1e308, 1e308, 1e308],
    "list with 10**5000": lambda: [10**5000, 1, 2],
    "list of text": lambda: ["a", "b", "c"],
    "list of None": lambda: [None, None, None],
    "list of bools": lambda: [True, False, True],
    "ragged list": lambda: [[1, 2], [3]],
    "negative list": lambda: [-1, -5, -10],
    "mixed list": lambda: [1, "2", 3.0],
    "2-d array": lambda: np.ones((3, 3)),
    "object array": lambda: np.array([1, "a", None], dtype=object),
    "0-d array": lambda: np.array(5.0),
    "NaN array": lambda: np.full(3, np.nan),
    "datetime64 array": lambda: np.array(["2026-01-01"], dtype="datetime64[D]"),
    "huge list": lambda: [1] * 200_000,
    "unknown keys": lambda: {"bogus": 1, "\ud800": 2},
    "naive datetime": lambda: datetime(2026, 1, 1),
    "year 1 east of UTC": lambda: datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
    "not a UUID": lambda: "not-a-uuid",
    "a UUID": lambda: UUID(int=7),
}


# --------------------------------------------------------------------------- specs


@attrs.frozen
class Spec:
    """One valid call of an entry point: ``call(*args, **kwargs)`` must succeed."""

    name: str
    call: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = attrs.field(factory=dict)
    #: The public object the call exercises, when ``call`` is a lambda.
    target: Any = None

    def targets(self) -> set[Any]:
        """Public objects this spec covers: the target, or the function, class or method's class."""
        if self.target is not None:
            return {self.target}
        self_of = getattr(self.call, "__self__", None)
        if self_of is not None:
            return {self_of if isinstance(self_of, type) else type(self_of)}
        return {self.call}


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so no ``except Exception`` swallows it."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def alarm(*_: Any) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _has_nan(value: Any, depth: int = 0) -> bool:
    """Whether a result holds a float NaN (floats, arrays, dicts, sequences, ``to_dict()``)."""
    if depth > 6:
        return False
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "fc" and bool(np.isnan(value).any())
    if isinstance(value, dict):
        return any(_has_nan(v, depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_nan(v, depth + 1) for v in value[:1000])
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, type):
        try:
            return _has_nan(to_dict(), depth + 1)
        except errors.CrmError:
            return False
    return False


def attempt(spec: Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Run one call; return ``"ok"``, ``"warned"``, the crmkit error's type name, or a finding.

    A finding starts with ``"FINDING"``: a foreign exception, a hang, an
    overlong message, or a silent NaN.
    """
    try:
        with warnings.catch_warnings(), _time_limit(TIMEOUT):
            warnings.simplefilter("error")
            warnings.simplefilter("ignore", errors.CrmWarning)
            result = spec.call(*args, **kwargs)
            if _has_nan(result):
                return "FINDING silent NaN in the result"
    except _Timeout:
        return f"FINDING no answer within {TIMEOUT:g} s"
    except errors.CrmError as exc:
        try:
            text = str(exc)
        except Exception as inner:  # pragma: no cover - reported as a finding
            return f"FINDING str() of {type(exc).__name__} raised {type(inner).__name__}"
        longest = max((len(line) for line in text.splitlines()), default=0)
        if longest > MAX_LINE:
            return f"FINDING {type(exc).__name__} message line of {longest} characters"
        return type(exc).__name__
    except RecursionError:
        return "FINDING RecursionError"
    except Exception as exc:
        return f"FINDING {type(exc).__name__}: {str(exc)[:120]}"
    return "ok"


def mutations(spec: Spec) -> Iterator[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """``(label, args, kwargs)`` for each argument replaced by each corpus value."""
    for i in range(len(spec.args)):
        for label, make in CORPUS.items():
            args = list(spec.args)
            args[i] = make()
            yield f"arg {i} = {label}", tuple(args), dict(spec.kwargs)
    for key in spec.kwargs:
        for label, make in CORPUS.items():
            yield f"{key} = {label}", spec.args, {**spec.kwargs, key: make()}


def run(spec: Spec) -> tuple[Counter[str], list[str]]:
    """Every mutation of one spec: outcome counts, and the findings with their inputs."""
    first = attempt(spec, spec.args, spec.kwargs)
    if first not in ("ok", "warned"):
        return Counter({"invalid spec": 1}), [f"{spec.name}: the valid call gave {first}"]
    counts: Counter[str] = Counter()
    findings = []
    for label, args, kwargs in mutations(spec):
        outcome = attempt(spec, args, kwargs)
        counts[outcome] += 1
        if outcome.startswith("FINDING"):
            findings.append(f"{spec.name}({label}): {outcome}")
    return counts, findings


# --------------------------------------------------------------------------- the entry points


@functools.cache
def _fixtures() -> dict[str, Any]:
    """Valid inputs shared by the specs (built once; entry points never mutate them)."""
    from crmkit.datasets import (
        demo_acsi_survey,
        demo_customer_base,
        demo_kano_survey,
        demo_servqual_survey,
        load_cdnow_summary,
    )
    from crmkit.entities import Account, Contact, Lead, Money, Opportunity, Order, OrderLine
    from crmkit.lifecycle import LEAD
    from crmkit.lifecycle.analytics import TransitionLog
    from crmkit.satisfaction.acsi import acsi_model
    from crmkit.value import BetaGeo, GammaGamma, ParetoNBD, ShiftedBetaGeo, rfm_summary

    cd = load_cdnow_summary()
    f, r, t, m = cd["frequency"], cd["recency"], cd["T"], cd["monetary_value"]
    buyers = f > 0
    survey = demo_acsi_survey(7, respondents=200)
    from crmkit.datasets import ACSI_ITEMS

    acsi = acsi_model(**{k: list(v) for k, v in ACSI_ITEMS.items()})
    ada = Contact(first_name="Ada", email="ada@example.com", created_at=T0, updated_at=T0)
    lead = Lead(first_name="Ada", email="ada@example.com", company="AE", created_at=T0)
    lead2, rec = LEAD.fire(lead, "contact", at=T0 + timedelta(days=1))
    base = demo_customer_base(3, retail_customers=30, accounts=4, weeks=30)
    ids = np.array([1, 1, 2, 3, 3, 3])
    stamps = np.array(
        ["2026-01-01", "2026-01-09", "2026-01-03", "2026-01-02", "2026-02-01", "2026-03-01"],
        dtype="datetime64[D]",
    )
    summary = rfm_summary(
        ids, stamps, np.array([10.0, 20, 5, 7, 9, 11]), observation_end=np.datetime64("2026-04-01")
    )
    _, rec2 = LEAD.fire(lead2, "qualify", at=T0 + timedelta(days=3))
    log = TransitionLog.from_records([rec, rec2])
    account = Account(name="Acme")
    order = Order(
        contact_id=ada.id,
        ordered_at=T0,
        currency="EUR",
        lines=[OrderLine(description="x", quantity=1, unit_price=Money("5", "EUR"))],
    )
    deal = Opportunity(
        name="Deal", account_id=account.id, amount=Money("100", "EUR"), created_at=T0
    )
    deals = [
        deal.evolve(
            stage=stage, closed_at=T0 + timedelta(days=9) if stage.startswith("closed") else None
        )
        for stage in ("closed_won", "closed_lost", "proposal")
    ]
    holdout = rfm_summary(
        ids,
        stamps,
        np.array([10.0, 20, 5, 7, 9, 11]),
        observation_end=np.datetime64("2026-04-01"),
        calibration_end=np.datetime64("2026-01-20"),
    )
    rng = np.random.default_rng(5)
    pr_items = rng.integers(1, 6, size=(60, 3)).astype(float)
    pr_overall = np.clip(pr_items.mean(axis=1) + rng.normal(0, 0.5, 60), 1, 5)
    from crmkit.repository import InMemoryStore, InMemoryUnitOfWork

    uow = InMemoryUnitOfWork(InMemoryStore()).__enter__()
    uow.repository(Contact).add(ada)
    from test_lifecycle_analytics import _simulate_pipeline

    pipeline_log, pipeline_amounts, _, _ = _simulate_pipeline(60, seed=3)
    from crmkit.satisfaction.pls import PathModel

    a = rng.normal(size=80)
    b = 0.5 * a + rng.normal(size=80)
    two = {
        f"{n}{i}": lv + 0.5 * rng.normal(size=80)
        for n, lv in (("a", a), ("b", b))
        for i in range(3)
    }
    import pandas as pd

    from crmkit.value import rfm_summary as summarize

    log_frame = pd.DataFrame(
        {"c": ids, "d": stamps.astype("datetime64[us]"), "a": [10.0, 20, 5, 7, 9, 11]}
    )
    return {
        "log_frame": log_frame,
        "summary_frame": summarize(
            log_frame, observation_end=np.datetime64("2026-04-01"), columns=("c", "d", "a")
        ),
        "pipeline_log": pipeline_log,
        "pipeline_amounts": pipeline_amounts,
        "two_group_model": PathModel(
            {"A": ["a0", "a1", "a2"], "B": ["b0", "b1", "b2"]}, [("A", "B")]
        ),
        "two_group_data": two,
        "two_groups": np.array(["x", "y"] * 40),
        "uow": uow,
        "deals": deals,
        "holdout": holdout,
        "pr_items": pr_items,
        "pr_overall": pr_overall,
        "f": f,
        "r": r,
        "T": t,
        "m": m,
        "gg_f": f[buyers],
        "gg_m": m[buyers],
        "bg": BetaGeo().fit(f, r, t),
        "pareto": ParetoNBD().fit(f, r, t),
        "gg": GammaGamma().fit(f[buyers], m[buyers]),
        "sbg": ShiftedBetaGeo().fit([1000, 631, 468, 382, 326]),
        "survey": survey,
        "acsi": acsi,
        "acsi_fit": acsi.fit(survey),
        "kano": demo_kano_survey(3, respondents=40),
        "servqual": demo_servqual_survey(3, branches=4, respondents_per_branch=10),
        "ada": ada,
        "lead": lead,
        "lead2": lead2,
        "record": rec,
        "log": log,
        "base": base,
        "summary": summary,
        "ids": ids,
        "stamps": stamps,
        "account": account,
        "order": order,
        "deal": deal,
        "cd": cd,
        **_quality_fixtures(),
    }


def _quality_fixtures() -> dict[str, Any]:
    from crmkit.datasets import synthetic_people
    from crmkit.quality import Block, Exact, FellegiSunter, Records, Text

    people = synthetic_people(300, profile="easy", seed=5)
    records = Records(people.columns)
    model = FellegiSunter(
        [Text("first_name"), Text("last_name"), Exact("email"), Exact("phone")],
        blocking=[Block("email"), Block("last_name", prefix=2)],
        u_pairs=5000,
    ).fit(records)
    return {
        "people": people,
        "people_records": records,
        "people_rules": [Block("email"), Block("last_name", prefix=2)],
        "dedupe": model,
    }


def _in_uow(fn: Any, plan: Any, uow: Any, state: str) -> Any:
    """Run a merge step in a fresh unit of work holding the plan's records (``uow`` None)."""
    from crmkit.entities import Contact
    from crmkit.entities.serde import from_dict
    from crmkit.repository import InMemoryUnitOfWork

    if uow is not None:
        return fn(plan, uow)
    unit = InMemoryUnitOfWork()
    with unit:
        for _kind, record in getattr(plan, state, ()):
            unit.repository(Contact).add(from_dict(Contact, record))
        return fn(plan, unit)


def _with_ada(repo: Any, ada: Any) -> Any:
    repo.add(ada)
    return repo


def specs() -> list[Spec]:
    from crmkit import datasets as ds
    from crmkit import entities as en
    from crmkit import lifecycle as lc
    from crmkit import quality as qu
    from crmkit import report
    from crmkit import satisfaction as sat
    from crmkit import value as va
    from crmkit.entities import privacy, serde
    from crmkit.lifecycle import analytics as an
    from crmkit.repository import (
        CursorSigner,
        F,
        InMemoryRepository,
        InMemoryStore,
        InMemoryUnitOfWork,
        Query,
        resolve_field,
    )
    from crmkit.satisfaction import acsi as ac
    from crmkit.satisfaction import pls

    x = _fixtures()
    eur = en.Money("5", "EUR")
    ada = x["ada"]
    items = np.array([[1, 2, 3], [2, 3, 4], [3, 4, 4], [4, 5, 5], [2, 2, 3]], dtype=float)
    ratings = [1, 2, 3, 4, 5, 5, 4]
    kano, sq = x["kano"], x["servqual"]
    repo = InMemoryRepository(en.Contact)
    repo.add(ada)
    q = Query(en.Contact).order_by("first_name").limit(1)
    cursor = q.cursor_for(ada)
    signer = CursorSigner(b"k" * 32)
    out = [
        # -- entities and value objects
        Spec("Email", en.Email, ("ada@example.com",)),
        Spec("PhoneNumber", en.PhoneNumber, ("+442079460958",), {"extension": "12"}),
        Spec("PhoneNumber.parse", en.PhoneNumber.parse, ("020 7946 0958",), {"region": "GB"}),
        Spec("Money", en.Money, ("19.99", "EUR")),
        # Operators: the Money stays on the left, the operand is the door.
        Spec("Money +", lambda b: eur + b, (eur,)),
        Spec("Money -", lambda b: eur - b, (eur,)),
        Spec("Money *", lambda b: eur * b, (3,)),
        Spec("Money /", lambda b: eur / b, (3,)),
        Spec("Money <", lambda b: eur < b, (eur,)),
        Spec("Money.round", eur.round, (2,)),
        Spec("Money.allocate", eur.allocate, ([1, 2],)),
        Spec("Address", en.Address, (), {"lines": ["1 Main St"], "country": "GB", "city": "X"}),
        Spec(
            "Contact",
            en.Contact,
            (),
            {"first_name": "Ada", "email": "a@b.co", "tags": ["vip"], "attributes": {"k": 1}},
        ),
        Spec("Contact.evolve", ada.evolve, (), {"last_name": "Lovelace", "version": 2}),
        Spec(
            "Account",
            en.Account,
            (),
            {"name": "Acme", "employees": 10, "website": "https://acme.com"},
        ),
        Spec("Lead", en.Lead, (), {"first_name": "Ada", "company": "AE", "score": 50.0}),
        Spec("Product", en.Product, (), {"sku": "A-1", "name": "Album", "price": eur}),
        Spec(
            "OrderLine",
            en.OrderLine,
            (),
            {"description": "CD", "quantity": 2, "unit_price": eur, "discount": None},
        ),
        Spec(
            "Order",
            en.Order,
            (),
            {
                "contact_id": ada.id,
                "ordered_at": T0,
                "currency": "EUR",
                "lines": x["order"].lines,
                "tax": eur,
            },
        ),
        Spec(
            "Opportunity",
            en.Opportunity,
            (),
            {"name": "Deal", "account_id": ada.id, "amount": eur, "probability": 0.5},
        ),
        Spec(
            "Interaction",
            en.Interaction,
            (),
            {
                "channel": "email",
                "direction": "inbound",
                "occurred_at": T0,
                "contact_ids": [ada.id],
                "summary": "hi",
            },
        ),
        Spec(
            "Ticket",
            en.Ticket,
            (),
            {"subject": "Help", "contact_id": ada.id, "opened_at": T0, "priority": "high"},
        ),
        Spec("Campaign", en.Campaign, (), {"name": "Spring", "budget": eur}),
        Spec(
            "CampaignMember",
            en.CampaignMember,
            (),
            {"campaign_id": ada.id, "contact_id": ada.id, "sent_at": T0},
        ),
        Spec(
            "SurveyResponse",
            en.SurveyResponse,
            (),
            {"instrument": "nps", "answers": {"nps": 9}, "answered_at": T0, "contact_id": ada.id},
        ),
        Spec(
            "Consent",
            en.Consent,
            (),
            {"contact_id": ada.id, "purpose": "newsletter", "granted_at": T0},
        ),
        Spec("FrozenDict", en.FrozenDict, ({"a": 1},)),
        # -- serialization and privacy
        Spec("serde.to_dict", serde.to_dict, (ada,)),
        Spec("serde.to_json", serde.to_json, (ada,), {"indent": 2}),
        Spec("serde.to_dicts", serde.to_dicts, ([ada],)),
        Spec("serde.from_dict", serde.from_dict, (en.Contact, serde.to_dict(ada))),
        Spec("serde.from_dicts", serde.from_dicts, (en.Contact, [serde.to_dict(ada)])),
        Spec("serde.from_json", serde.from_json, (en.Contact, serde.to_json(ada))),
        Spec("serde.make_converter", serde.make_converter, ()),
        Spec("privacy.erase", privacy.erase, (ada,), {"at": T0}),
        Spec("privacy.erase_related", privacy.erase_related, (ada, [x["order"]]), {"at": T0}),
        Spec(
            "privacy.export_personal_data",
            privacy.export_personal_data,
            (ada, [x["order"]]),
            {"at": T0},
        ),
        Spec("privacy.relates_to", privacy.relates_to, (x["order"], ada.id)),
        # -- repository
        Spec("F ==", lambda f, v: Query(en.Contact).where(F(f) == v), ("first_name", "Ada")),
        Spec("F.in_", lambda v: Query(en.Contact).where(F("email").in_(v)), (["a@b.co"],)),
        Spec("F.contains", lambda v: Query(en.Contact).where(F("tags").contains(v)), ("vip",)),
        Spec("F.email_is", lambda v: Query(en.Contact).where(F("email").email_is(v)), ("a@b.co",)),
        Spec("F.is_null", lambda v: Query(en.Contact).where(F("last_name").is_null(v)), (True,)),
        Spec(
            "& | ~",
            lambda a, b: Query(en.Contact).where(~(a & (a | b))),
            (F("first_name") == "A", F("version") > 1),
        ),
        Spec("Query", Query, (en.Contact,)),
        Spec("Query.order_by", Query(en.Contact).order_by, ("-created_at", "first_name")),
        Spec("Query.limit", Query(en.Contact).limit, (10,)),
        Spec("Query.after", q.after, (cursor,)),
        Spec("Query.run", q.run, ([ada],)),
        Spec("Query.matches", Query(en.Contact).matches, (ada,)),
        Spec("resolve_field", resolve_field, (en.Contact, "address.country")),
        Spec("CursorSigner", CursorSigner, (b"k" * 32,)),
        Spec("CursorSigner.verify", signer.verify, (signer.sign(cursor),)),
        Spec("InMemoryRepository", InMemoryRepository, (en.Contact,)),
        Spec("InMemoryRepository.get", repo.get, (ada.id,)),
        Spec("InMemoryRepository.query", repo.query, (q,)),
        Spec("InMemoryRepository.count", repo.count, (Query(en.Contact),)),
        Spec(
            "InMemoryRepository.add",
            lambda e: InMemoryRepository(en.Contact).add(e),
            (en.Contact(first_name="B"),),
        ),
        Spec(
            "InMemoryRepository.remove",
            lambda i, v: _with_ada(InMemoryRepository(en.Contact), ada).remove(
                i, expected_version=v
            ),
            (ada.id, 1),
        ),
        Spec(
            "InMemoryUnitOfWork.repository",
            lambda t: InMemoryUnitOfWork(InMemoryStore()).__enter__().repository(t),
            (en.Contact,),
        ),
        # -- lifecycle
        Spec("LEAD.fire", lc.LEAD.fire, (x["lead"], "contact"), {"at": T0, "reason": None}),
        Spec("LEAD.can_fire", lc.LEAD.can_fire, (x["lead"], "contact")),
        Spec("LEAD.allowed_events", lc.LEAD.allowed_events, (x["lead"],)),
        Spec("LEAD.replay", lc.LEAD.replay, ([x["record"]],)),
        Spec("LEAD.state", lc.LEAD.state, ("new",)),
        Spec("LEAD.rename_state", lc.LEAD.rename_state, ("new", "fresh")),
        Spec("LEAD.without_state", lc.LEAD.without_state, ("disqualified",)),
        Spec("LEAD.with_guard", lc.LEAD.with_guard, ("qualify", None)),
        Spec("State", lc.State, ("open",), {"probability": 0.5}),
        Spec("Transition", lc.Transition, ("go", ["a"], "b")),
        Spec(
            "Machine",
            lc.Machine,
            (),
            {
                "name": "m",
                "entity_types": [en.Lead],
                "field": "status",
                "states": [lc.State("new"), lc.State("done", terminal=True)],
                "transitions": [lc.Transition("finish", ["new"], "done")],
                "initial": "new",
            },
        ),
        Spec("ticket_machine", lc.ticket_machine, (timedelta(days=3),)),
        Spec(
            "convert_lead",
            lc.convert_lead,
            (
                en.Lead(
                    first_name="A", company="B", email="a@b.co", status="qualified", created_at=T0
                ),
            ),
            {"at": T0 + timedelta(days=1), "opportunity_amount": eur},
        ),
        Spec(
            "replay_customer_stages",
            lc.replay_customer_stages,
            ([ada], [x["order"]]),
            {"as_of": T0 + timedelta(days=30)},
        ),
        Spec("TransitionLog.from_records", an.TransitionLog.from_records, ([x["record"]],)),
        Spec(
            "TransitionLog.from_columns",
            lambda e, f, t, a: an.TransitionLog.from_columns(
                entity=e, from_state=f, to_state=t, at=a
            ),
            ([1, 1], ["new", "contacted"], ["contacted", "qualified"], [T0, T0 + timedelta(1)]),
        ),
        Spec("funnel", an.funnel, (x["log"], ["new", "contacted"])),
        Spec("time_in_stage", an.time_in_stage, (x["log"],)),
        Spec("transition_matrix", an.transition_matrix, (x["log"],)),
        Spec(
            "cohort_conversion",
            an.cohort_conversion,
            (x["log"],),
            {"entry": "new", "target": "contacted"},
        ),
        Spec("pipeline_metrics", an.pipeline_metrics, (x["deals"],)),
        # -- satisfaction
        Spec("nps", sat.nps, ([10, 9, 3, 7, 8],), {"weights": [1, 2, 1, 1, 1], "confidence": 0.9}),
        Spec("nps_by", sat.nps_by, ([10, 9, 3, 7], ["a", "a", "b", "b"])),
        Spec("nps_compare", sat.nps_compare, (sat.nps([10, 9, 3]), sat.nps([1, 9, 10]))),
        Spec("csat", sat.csat, (ratings,), {"scale": (1, 5), "satisfied": (4, 5)}),
        Spec("ces", sat.ces, ([1, 5, 7, 6],), {"scale": (1, 7)}),
        Spec("cronbach_alpha", sat.cronbach_alpha, (items,), {"confidence": 0.9}),
        Spec("disconfirmation", sat.disconfirmation, ([3, 4, 5], [4, 4, 3])),
        Spec("kano", sat.kano, (kano.functional, kano.dysfunctional), {"features": kano.features}),
        Spec("kano_category", sat.kano_category, ([1, 2, 5], [5, 3, 1])),
        Spec(
            "servqual",
            sat.servqual,
            (sq.expectations, sq.perceptions),
            {"scale": (1, 7)},
        ),
        Spec("unit_means", sat.unit_means, ([1.0, 2, 3, 4], ["a", "a", "b", "b"])),
        Spec(
            "importance_performance",
            sat.importance_performance,
            (items,),
            {"importance": [[1.0, 2.0, 3.0]] * 5, "attributes": ["a", "b", "c"]},
        ),
        Spec(
            "penalty_reward",
            sat.penalty_reward,
            (x["pr_items"], x["pr_overall"]),
            {"low": 2, "high": 4},
        ),
        Spec(
            "gap_model",
            sat.gap_model,
            ([-1.0, -0.5, -0.2, 0.1, 0.3, -0.4],),
            {"gap1": [0.1, 0.2, 0.0, 0.3, 0.5, 0.1], "units": list("abcdef")},
        ),
        Spec("ServqualInstrument", sat.ServqualInstrument, ((("a", (0, 1)), ("b", (2,))),)),
        # -- PLS and the indexes
        Spec("PathModel.fit", x["acsi"].fit, (x["survey"],), {"scheme": "path", "tol": 1e-6}),
        Spec(
            "PathModel",
            pls.PathModel,
            ({"A": ["a1", "a2"], "B": ["b1"]}, [("A", "B")]),
        ),
        Spec("indicator_matrix", pls.indicator_matrix, (x["survey"], ["sat_overall", "sat_ideal"])),
        Spec("bootstrap", pls.bootstrap, (x["acsi_fit"], 5), {"seed": 1}),
        Spec("predict", pls.predict, (x["acsi_fit"],), {"folds": 3, "seed": 1}),
        Spec(
            "satisfaction_index",
            ac.satisfaction_index,
            (x["acsi_fit"], x["survey"]),
            {"scale": (1, 10), "construct": "satisfaction"},
        ),
        Spec("priorities", ac.priorities, (x["acsi_fit"], x["survey"]), {"scale": (1, 10)}),
        Spec(
            "ecsi_model",
            ac.ecsi_model,
            (),
            {
                "image": ["i"],
                "expectations": ["e"],
                "quality": ["q"],
                "value": ["v"],
                "satisfaction": ["s"],
                "loyalty": ["l"],
            },
        ),
        # -- quality
        Spec("synthetic_people", ds.synthetic_people, (50,), {"profile": "hard", "seed": 1}),
        Spec("Records", qu.Records, ({"name": ["Ada", None]},), {"ids": ["a", "b"]}),
        Spec(
            "Records.from_rows", qu.Records.from_rows, ([{"a": "x", "b": "y"}],), {"id_column": "a"}
        ),
        Spec("Records.from_contacts", qu.Records.from_contacts, ([x["ada"]],)),
        Spec("as_records", qu.as_records, ({"name": ["Ada"]},)),
        Spec(
            "standardise",
            qu.standardise,
            (x["people"].columns,),
            {
                "names": ["first_name"],
                "emails": ["email"],
                "phones": ["phone"],
                "postcodes": ["postcode"],
                "countries": [],
                "dates": ["date_of_birth"],
                "default_region": "GB",
                "dayfirst": True,
            },
        ),
        Spec(
            "standardise_contacts",
            qu.standardise_contacts,
            (x["people"].columns,),
            {"default_region": "GB"},
        ),
        Spec("Exact", qu.Exact, ("email",), {"term_frequencies": True}),
        Spec(
            "Text",
            qu.Text,
            ("first_name",),
            {
                "thresholds": (0.9, 0.8),
                "metric": "jaro_winkler",
                "swap": "last_name",
                "term_frequencies": False,
            },
        ),
        Spec("Date", qu.Date, ("date_of_birth",), {"days": (3, 30), "swapped": True}),
        Spec("Block", qu.Block, ("last_name", "postcode"), {"prefix": 3, "max_block": 50}),
        Spec("SortedNeighbourhood", qu.SortedNeighbourhood, ("street",), {"window": 4}),
        Spec("candidate_pairs", qu.candidate_pairs, (x["people_records"], x["people_rules"])),
        Spec(
            "FellegiSunter",
            qu.FellegiSunter,
            ([qu.Exact("email")],),
            {"blocking": [qu.Block("email")], "u_pairs": 5000, "max_iterations": 50},
        ),
        Spec(
            "FellegiSunter.fit",
            lambda *a, **k: qu.FellegiSunter(
                [qu.Text("first_name"), qu.Exact("email")],
                blocking=[qu.Block("email"), qu.Block("last_name", prefix=2)],
                u_pairs=5000,
            ).fit(*a, **k),
            (x["people_records"],),
            {"seed": 3},
            target=qu.FellegiSunter,
        ),
        Spec("FellegiSunter.clusters", x["dedupe"].clusters, (0.9,)),
        Spec("FellegiSunter.explain", x["dedupe"].explain, (0, 1)),
        Spec("FellegiSunter.score_pairs", x["dedupe"].score_pairs, ([0, 1], [2, 3])),
        Spec(
            "profile",
            qu.profile,
            (x["people"].columns,),
            {"kinds": {"email": "email"}, "as_of": None, "default_region": "GB"},
        ),
        Spec(
            "Survivorship",
            qu.Survivorship,
            ("most_recent",),
            {"fields": {"email": "keep_all"}, "priority": ("crm",), "survivor": "oldest"},
        ),
        Spec(
            "plan_merge",
            qu.plan_merge,
            ([x["ada"], x["ada"].evolve(id=__import__("uuid").uuid4())],),
            {"related": [], "rules": qu.Survivorship(), "at": None},
        ),
        Spec(
            "apply_merge",
            lambda plan, uow: _in_uow(qu.apply_merge, plan, uow, "before"),
            (qu.plan_merge([x["ada"], x["ada"].evolve(id=__import__("uuid").uuid4())]), None),
            target=qu.apply_merge,
        ),
        Spec(
            "unmerge",
            lambda plan, uow: _in_uow(qu.unmerge, plan, uow, "after"),
            (qu.plan_merge([x["ada"], x["ada"].evolve(id=__import__("uuid").uuid4())]), None),
            target=qu.unmerge,
        ),
        Spec("contact_model", qu.contact_model, (["first_name", "email"],), {"u_pairs": 5000}),
        Spec("duplicate_report", qu.duplicate_report, (x["dedupe"], 0.9), {"top": 3}),
        Spec(
            "evaluate",
            qu.evaluate,
            (x["dedupe"].clusters(0.9).labels, x["people"].entity),
            {"candidates": x["dedupe"].candidates_},
        ),
        # -- value: covariates
        Spec(
            "ParetoNBDCovariates.fit",
            lambda *a, **k: va.ParetoNBDCovariates().fit(*a, **k),
            (x["f"][:200], x["r"][:200], x["T"][:200]),
            {
                "purchase": {"z": np.linspace(0, 1, len(x["f"][:200]))},
                "dropout": None,
                "reference": None,
                "weights": None,
                "penalty": 0.0,
            },
            target=va.ParetoNBDCovariates,
        ),
        Spec(
            "ParetoNBDCovariates.from_params",
            va.ParetoNBDCovariates.from_params,
            (),
            {"r": 0.5, "alpha": 10.0, "s": 0.6, "beta": 12.0, "purchase": {"z": 0.1}},
        ),
        Spec(
            "design_matrix",
            va.design_matrix,
            ({"c": ["a", "b"]}, 2, "purchase"),
            {"reference": None},
        ),
        Spec(
            "BetaGeoCovariates.fit",
            lambda *a, **k: va.BetaGeoCovariates().fit(*a, **k),
            (x["f"][:200], x["r"][:200], x["T"][:200]),
            {
                "purchase": {"z": np.linspace(0, 1, len(x["f"][:200]))},
                "dropout": None,
                "penalty": 0.0,
            },
            target=va.BetaGeoCovariates,
        ),
        Spec(
            "GammaGammaCovariates.fit",
            lambda *a, **k: va.GammaGammaCovariates().fit(*a, **k),
            (
                x["f"][:200],
                np.where(
                    np.asarray(x["f"][:200]) > 0, np.linspace(5.0, 80.0, len(x["f"][:200])), 0.0
                ),
            ),
            {
                "spend": {"z": np.linspace(0, 1, len(x["f"][:200]))},
                "reference": None,
                "penalty": 0.0,
            },
            target=va.GammaGammaCovariates,
        ),
        Spec(
            "GammaGammaCovariates.from_params",
            va.GammaGammaCovariates.from_params,
            (),
            {"p": 6.0, "q": 4.0, "gamma": 15.0, "spend": {"z": 0.1}},
        ),
        Spec(
            "prediction_interval",
            va.prediction_interval,
            (
                lambda m: m.expected_purchases(10.0),
                va.BetaGeo().fit(x["f"][:200], x["r"][:200], x["T"][:200]),
            ),
            {"method": "delta", "confidence": 0.9, "scale": "auto"},
        ),
        Spec(
            "ParetoNBDDynamic.fit",
            lambda *a, **k: va.ParetoNBDDynamic().fit(*a, **k),
            (x["f"][:200], x["r"][:200], x["T"][:200]),
            {
                "birth": np.zeros(len(x["f"][:200])),
                "dropout": {"z": np.linspace(0, 1, int(np.ceil(max(x["T"][:200]))) + 1)},
                "period_length": 1.0,
                "penalty": 0.0,
            },
            target=va.ParetoNBDDynamic,
        ),
        Spec(
            "ParetoNBDDynamic.from_params",
            va.ParetoNBDDynamic.from_params,
            (),
            {"r": 0.5, "alpha": 10.0, "s": 0.6, "beta": 12.0, "purchase": {"z": 0.1}},
        ),
        # -- value
        Spec(
            "BetaGeo.fit",
            lambda *a, **k: va.BetaGeo().fit(*a, **k),
            (x["f"], x["r"], x["T"]),
            target=va.BetaGeo,
        ),
        Spec(
            "ParetoNBD.fit",
            lambda *a, **k: va.ParetoNBD().fit(*a, **k),
            (x["f"][:300], x["r"][:300], x["T"][:300]),
            target=va.ParetoNBD,
        ),
        Spec(
            "GammaGamma.fit",
            lambda *a, **k: va.GammaGamma().fit(*a, **k),
            (x["gg_f"], x["gg_m"]),
            target=va.GammaGamma,
        ),
        Spec(
            "ShiftedBetaGeo.fit",
            lambda *a, **k: va.ShiftedBetaGeo().fit(*a, **k),
            ([1000, 631, 468, 382, 326],),
            target=va.ShiftedBetaGeo,
        ),
        Spec(
            "BetaGeoBetaBinom.fit",
            lambda *a, **k: va.BetaGeoBetaBinom().fit(*a, **k),
            ([0, 1, 2, 3, 6, 0], [0, 2, 4, 5, 6, 0], [6, 6, 6, 6, 6, 6]),
            target=va.BetaGeoBetaBinom,
        ),
        Spec(
            "BetaGeo.from_params",
            va.BetaGeo.from_params,
            (),
            {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4},
        ),
        Spec(
            "BetaGeo.probability_alive",
            x["bg"].probability_alive,
            ([2, 0], [30.4, 0], [38.9, 38.9]),
        ),
        Spec(
            "BetaGeo.conditional_expected_purchases",
            x["bg"].conditional_expected_purchases,
            (39, [2, 0], [30.4, 0], [38.9, 38.9]),
        ),
        Spec("BetaGeo.expected_purchases", x["bg"].expected_purchases, ([1, 39, 78],)),
        Spec("BetaGeo.probability_of_purchases", x["bg"].probability_of_purchases, (39, [0, 1, 2])),
        Spec("BetaGeo.simulate", x["bg"].simulate, ([10, 20],), {"seed": 1}),
        Spec(
            "ParetoNBD.probability_alive",
            x["pareto"].probability_alive,
            ([2, 0], [30.4, 0], [38.9, 38.9]),
        ),
        Spec(
            "ParetoNBD.conditional_expected_purchases",
            x["pareto"].conditional_expected_purchases,
            (39, [2], [30.4], [38.9]),
        ),
        Spec(
            "GammaGamma.conditional_expected_spend",
            x["gg"].conditional_expected_spend,
            ([1, 2], [20.0, 35.0]),
        ),
        Spec("ShiftedBetaGeo.survival", x["sbg"].survival, ([1, 2, 3],)),
        Spec("ShiftedBetaGeo.derl", x["sbg"].derl, (0.1,), {"renewals": 2}),
        Spec("clv", va.clv, (100.0, 0.8, 0.1), {"horizon": 5}),
        Spec("discounted_cash_flows", va.discounted_cash_flows, ([10.0, 10.0, 10.0], 0.1)),
        Spec("concentration", va.concentration, ([1.0, 2.0, 3.0, 50.0],), {"top": (0.2,)}),
        Spec(
            "customer_lifetime_value",
            va.customer_lifetime_value,
            (x["bg"], x["gg"], x["summary"]),
            {"horizon": 6, "discount_rate": 0.01},
        ),
        Spec(
            "rfm_summary",
            va.rfm_summary,
            (x["ids"], x["stamps"], [10.0, 20, 5, 7, 9, 11]),
            {"observation_end": np.datetime64("2026-04-01"), "time_unit": "W"},
        ),
        Spec(
            "rfm_summary_from_orders",
            va.rfm_summary_from_orders,
            ([x["order"]],),
            {"observation_end": T0 + timedelta(days=30)},
        ),
        Spec("rfm_scores", va.rfm_scores, (x["summary"],), {"bins": 3}),
        Spec("compress", va.compress, (x["summary"],)),
        Spec("holdout_report", va.holdout_report, (x["bg"], x["holdout"]), {"max_frequency": 5}),
        Spec("value_report", va.value_report, (x["summary"],), {"horizon": 6, "top": 2}),
        Spec(
            "idic_scores",
            va.idic_scores,
            (),
            {
                "completeness": [0.5, 1.0],
                "reachable": [True, False],
                "consent": [True, True],
                "duplicate": [False, False],
                "value": [10.0, 20.0],
                "days_since_interaction": [5.0, 50.0],
                "interactions": [3, 1],
                "inbound_share": [0.5, 0.0],
                "channels": [2, 1],
                "satisfaction": [0.8, 0.4],
                "personalized_share": [0.1, 0.0],
            },
        ),
        Spec(
            "idic_from_entities",
            va.idic_from_entities,
            ([ada],),
            {"as_of": T0 + timedelta(days=10), "orders": [x["order"]]},
        ),
        Spec("IdicWeights", va.IdicWeights, (), {"half_life_days": 30.0}),
        Spec(
            "score",
            va.score,
            (x["summary_frame"], x["bg"]),
            {"horizon": 3, "discount_rate": 0.01, "nonpositive": "zero"},
        ),
        Spec(
            "rfm_summary (frame)",
            va.rfm_summary,
            (x["log_frame"],),
            {"observation_end": np.datetime64("2026-04-01"), "columns": ("c", "d", "a")},
            target=va.rfm_summary,
        ),
        Spec(
            "tracking_report",
            va.tracking_report,
            (x["bg"], x["ids"], x["stamps"]),
            {"observation_end": np.datetime64("2026-04-01"), "time_unit": "W"},
        ),
        Spec(
            "forecast_pipeline",
            an.forecast_pipeline,
            (x["pipeline_log"], x["pipeline_amounts"]),
            {"as_of": np.datetime64("2026-05-31"), "periods": 4, "period_days": 7.0},
        ),
        Spec(
            "F",
            lambda name: Query(en.Contact).where(F(name) == "Ada"),
            ("first_name",),
            target=F,
        ),
        Spec(
            "InMemoryUnitOfWork",
            lambda store: InMemoryUnitOfWork(store).__enter__().repository(en.Contact).count(),
            (InMemoryStore(),),
            target=InMemoryUnitOfWork,
        ),
        Spec(
            "acsi_model",
            ac.acsi_model,
            (),
            {
                "expectations": ["e"],
                "quality": ["q"],
                "value": ["v"],
                "satisfaction": ["s"],
                "complaints": ["c"],
                "loyalty": ["l"],
            },
        ),
        Spec(
            "scsb_model",
            ac.scsb_model,
            (),
            {
                "expectations": ["e"],
                "performance": ["p"],
                "satisfaction": ["s"],
                "complaints": ["c"],
                "loyalty": ["l"],
            },
        ),
        Spec(
            "permutation_test",
            pls.permutation_test,
            (x["two_group_model"], x["two_group_data"], x["two_groups"]),
            {"permutations": 5, "seed": 1},
        ),
        Spec(
            "resample",
            lambda r, n, **k: list(pls.resample(r, n, **k)),
            (x["acsi_fit"], 3),
            {"seed": 1},
            target=pls.resample,
        ),
        # -- demo data and the report
        Spec("demo_acsi_survey", ds.demo_acsi_survey, (3,), {"respondents": 50}),
        Spec("demo_kano_survey", ds.demo_kano_survey, (3,), {"respondents": 20}),
        Spec(
            "demo_servqual_survey",
            ds.demo_servqual_survey,
            (3,),
            {"branches": 3, "respondents_per_branch": 5},
        ),
        Spec(
            "demo_customer_base",
            ds.demo_customer_base,
            (3,),
            {"retail_customers": 5, "accounts": 2, "weeks": 10},
        ),
        Spec("load_cdnow", ds.load_cdnow, (), {"full": False}),
        Spec(
            "customer_base_report",
            report.customer_base_report,
            (x["base"],),
            {"as_of": x["base"].observation_end},
        ),
        Spec(
            "load_all",
            lambda u, t: report.load_all(u, t),
            (x["uow"], en.Contact),
            target=report.load_all,
        ),
        Spec(
            "TransitionRecord",
            lc.TransitionRecord,
            ("lead", "Lead", ada.id, "contact", "new", "contacted", T0),
        ),
        # -- unions of the above, named for the completeness check
        Spec(
            "Contact (model)",
            lambda **k: en.Contact(**k),
            (),
            {"first_name": "A"},
            target=en.Contact,
        ),
    ]
    out += _adapter_specs(ada)
    return out


def _sql_with_ada(ad: Any, contact_type: type, ada: Any) -> Any:
    engine = ad.sqlite_engine()
    schema = ad.Schema()
    schema.create_all(engine)
    repo = ad.SqlRepository(contact_type, engine, schema)
    repo.add(ada)
    return repo


def _adapter_specs(ada: Any) -> list[Spec]:
    """The SQLAlchemy adapter (when the ``sql`` extra is installed)."""
    try:
        from crmkit.adapters import sqlalchemy as ad
    except errors.MissingDependency:  # pragma: no cover - installed by the test extra
        return []
    from crmkit.entities import Contact
    from crmkit.repository import Query

    engine = ad.sqlite_engine()
    schema = ad.Schema()
    schema.create_all(engine)
    repo = ad.SqlRepository(Contact, engine, schema)
    repo.add(ada)
    q = Query(Contact).order_by("first_name").limit(1)
    return [
        Spec("sqlite_engine", ad.sqlite_engine, ("sqlite://",)),
        Spec("Schema", ad.Schema, ("crm_",)),
        Spec("SqlRepository", ad.SqlRepository, (Contact, engine, schema)),
        Spec("SqlRepository.get", repo.get, (ada.id,)),
        Spec("SqlRepository.query", repo.query, (q,)),
        Spec("SqlRepository.count", repo.count, (q,)),
        Spec("SqlRepository.add", repo.add, (Contact(first_name="B"),)),
        Spec(
            "SqlRepository.remove",
            lambda i, v: _sql_with_ada(ad, Contact, ada).remove(i, expected_version=v),
            (ada.id, 1),
            target=ad.SqlRepository,
        ),
        Spec("SqlUnitOfWork", ad.SqlUnitOfWork, (engine, schema)),
    ]


def main() -> int:
    total: Counter[str] = Counter()
    all_findings: list[str] = []
    rows = []
    for spec in specs():
        counts, findings = run(spec)
        total.update(counts)
        all_findings += findings
        rows.append((spec.name, sum(counts.values()), len(findings)))
    width = max(len(r[0]) for r in rows)
    print(f"{'entry point':<{width}}  inputs  findings")
    for name, n, bad in rows:
        print(f"{name:<{width}}  {n:6d}  {bad:8d}")
    print(f"\n{len(rows)} entry points, {sum(total.values())} hostile inputs")
    for outcome, n in total.most_common():
        print(f"  {n:6d}  {outcome}")
    for line in all_findings[:200]:
        print(line)
    return 1 if all_findings else 0


if __name__ == "__main__":
    sys.exit(main())
