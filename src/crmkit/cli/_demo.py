"""``crmkit demo``: a customer base built from a seed, and crmkit at work on it."""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any, TextIO

from crmkit._version import __version__
from crmkit.cli._io import printable, write_text
from crmkit.cli._report import sql_adapter
from crmkit.errors import BoundaryWarning, ValidationError

__all__ = ["add_parser"]


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
    _demo_value(out)
    _demo_acsi(out, args.seed)
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
        write_text(args.html, report.to_html())
        print(f"  wrote {printable(args.html)}", file=out)


def _demo_storage(
    args: argparse.Namespace, out: TextIO, base: Any, records: list[Any]
) -> tuple[bool, Any]:
    from crmkit.entities import Contact, Order
    from crmkit.errors import ConcurrencyError
    from crmkit.repository import F, InMemoryStore, InMemoryUnitOfWork, Query

    _heading(out, 5, "Storing and querying through a unit of work")
    make_uow: Any
    if args.database:
        adapter = sql_adapter()
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

    from crmkit.entities import Lead, Money, Opportunity
    from crmkit.errors import InvalidTransition
    from crmkit.lifecycle import (
        CUSTOMER_LIFECYCLE,
        LEAD,
        OPPORTUNITY_PIPELINE,
        convert_lead,
        replay_customer_stages,
    )
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

    # Every customer's lifecycle stage from its order history (the stages the base stores).
    customers = [*base.accounts, *(c for c in base.contacts if c.account_id is None)]
    replay = replay_customer_stages(customers, base.orders, as_of=at)
    stages = replay.counts()
    history = list(replay.records)
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


def _demo_value(out: TextIO) -> None:
    """The value section of ``crmkit demo``: the CDNOW customer base, fitted and checked."""
    from datetime import date

    from crmkit.datasets import load_cdnow
    from crmkit.value import (
        WEEKS_PER_MONTH,
        BetaGeo,
        ParetoNBD,
        holdout_report,
        rfm_summary,
        value_report,
    )

    _heading(out, 8, "Customer value: BG/NBD, Pareto/NBD and Gamma-Gamma on CDNOW")
    tx = load_cdnow()
    print(
        f"  CDNOW sample (Fader, Hardie & Lee 2005): {len(tx['amount']):,} purchases, "
        "calibration to 1997-09-30, holdout to 1998-06-30",
        file=out,
    )
    calibrated = rfm_summary(
        tx["customer_id"],
        tx["date"],
        tx["amount"],
        observation_end=date(1998, 6, 30),
        calibration_end=date(1997, 9, 30),
        time_unit="W",
    )
    report = value_report(calibrated, period=WEEKS_PER_MONTH, top=5)
    for line in str(report).splitlines():
        print(f"    {line}", file=out)
    summary = rfm_summary(
        tx["customer_id"],
        tx["date"],
        observation_end=date(1998, 6, 30),
        calibration_end=date(1997, 9, 30),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)
        pareto = ParetoNBD().fit(summary)
        bg = BetaGeo().fit(summary)
    print(
        f"  log-likelihood BG/NBD {bg.log_likelihood_:,.1f} vs Pareto/NBD {pareto.log_likelihood_:,.1f}; "
        f"holdout purchases predicted {holdout_report(bg, summary).predicted:,.0f} (BG/NBD) and "
        f"{holdout_report(pareto, summary).predicted:,.0f} (Pareto/NBD), actual "
        f"{summary.holdout_frequency.sum() if summary.holdout_frequency is not None else 0:,}",
        file=out,
    )
    fitted, spend = report.transaction_model, report.spend_model
    if spend is not None and fitted.limit_ is None and spend.limit_ is None:
        from crmkit.value import customer_lifetime_value, prediction_interval

        def total_clv(transactions: Any, spending: Any) -> float:
            value = customer_lifetime_value(
                transactions, spending, calibrated, horizon=report.horizon,
                period=WEEKS_PER_MONTH, discount_rate=report.discount_rate,
                nonpositive="population",
            )  # fmt: skip
            return float(value.sum())

        iv = prediction_interval(total_clv, fitted, spend)
        print(
            f"  CLV of all {report.customers:,} customers over {report.horizon} months: "
            f"{float(iv.estimate):,.0f} (95% interval {float(iv.lower):,.0f} to "
            f"{float(iv.upper):,.0f}, delta method over both models' parameters)",
            file=out,
        )
    print("  (likelihoods, sources and plots: docs/value.md)", file=out)


def _demo_acsi(out: TextIO, seed: int) -> None:
    """The satisfaction-index section of ``crmkit demo`` on a simulated ACSI survey."""
    from crmkit.datasets import ACSI_ITEMS, TRUE_ACSI_PATHS, demo_acsi_survey
    from crmkit.satisfaction.acsi import acsi_model, priorities, satisfaction_index

    _heading(out, 9, "The ACSI as a PLS path model, with its 0-100 index")
    survey = demo_acsi_survey(seed)
    model = acsi_model(**{k: list(v) for k, v in ACSI_ITEMS.items()})
    result = model.fit(survey)
    consistent = model.fit(survey, consistent=True)
    print(
        f"  {len(survey['segment'])} respondents drawn from a known ACSI structure (1-10 answers)",
        file=out,
    )
    print("  path                          true    PLS   PLSc", file=out)
    for key, true in TRUE_ACSI_PATHS.items():
        print(
            f"  {key[0] + ' -> ' + key[1]:<28} {true:+.2f}  {result.paths[key]:+.2f}  {consistent.paths[key]:+.2f}",
            file=out,
        )
    index = satisfaction_index(result, survey, groups=survey["segment"], bootstrap=100, seed=seed)
    for line in str(index).splitlines():
        print(f"  {line}", file=out)
    print("  priorities (total effect on satisfaction vs the driver's index):", file=out)
    for p in priorities(result, survey):
        print(
            f"    {p.construct:<14} effect {p.total_effect:+.3f}  index {p.index:5.1f}  {p.quadrant}",
            file=out,
        )
    print("  (the models, the algorithm and its checks against plspm: docs/acsi.md)", file=out)


def add_parser(sub: Any) -> None:
    """The demo command."""
    demo = sub.add_parser("demo", help="build a customer base from a seed and show crmkit at work")
    demo.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    demo.add_argument("--customers", type=int, default=200, help="retail customers (default 200)")
    demo.add_argument("--accounts", type=int, default=30, help="B2B accounts (default 30)")
    demo.add_argument(
        "--database",
        metavar="URL",
        help="store the base through crmkit.adapters.sqlalchemy, e.g. sqlite:///crm.db",
    )
    demo.add_argument(
        "--html", metavar="FILE", help="also write the customer-base report as an HTML page"
    )
    demo.set_defaults(run=_demo)
