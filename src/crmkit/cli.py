"""The ``crmkit`` command: ``demo``, ``validate``, ``nps``, ``servqual``, ``kano``, ``clv`` and ``acsi``.

Run ``crmkit --help`` (or ``python -m crmkit --help``) for the commands.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TextIO

from crmkit._version import __version__
from crmkit.errors import ConvergenceError, InsufficientData, ValidationError

__all__ = ["main"]


def _fmt_money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _heading(out: TextIO, number: int, title: str) -> None:
    print(f"\n{number}. {title}\n{'-' * (len(title) + 3)}", file=out)


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit.datasets import demo_customer_base
    from crmkit.entities import Account, Contact, Entity, Order
    from crmkit.entities.privacy import erase, export_personal_data
    from crmkit.entities.serde import from_json, to_dict, to_json

    t0 = time.perf_counter()
    base = demo_customer_base(args.seed, retail_customers=args.customers, accounts=args.accounts)
    built = time.perf_counter() - t0
    print(f"crmkit {__version__} demo (seed {args.seed})", file=out)

    # 1. The customer base -------------------------------------------------------------
    _heading(out, 1, "A customer base built from the seed")
    counts = base.counts()
    print("  " + " | ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items()), file=out)
    print(
        f"  observation window {base.observation_start:%Y-%m-%d} to {base.observation_end:%Y-%m-%d}; "
        f"built and validated in {built * 1000:.0f} ms",
        file=out,
    )
    by_type = Counter(a.customer_type.value for a in base.accounts)
    retail = sum(1 for c in base.contacts if c.account_id is None)
    print(
        f"  customers: {retail} retail contacts, "
        + ", ".join(f"{n} {t} accounts" for t, n in sorted(by_type.items())),
        file=out,
    )

    revenue: dict[str, Decimal] = defaultdict(Decimal)
    orders_per_currency: Counter[str] = Counter()
    per_customer: dict[Any, Decimal] = defaultdict(Decimal)
    currency_of: dict[Any, str] = {}
    for order in base.orders:
        total = order.total.amount
        revenue[order.currency] += total
        orders_per_currency[order.currency] += 1
        per_customer[order.customer_id] += total
        currency_of[order.customer_id] = order.currency
    print("  revenue (order totals with tax):", file=out)
    for cur in sorted(revenue):
        print(
            f"    {cur} {_fmt_money(revenue[cur]):>16} from {orders_per_currency[cur]:,} orders",
            file=out,
        )
    names: dict[Any, str] = {a.id: a.name for a in base.accounts}
    names.update({c.id: c.name for c in base.contacts})
    print("  top 5 customers by revenue:", file=out)
    for cid, amount in sorted(per_customer.items(), key=lambda kv: -kv[1])[:5]:
        print(f"    {names[cid]:<28} {currency_of[cid]} {_fmt_money(amount):>12}", file=out)
    repeaters = Counter(o.customer_id for o in base.orders)
    buyers = len(repeaters)
    print(
        f"  {buyers} customers bought; {sum(1 for n in repeaters.values() if n > 1)} of them more than once "
        f"(max {max(repeaters.values(), default=0)} orders)",
        file=out,
    )
    responses = [
        t.response_time.total_seconds() / 3600 for t in base.tickets if t.response_time is not None
    ]
    breached = sum(1 for t in base.tickets if t.sla_breached(base.observation_end))
    if responses:
        print(
            f"  tickets: median first response {statistics.median(responses):.1f} h; "
            f"{breached} of {len(base.tickets)} missed their 24 h SLA",
            file=out,
        )
    answers = Counter(int(r.answers["nps"]) for r in base.survey_responses)
    bar = " ".join(f"{k}:{answers.get(k, 0)}" for k in range(11))
    print(f"  likelihood-to-recommend answers (0-10): {bar}", file=out)
    from crmkit.satisfaction import nps, nps_by

    scores = [int(r.answers["nps"]) for r in base.survey_responses]
    print(f"  {nps(scores)}", file=out)
    segment = ["B2B" if r.account_id is not None else "retail" for r in base.survey_responses]
    by = nps_by(scores, segment)
    print(
        "  by segment: "
        + "; ".join(
            f"{g} {s:+.1f} ({lo:+.1f} to {hi:+.1f}, n = {n})"
            for g, s, lo, hi, n in zip(by.groups, by.score, by.lower, by.upper, by.n, strict=True)
        ),
        file=out,
    )

    # 2. Validation ------------------------------------------------------------------------
    _heading(out, 2, "Validation catches bad records (and says where)")
    good_contact = to_dict(base.contacts[0])
    good_order = to_dict(base.orders[0])
    incoming: list[tuple[str, type[Entity], dict[str, Any]]] = [
        ("contact as exported", Contact, good_contact),
        (
            "contact with a typo'd e-mail",
            Contact,
            {**good_contact, "email": "ada.lovelace@@example.com"},
        ),
        (
            "contact with a naive timestamp and a national phone number",
            Contact,
            {**good_contact, "created_at": "2025-03-01T10:00:00", "phone": "020 7946 0958"},
        ),
        ("contact with a field nobody declared", Contact, {**good_contact, "shoe_size": 44}),
        (
            "order with a zero quantity",
            Order,
            {**good_order, "lines": [{**good_order["lines"][0], "quantity": 0}]},
        ),
        (
            "order with a line in another currency",
            Order,
            {
                **good_order,
                "lines": [
                    *good_order["lines"],
                    {**good_order["lines"][0], "unit_price": {"amount": "990", "currency": "JPY"}},
                ],
            },
        ),
        (
            "account without a name",
            Account,
            {"customer_type": "retail", "address": {"lines": [], "country": "UK"}},
        ),
    ]
    accepted = 0
    for label, cls, data in incoming:
        try:
            from_json(cls, json.dumps(data))
        except ValidationError as exc:
            print(f"  rejected {cls.__name__}: {label}", file=out)
            for path, message in exc.errors:
                print(f"      {path}: {message}", file=out)
        else:
            accepted += 1
            print(f"  accepted {cls.__name__}: {label}", file=out)
    print(f"  {accepted} accepted, {len(incoming) - accepted} rejected", file=out)

    # 3. JSON round trip -------------------------------------------------------------------
    _heading(out, 3, "Lossless JSON round trip")
    records = list(base.all_records())
    t0 = time.perf_counter()
    texts = [(type(r), to_json(r)) for r in records]
    t_write = time.perf_counter() - t0
    t0 = time.perf_counter()
    back = [from_json(cls, text) for cls, text in texts]
    t_read = time.perf_counter() - t0
    same = sum(1 for a, b in zip(records, back, strict=True) if a == b)
    size = sum(len(t.encode()) for _, t in texts)
    print(
        f"  {len(records):,} records -> {size / 1e6:.2f} MB of JSON in {t_write * 1000:.0f} ms "
        f"({len(records) / t_write:,.0f} records/s)",
        file=out,
    )
    print(
        f"  read back with full validation in {t_read * 1000:.0f} ms ({len(records) / t_read:,.0f} records/s); "
        f"{same:,} of {len(records):,} equal to the originals",
        file=out,
    )

    # 4. Privacy ---------------------------------------------------------------------------
    _heading(out, 4, "Privacy: access and erasure (GDPR art. 15 and 17)")
    subject = max(
        base.contacts, key=lambda c: sum(1 for i in base.interactions if c.id in i.contact_ids)
    )
    print(
        f"  repr() masks contact data in logs: email={subject.email!r} phone={subject.phone!r}",
        file=out,
    )
    doc = export_personal_data(subject, records, at=base.observation_end)
    held = ", ".join(f"{len(v)} {k}" for k, v in doc["records"].items())
    print(
        f"  export for contact {subject.id}: {held} ({len(json.dumps(doc)):,} bytes of JSON)",
        file=out,
    )
    erased = erase(subject, at=base.observation_end)
    kept = [
        f
        for f in ("id", "created_at", "account_id", "lifecycle_stage")
        if getattr(erased, f) == getattr(subject, f)
    ]
    print(
        f"  erased copy: name={erased.name!r}, email={erased.email}, phone={erased.phone}; kept {', '.join(kept)}",
        file=out,
    )
    stored_ok, make_uow = _demo_storage(args, out, base, records)
    _demo_lifecycle(out, base, make_uow)
    _demo_satisfaction(out, args.seed)
    from crmkit._cli_value import demo_value

    demo_value(out, _heading)
    from crmkit._cli_acsi import demo_acsi

    demo_acsi(out, _heading, args.seed)
    _demo_report(args, out, base)
    return 0 if same == len(records) and stored_ok else 1


def _demo_satisfaction(out: TextIO, seed: int) -> None:
    """SERVQUAL over branches, which provider gaps drive the customer gap, and a Kano study."""
    from crmkit.datasets import demo_kano_survey, demo_servqual_survey
    from crmkit.satisfaction import gap_model, kano, servqual, unit_means

    _heading(out, 7, "Satisfaction: SERVQUAL, the gaps model and Kano")
    study = demo_servqual_survey(seed)
    result = servqual(study.expectations, study.perceptions, importance=study.importance)
    print(
        f"  {len(study.branches)} branches, {result.n:,} customers answered the 22-item SERVQUAL (1-7)",
        file=out,
    )
    for line in str(result).splitlines():
        print(f"    {line}", file=out)
    _, customer_gap = unit_means(
        (study.perceptions - study.expectations).mean(axis=1), study.branch
    )
    drivers = gap_model(
        customer_gap,
        **study.gaps,
        units=study.branches,
        notes={"gap5": "mean SERVQUAL gap of the branch's customers"},
    ).drivers()
    print("  which provider gaps drive the branches' customer gap (gap 5)?", file=out)
    for line in str(drivers).splitlines():
        print(f"    {line}", file=out)
    survey = demo_kano_survey(seed)
    print(
        f"  Kano study, {len(survey.functional)} respondents x {len(survey.features)} features",
        file=out,
    )
    for line in str(
        kano(survey.functional, survey.dysfunctional, features=survey.features)
    ).splitlines():
        print(f"    {line}", file=out)
    print("  (formulas, sources and plots: docs/satisfaction.md)", file=out)


def _demo_report(args: argparse.Namespace, out: TextIO, base: Any) -> None:
    """Section 10: the one customer-base report (and the HTML page with --html)."""
    from crmkit.report import customer_base_report

    _heading(out, 10, "One customer-base report: lifecycle, satisfaction, value, IDIC")
    report = customer_base_report(base, as_of=base.observation_end)
    for line in str(report).splitlines()[1:]:
        print(f"  {line}" if line else "", file=out)
    if args.html:
        Path(args.html).write_text(report.to_html(), encoding="utf-8")
        print(f"  wrote {args.html}", file=out)


def _report_command(args: argparse.Namespace, out: TextIO) -> int:
    from datetime import datetime, timezone

    from crmkit.report import customer_base_report

    as_of = datetime.now(timezone.utc)
    if args.as_of:
        try:
            as_of = datetime.fromisoformat(args.as_of)
        except ValueError:
            raise ValidationError(
                [("--as-of", f"must be an ISO date or datetime, got {args.as_of!r}")]
            ) from None
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=timezone.utc)
    adapter = _load_sql_adapter()
    url = args.database
    engine = (
        adapter.sqlite_engine(url) if url.startswith("sqlite") else adapter.sa.create_engine(url)
    )
    schema = adapter.Schema()
    with adapter.SqlUnitOfWork(engine, schema) as uow:
        report = customer_base_report(uow, as_of=as_of)
    if args.html:
        Path(args.html).write_text(report.to_html(), encoding="utf-8")
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str), file=out)
    else:
        print(report, file=out)
    return 0


def _load_sql_adapter() -> Any:
    """The example SQLAlchemy adapter of the source checkout (``examples/sqlalchemy_adapter.py``)."""
    import importlib.util

    import crmkit

    path = Path(crmkit.__file__).resolve().parents[2] / "examples" / "sqlalchemy_adapter.py"
    if not path.exists():
        raise ValidationError(
            [("--database", f"needs the example adapter of a source checkout ({path} is missing)")]
        )
    try:
        import sqlalchemy  # noqa: F401
    except ImportError:
        raise ValidationError(
            [("--database", 'needs SQLAlchemy: pip install "crmkit[test]"')]
        ) from None
    spec = importlib.util.spec_from_file_location("crmkit_example_sqlalchemy_adapter", path)
    if spec is None or spec.loader is None:  # pragma: no cover - the path exists
        raise ValidationError([("--database", f"cannot load {path}")])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _demo_storage(
    args: argparse.Namespace, out: TextIO, base: Any, records: list[Any]
) -> tuple[bool, Any]:
    from crmkit.entities import Contact, Order
    from crmkit.errors import ConcurrencyError
    from crmkit.repository import F, InMemoryStore, InMemoryUnitOfWork, Query

    _heading(out, 5, "Storing and querying through a unit of work")
    make_uow: Any
    if args.database:
        adapter = _load_sql_adapter()
        url = args.database
        engine = (
            adapter.sqlite_engine(url)
            if url.startswith("sqlite")
            else adapter.sa.create_engine(url)
        )
        schema = adapter.Schema()
        schema.create_all(engine)
        with engine.begin() as conn:
            schema.clear(conn)
        make_uow = lambda: adapter.SqlUnitOfWork(engine, schema)  # noqa: E731
        where = f"{url} (SQLAlchemy adapter)"
    else:
        store = InMemoryStore()
        make_uow = lambda: InMemoryUnitOfWork(store)  # noqa: E731
        where = "memory (the in-memory reference; --database sqlite:///crm.db to use SQLite)"
    t0 = time.perf_counter()
    with make_uow() as uow:
        for record in records:
            uow.repository(type(record)).add(record)
        uow.record({"event": "customer_base_imported", "records": len(records)})
        events = uow.commit()
    elapsed = time.perf_counter() - t0
    print(
        f"  stored {len(records):,} records in one transaction in {elapsed * 1000:.0f} ms "
        f"({len(records) / elapsed:,.0f} records/s) in {where}; events published: {len(events)}",
        file=out,
    )

    start = base.observation_end.replace(month=1, day=1)
    with make_uow() as uow:
        contacts = uow.repository(Contact)
        orders = uow.repository(Order)
        q = (
            Query(Contact)
            .where(F("address.country").in_(["GB", "FR"]), F("preferred_channel") == "email")
            .order_by("last_name", "first_name")
            .limit(5)
        )
        page = contacts.query(q)
        names = ", ".join(c.name for c in page.items)
        print(
            f"  retail contacts in GB or FR who prefer e-mail: {contacts.count(q)}; first page: {names}",
            file=out,
        )
        second = contacts.query(q.after(page.next_cursor)) if page.next_cursor else None
        if second is not None:
            print(
                f"  next page (keyset cursor): {', '.join(c.name for c in second.items)}", file=out
            )
        recent = Query(Order).where(F("ordered_at") >= start, F("currency") == "EUR")
        print(f"  EUR orders since {start:%Y-%m-%d}: {orders.count(recent):,}", file=out)
        vip = contacts.count(Query(Contact).where(F("tags").contains("vip")))
        print(f"  contacts tagged vip: {vip}", file=out)

        someone = page.items[0] if page.items else base.contacts[0]
        mine, theirs = contacts.get(someone.id), contacts.get(someone.id)
        saved = contacts.save(mine.evolve(lifecycle_stage="loyalty"))
        try:
            contacts.save(theirs.evolve(lifecycle_stage="churned"))
            refused = False
        except ConcurrencyError:
            refused = True
        uow.commit()
    print(
        f"  optimistic concurrency: first save -> version {saved.version}; "
        f"second save from the same old copy {'refused' if refused else 'ACCEPTED (bug!)'}",
        file=out,
    )
    return refused, make_uow


def _demo_lifecycle(out: TextIO, base: Any, make_uow: Any) -> None:
    from datetime import timedelta
    from uuid import UUID

    from crmkit.entities import Account, Contact, Lead, Money, Opportunity
    from crmkit.errors import InvalidTransition
    from crmkit.lifecycle import CUSTOMER_LIFECYCLE, LEAD, OPPORTUNITY_PIPELINE, convert_lead
    from crmkit.repository import F, Query

    _heading(out, 6, "Lifecycles: leads, a deal, and every customer's stage")
    at = base.observation_end
    leads = [
        Lead(
            id=UUID(int=base.seed * 2 + 1, version=4),
            first_name="Peter",
            last_name="Gibbons",
            company="Initech",
            email="peter@initech.example",
            source="web",
            created_at=at - timedelta(days=9),
        ),
        Lead(
            id=UUID(int=base.seed * 2 + 2, version=4),
            company="Chotchkie's",
            source="event",
            created_at=at - timedelta(days=8),
        ),
    ]
    with make_uow() as uow:
        repo = uow.repository(Lead)
        for lead in leads:
            repo.add(lead)
        uow.commit()
    for lead in leads:
        with make_uow() as uow:
            repo = uow.repository(Lead)
            current = repo.get(lead.id)
            current, _ = LEAD.fire(current, "contact", at=at - timedelta(days=7), actor="rep-7")
            try:
                current, _ = LEAD.fire(current, "qualify", at=at - timedelta(days=5), actor="rep-7")
            except InvalidTransition as exc:
                print(f"  refused: {exc}", file=out)
            repo.save(current)
            uow.commit()
    deal: Opportunity | None = None
    with make_uow() as uow:
        qualified = uow.repository(Lead).query(Query(Lead).where(F("status") == "qualified")).items
        for lead in qualified:
            result = convert_lead(
                lead,
                opportunity_amount=Money("24000", "EUR"),
                at=at - timedelta(days=4),
                actor="rep-7",
                uow=uow,
            )
            events = uow.commit()
            print(
                f"  converted lead {lead.company!r}: account {result.account.name!r}, contact "
                f"{result.contact.name!r}, opportunity of {result.opportunity.amount if result.opportunity else '-'}; "
                f"{len(events)} event(s) for the outbox",
                file=out,
            )
            deal = result.opportunity
    if deal is not None:
        steps = []
        for event in ("qualify", "propose", "negotiate", "win"):
            deal, _ = OPPORTUNITY_PIPELINE.fire(deal, event, at=at - timedelta(days=2))
            steps.append(f"{deal.stage} ({deal.probability:.0%})")
        print(f"  the deal moves: {' -> '.join(steps)}", file=out)

    # Every customer's lifecycle stage from its order history.
    last_order: dict[Any, Any] = {}
    orders: dict[Any, int] = {}
    for order in base.orders:
        orders[order.customer_id] = orders.get(order.customer_id, 0) + 1
        last_order[order.customer_id] = order.ordered_at
    stages: dict[str, int] = {}
    history = []
    for customer in (*base.accounts, *(c for c in base.contacts if c.account_id is None)):
        n = orders.get(customer.id, 0)
        events = ["acquire"] if n == 0 else ["convert"]
        if n >= 2:
            events.append("retain")
        if n >= 4:
            events.append("reward")
        if n and at - last_order[customer.id] > timedelta(days=180):
            events.append("churn")
        moved: Account | Contact = customer.evolve(lifecycle_stage="awareness")
        when = customer.created_at
        for event in events:
            when = (
                last_order.get(customer.id, at) if event == "churn" else when + timedelta(days=30)
            )
            moved, record = CUSTOMER_LIFECYCLE.fire(moved, event, at=max(when, moved.updated_at))
            history.append(record)
        stages[moved.lifecycle_stage] = stages.get(moved.lifecycle_stage, 0) + 1
    names = CUSTOMER_LIFECYCLE.state_names
    print(
        "  customers by lifecycle stage (replayed from their orders): "
        + ", ".join(f"{k} {stages[k]}" for k in names if k in stages),
        file=out,
    )
    from crmkit.lifecycle.analytics import TransitionLog, funnel

    log = TransitionLog.from_records(history, states=names)
    report = funnel(log, ["awareness", "conversion", "retention", "loyalty"])
    rates_text = ", ".join(
        f"{a} -> {b} {r:.0%}"
        for a, b, r in zip(report.stages, report.stages[1:], report.step_rates, strict=False)
    )
    print(f"  funnel over {len(log):,} transition records: {rates_text}", file=out)
    _demo_pipeline(out, base)
    print("  (diagrams of every machine: docs/lifecycle.md)", file=out)


def _demo_pipeline(out: TextIO, base: Any) -> None:
    """A year of deals through the standard pipeline, then metrics and a backtested forecast."""
    import random
    from datetime import timedelta
    from uuid import UUID

    from crmkit.entities import Money, Opportunity
    from crmkit.lifecycle import OPPORTUNITY_PIPELINE
    from crmkit.lifecycle.analytics import TransitionLog, forecast_pipeline, pipeline_metrics

    rng = random.Random(base.seed)
    start = base.observation_start
    # Each stage: (chance to move on rather than lose, mean days in the stage, the next event).
    plan = {
        "prospecting": (0.7, 6, "qualify"),
        "qualification": (0.75, 8, "analyze_needs"),
        "needs_analysis": (0.8, 10, "propose"),
        "proposal": (0.7, 12, "negotiate"),
        "negotiation": (0.75, 9, "win"),
    }
    deals, history, started, amounts = [], [], {}, {}
    for i in range(400):
        opened = start + timedelta(days=rng.uniform(0, (base.observation_end - start).days))
        deal = Opportunity(
            id=UUID(int=base.seed * 10_000 + i, version=4),
            name=f"Deal {i}",
            account_id=base.accounts[i % len(base.accounts)].id if base.accounts else UUID(int=1),
            amount=Money(rng.choice(("4800", "12000", "36000", "90000")), "EUR"),
            created_at=opened,
        )
        started[str(deal.id)], amounts[str(deal.id)] = opened, float(deal.amount.amount)
        when = opened
        while deal.stage in plan:
            go_on, mean_days, event = plan[deal.stage]
            when = when + timedelta(days=rng.expovariate(1 / mean_days))
            if when > base.observation_end:
                break
            if rng.random() < go_on:
                deal, record = OPPORTUNITY_PIPELINE.fire(deal, event, at=when)
            else:
                deal, record = OPPORTUNITY_PIPELINE.fire(
                    deal, "lose", at=when, reason="lost to a competitor"
                )
            history.append(record)
        deals.append(deal)
    (eur,) = pipeline_metrics(deals)
    print(
        f"  pipeline of {len(deals)} simulated deals: {eur.open_deals} open, weighted "
        f"EUR {eur.weighted_pipeline:,.0f}; win rate {eur.win_rate:.0%}; average deal EUR "
        f"{eur.average_deal:,.0f}; cycle {eur.cycle_days:.0f} days; velocity EUR {eur.velocity_per_day:,.0f}/day",
        file=out,
    )
    log = TransitionLog.from_records(history, states=OPPORTUNITY_PIPELINE.state_names)
    as_of = base.observation_end - timedelta(weeks=12)
    fc = forecast_pipeline(
        log, amounts, as_of=as_of, started=started, period_days=28, periods=3, backtest=True
    )
    pairs = ", ".join(
        f"{e:,.0f} vs {a:,.0f}" for e, a in zip(fc.expected_won, fc.actual or (), strict=False)
    )
    error = "n/a" if fc.total_relative_error is None else f"{fc.total_relative_error:+.0%}"
    print(
        f"  Markov forecast of won EUR per 4 weeks from {as_of:%Y-%m-%d} (forecast vs actual): {pairs}; "
        f"total error {error}",
        file=out,
    )


def _read_records(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".jsonl", ".ndjson"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit.entities import ENTITY_TYPES
    from crmkit.entities.serde import from_dict

    types = {t.__name__.lower(): t for t in ENTITY_TYPES}
    cls = types.get(args.entity.lower())
    if cls is None:
        print(
            f"crmkit validate: unknown entity {args.entity!r}; choose one of "
            f"{', '.join(t.__name__ for t in ENTITY_TYPES)}",
            file=sys.stderr,
        )
        return 2
    try:
        rows = _read_records(Path(args.file))
    except (OSError, ValueError) as exc:
        print(f"crmkit validate: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    bad = 0
    for i, row in enumerate(rows):
        try:
            from_dict(cls, row)
        except ValidationError as exc:
            bad += 1
            for path, message in exc.errors:
                print(f"record {i}: {path}: {message}", file=out)
    print(
        f"{len(rows) - bad} valid, {bad} invalid {cls.__name__} record(s) in {args.file}", file=out
    )
    return 1 if bad else 0


def _read_csv_columns(path: str, names: list[str]) -> dict[str, list[str]]:
    import csv

    try:
        handle = open(path, newline="", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ValidationError([("file", f"cannot read {path}: {exc.strerror or exc}")]) from None
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [n for n in names if n not in header]
        if missing:
            raise ValidationError(
                [
                    (
                        "columns",
                        f"{path} has no column {missing[0]!r}; it has {', '.join(header) or 'no header'}",
                    )
                ]
            )
        columns: dict[str, list[str]] = {n: [] for n in names}
        for row in reader:
            for n in names:
                columns[n].append(row[n])
    return columns


def _nps_command(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit.satisfaction import nps, nps_by

    wanted = [args.column] + ([args.by] if args.by else [])
    columns = _read_csv_columns(args.file, wanted)
    values = []
    for row, text in enumerate(columns[args.column], start=2):
        try:
            values.append(float(text) if text.strip() else float("nan"))
        except ValueError:
            raise ValidationError(
                [(f"{args.column} (line {row})", f"must be a number 0-10, got {text!r}")]
            ) from None
    policy: Literal["raise", "omit"] = "omit" if args.skip_missing else "raise"
    try:
        overall = nps(values, method=args.method, nan_policy=policy)
        by = nps_by(values, columns[args.by], nan_policy=policy) if args.by else None
    except ValidationError as exc:
        hint = " (add --skip-missing to drop empty answers)" if "missing" in str(exc) else ""
        raise ValidationError([(p, m + hint) for p, m in exc.errors]) from None
    if args.json:
        doc = {"nps": overall.to_dict(), "by": None if by is None else by.to_dict()}
        print(json.dumps(doc, indent=2, default=str), file=out)
    else:
        print(overall, file=out)
        if by is not None:
            print(by, file=out)
    return 0


def _numbers(columns: dict[str, list[str]], names: list[str]) -> list[list[float]]:
    """Rows of numbers from CSV columns; an empty or non-numeric cell names its column and line."""
    rows = []
    for line, values in enumerate(zip(*(columns[n] for n in names), strict=True), start=2):
        row = []
        for name, text in zip(names, values, strict=True):
            try:
                row.append(float(text))
            except (TypeError, ValueError):
                raise ValidationError(
                    [(f"{name} (line {line})", f"must be a number, got {text!r}")]
                ) from None
        rows.append(row)
    return rows


def _servqual_command(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit.satisfaction import STANDARD_SERVQUAL, servqual

    k = STANDARD_SERVQUAL.n_items
    p_cols = [f"{args.perception_prefix}{i}" for i in range(1, k + 1)]
    e_cols = [] if args.servperf else [f"{args.expectation_prefix}{i}" for i in range(1, k + 1)]
    columns = _read_csv_columns(args.file, e_cols + p_cols)
    expectations = None if args.servperf else _numbers(columns, e_cols)
    result = servqual(expectations, _numbers(columns, p_cols), scale=(args.low, args.high))
    print(json.dumps(result.to_dict(), indent=2) if args.json else result, file=out)
    return 0


def _kano_command(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit.satisfaction import kano

    features = [f.strip() for f in args.features.split(",") if f.strip()]
    f_cols = [f + args.functional_suffix for f in features]
    d_cols = [f + args.dysfunctional_suffix for f in features]
    columns = _read_csv_columns(args.file, f_cols + d_cols)
    result = kano(_numbers(columns, f_cols), _numbers(columns, d_cols), features=features)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result, file=out)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crmkit", description="crmkit: an embeddable CRM domain library."
    )
    parser.add_argument("--version", action="version", version=f"crmkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="build a customer base from a seed and show crmkit at work")
    demo.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    demo.add_argument("--customers", type=int, default=200, help="retail customers (default 200)")
    demo.add_argument("--accounts", type=int, default=30, help="B2B accounts (default 30)")
    demo.add_argument(
        "--database",
        metavar="URL",
        help="store the base through the example SQLAlchemy adapter, e.g. sqlite:///crm.db",
    )
    demo.add_argument(
        "--html", metavar="FILE", help="also write the customer-base report as an HTML page"
    )
    demo.set_defaults(run=_demo)
    rep = sub.add_parser(
        "report",
        help="the customer-base report of a database (lifecycle, satisfaction, value, IDIC)",
    )
    rep.add_argument(
        "--database",
        required=True,
        metavar="URL",
        help="an SQLAlchemy URL written by the example adapter",
    )
    rep.add_argument("--as-of", help="the report date (ISO; default now)")
    rep.add_argument("--html", metavar="FILE", help="also write the report as an HTML page")
    rep.add_argument("--json", action="store_true", help="print JSON instead of text")
    rep.set_defaults(run=_report_command)
    val = sub.add_parser("validate", help="validate a JSON / JSON Lines file of records")
    val.add_argument("entity", help="entity type, e.g. Contact or order")
    val.add_argument("file", help="a .json file (an object or an array) or a .jsonl file")
    val.set_defaults(run=_validate)
    np_ = sub.add_parser("nps", help="Net Promoter Score of a CSV column of 0-10 answers")
    np_.add_argument("file", help="a CSV file with a header row")
    np_.add_argument("--column", required=True, help="the column of 0-10 answers")
    np_.add_argument("--by", help="a column to group by (a segment or a period)")
    np_.add_argument(
        "--method", default="adjusted_wald", choices=["adjusted_wald", "wald", "score"]
    )
    np_.add_argument(
        "--skip-missing", action="store_true", help="drop empty answers instead of refusing them"
    )
    np_.add_argument("--json", action="store_true", help="print JSON instead of a table")
    np_.set_defaults(run=_nps_command)
    sq = sub.add_parser("servqual", help="SERVQUAL gaps of a CSV with columns E1..E22 and P1..P22")
    sq.add_argument("file", help="a CSV file with a header row")
    sq.add_argument(
        "--expectation-prefix", default="E", help="expectation columns are PREFIX1..PREFIX22"
    )
    sq.add_argument(
        "--perception-prefix", default="P", help="perception columns are PREFIX1..PREFIX22"
    )
    sq.add_argument(
        "--servperf", action="store_true", help="perceptions only (Cronin & Taylor 1992)"
    )
    sq.add_argument("--low", type=int, default=1, help="lowest answer on the scale (default 1)")
    sq.add_argument("--high", type=int, default=7, help="highest answer on the scale (default 7)")
    sq.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sq.set_defaults(run=_servqual_command)
    ka = sub.add_parser("kano", help="Kano categories of features from a CSV of question pairs")
    ka.add_argument("file", help="a CSV file with a header row")
    ka.add_argument("--features", required=True, help="comma-separated feature names")
    ka.add_argument("--functional-suffix", default="_functional", help="column = feature + this")
    ka.add_argument(
        "--dysfunctional-suffix", default="_dysfunctional", help="column = feature + this"
    )
    ka.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ka.set_defaults(run=_kano_command)
    from crmkit._cli_value import add_parser as add_value_parser

    add_value_parser(sub)
    from crmkit._cli_acsi import add_parser as add_acsi_parser

    add_acsi_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args, out or sys.stdout))
    except ValidationError as exc:
        print(f"crmkit {args.command}: {exc}", file=sys.stderr)
        return 2
    except (InsufficientData, ConvergenceError) as exc:
        print(f"crmkit {args.command}: {exc}", file=sys.stderr)
        return 3
