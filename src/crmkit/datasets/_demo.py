"""A small, realistic customer base generated from a seed (no files, no numpy)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

import attrs

from crmkit.entities import (
    Account,
    Address,
    Channel,
    Consent,
    Contact,
    CustomerType,
    Direction,
    Email,
    Entity,
    InstrumentKind,
    Interaction,
    LawfulBasis,
    Money,
    Order,
    OrderLine,
    PhoneNumber,
    Product,
    SurveyResponse,
    Ticket,
)
from crmkit.entities._enums import Priority
from crmkit.entities._rules import describe
from crmkit.errors import ValidationError

__all__ = ["CustomerBase", "demo_customer_base"]

_FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Margaret",
    "Ken",
    "Frances",
    "John",
    "Radia",
    "Tim",
    "Hedy",
    "Claude",
    "Sophie",
    "Katherine",
    "Dennis",
    "Annie",
    "Linus",
    "Guido",
    "Jean",
    "Niklaus",
    "Lynn",
    "Shafi",
    "Mary",
    "Yukihiro",
]
_LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Allen",
    "Backus",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Shannon",
    "Wilson",
    "Johnson",
    "Ritchie",
    "Easley",
    "Torvalds",
    "Rossum",
    "Sammet",
    "Wirth",
    "Conway",
    "Goldwasser",
    "Keller",
    "Matsumoto",
]


class _Place(NamedTuple):
    city: str
    region: str | None
    country: str
    postal_code: str
    currency: str
    phone_prefix: str
    digits: int

    def address(self, rng: random.Random) -> Address:
        return Address(
            lines=[f"{rng.randint(1, 250)} {rng.choice(_STREETS)}"],
            city=self.city,
            region=self.region,
            postal_code=self.postal_code,
            country=self.country,
        )


_PLACES = tuple(
    _Place(*p)
    for p in (
        ("London", None, "GB", "EC1A 1BB", "GBP", "+4420", 8),
        ("Manchester", None, "GB", "M1 1AE", "GBP", "+44161", 7),
        ("Paris", None, "FR", "75002", "EUR", "+331", 8),
        ("Lyon", None, "FR", "69002", "EUR", "+334", 8),
        ("Berlin", None, "DE", "10117", "EUR", "+4930", 8),
        ("Austin", "TX", "US", "78701", "USD", "+1512", 7),
        ("Boston", "MA", "US", "02108", "USD", "+1617", 7),
    )
)
_STREETS = (
    "High Street",
    "Station Road",
    "Rue de la Paix",
    "Main Street",
    "Market Square",
    "Park Lane",
)
_COMPANY_A = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Oscorp",
    "Aperture",
    "Monarch",
    "Nakatomi",
)
_COMPANY_B = ("Ltd", "GmbH", "SA", "Inc", "Holdings", "Group", "Partners")
_PRODUCTS = (
    ("CRM-START", "Starter plan (monthly)", "29"),
    ("CRM-PRO", "Professional plan (monthly)", "99"),
    ("CRM-ENT", "Enterprise plan (monthly)", "499"),
    ("SEAT-ADD", "Additional seat", "15"),
    ("ONBOARD", "Onboarding package", "1200"),
    ("TRAIN-DAY", "Training day", "850"),
    ("API-PACK", "API call pack (1M calls)", "49"),
    ("SUPPORT-P", "Priority support (monthly)", "199"),
    ("MIGRATE", "Data migration", "2400"),
    ("REPORTS", "Advanced reporting add-on", "39"),
)
_SUBJECTS = (
    "Renewal call",
    "Quarterly review",
    "Pricing question",
    "Feature request",
    "Onboarding check-in",
    "Invoice query",
    "Product demo",
    "Follow-up e-mail",
)
_TICKETS = (
    "Cannot log in",
    "Export to CSV fails",
    "Invoice shows wrong VAT",
    "API rate limit reached",
    "Password reset e-mail missing",
    "Dashboard loads slowly",
)
_EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=timezone.utc)


@attrs.frozen(kw_only=True)
class CustomerBase:
    """Every record of a demo customer base, by type."""

    seed: int
    accounts: tuple[Account, ...]
    contacts: tuple[Contact, ...]
    products: tuple[Product, ...]
    orders: tuple[Order, ...]
    interactions: tuple[Interaction, ...]
    tickets: tuple[Ticket, ...]
    survey_responses: tuple[SurveyResponse, ...]
    consents: tuple[Consent, ...]
    observation_start: datetime
    observation_end: datetime

    def all_records(self) -> Iterator[Entity]:
        """Every entity, type by type."""
        for group in (
            self.accounts,
            self.contacts,
            self.products,
            self.orders,
            self.interactions,
            self.tickets,
            self.survey_responses,
            self.consents,
        ):
            yield from group

    def counts(self) -> dict[str, int]:
        """Number of records per entity type."""
        return {
            "accounts": len(self.accounts),
            "contacts": len(self.contacts),
            "products": len(self.products),
            "orders": len(self.orders),
            "interactions": len(self.interactions),
            "tickets": len(self.tickets),
            "survey_responses": len(self.survey_responses),
            "consents": len(self.consents),
        }


def _uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def demo_customer_base(
    seed: int = 2026, *, retail_customers: int = 200, accounts: int = 30, weeks: int = 78
) -> CustomerBase:
    """Generate a realistic customer base, the same for the same arguments.

    B2B accounts with two to five contacts each, and retail customers who
    buy on their own. Purchases follow a buy-till-you-die pattern: each
    customer buys at an individual Poisson rate (gamma heterogeneity) and
    may drop out after any purchase (beta heterogeneity), as in the BG/NBD
    model of Fader, Hardie & Lee (2005), so later issues' value models have
    something real to find. Interactions, tickets, NPS answers (skewed by
    each customer's satisfaction) and consents come with them.

    Parameters
    ----------
    seed:
        Random seed; the output depends on nothing else.
    retail_customers, accounts:
        How many retail contacts and B2B accounts to create.
    weeks:
        Length of the observation window, starting on 2025-01-06.
    """
    for name, value, low, high in (
        ("seed", seed, 0, 2**128 - 1),
        ("retail_customers", retail_customers, 0, 1_000_000),
        ("accounts", accounts, 0, 100_000),
        ("weeks", weeks, 1, 52 * 100),
    ):
        if type(value) is not int or not low <= value <= high:
            raise ValidationError(
                [(name, f"must be an integer from {low} to {high} (got {describe(value)})")]
            )
    rng = random.Random(seed)
    end = _EPOCH + timedelta(weeks=weeks)
    products = tuple(
        Product(
            id=_uuid(rng),
            sku=sku,
            name=name,
            price=Money(price, "EUR"),
            category="software",
            created_at=_EPOCH - timedelta(days=400),
        )
        for sku, name, price in _PRODUCTS
    )
    out_accounts: list[Account] = []
    contacts: list[Contact] = []
    customers: list[tuple[Contact | Account, str, float]] = []  # (buyer, currency, satisfaction)

    def person(created: datetime, place: _Place, account: Account | None) -> Contact:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        prefix, digits = place.phone_prefix, place.digits
        domain = (
            (account.name.split()[0].lower() + ".example")
            if account
            else rng.choice(("mail.example", "post.example", "inbox.example"))
        )
        return Contact(
            id=_uuid(rng),
            created_at=created,
            first_name=first,
            last_name=last,
            email=Email(
                f"{first.lower()}.{last.lower().replace('-', '')}{rng.randrange(100)}@{domain}"
            ),
            phone=PhoneNumber(f"{prefix}{rng.randrange(10 ** (digits - 1), 10**digits)}")
            if rng.random() < 0.7
            else None,
            address=place.address(rng) if account is None else None,
            job_title=rng.choice(("Head of Sales", "CTO", "Office Manager", "Buyer", "CEO"))
            if account
            else None,
            account_id=account.id if account else None,
            preferred_channel=rng.choice((Channel.EMAIL, Channel.PHONE, Channel.CHAT, None)),
            tags=frozenset(
                rng.sample(
                    ("newsletter", "vip", "beta", "event-2025", "referral"), rng.randint(0, 2)
                )
            ),
            lifecycle_stage="acquisition",
        )

    for _ in range(accounts):
        place = rng.choice(_PLACES)
        created = _EPOCH + timedelta(days=rng.randrange(weeks * 7 // 2))
        name = f"{rng.choice(_COMPANY_A)} {rng.choice(_COMPANY_B)}"
        account = Account(
            id=_uuid(rng),
            created_at=created,
            name=name,
            customer_type=rng.choice(
                (
                    CustomerType.COMMERCIAL,
                    CustomerType.COMMERCIAL,
                    CustomerType.WHOLESALE,
                    CustomerType.INDUSTRIAL,
                    CustomerType.GOVERNMENT,
                )
            ),
            industry=rng.choice(
                ("Retail", "Manufacturing", "Finance", "Public sector", "Logistics")
            ),
            website=f"https://{name.split()[0].lower()}.example",
            address=place.address(rng),
            employees=rng.choice((12, 45, 180, 950, 4200)),
            lifecycle_stage="acquisition",
        )
        out_accounts.append(account)
        for _ in range(rng.randint(2, 5)):
            contacts.append(person(created, place, account))
        customers.append((account, place.currency, rng.betavariate(5, 2)))
    for _ in range(retail_customers):
        place = rng.choice(_PLACES)
        contact = person(_EPOCH + timedelta(days=rng.randrange(weeks * 7 // 2)), place, None)
        contacts.append(contact)
        customers.append((contact, place.currency, rng.betavariate(5, 2)))

    orders: list[Order] = []
    interactions: list[Interaction] = []
    tickets: list[Ticket] = []
    responses: list[SurveyResponse] = []
    consents: list[Consent] = []
    contacts_of: dict[UUID, list[Contact]] = {}
    for c in contacts:
        if c.account_id is not None:
            contacts_of.setdefault(c.account_id, []).append(c)

    for buyer, currency, satisfaction in customers:
        is_account = isinstance(buyer, Account)
        people = contacts_of.get(buyer.id, []) if isinstance(buyer, Account) else [buyer]
        # BG/NBD-style purchasing: a gamma-distributed weekly rate, a beta dropout chance.
        rate = rng.gammavariate(0.8 if is_account else 0.5, 0.25)
        p_drop = rng.betavariate(1.0, 3.0 + 4.0 * satisfaction)
        t = buyer.created_at
        alive = True
        n = 0
        while alive and t < end:
            lines = [
                OrderLine(
                    description=p.name,
                    quantity=rng.randint(1, 8 if is_account else 2),
                    unit_price=Money(p.price.amount, currency),
                    product_id=p.id,
                    sku=p.sku,
                )
                for p in rng.sample(products, rng.randint(1, 3 if is_account else 1))
            ]
            orders.append(
                Order(
                    id=_uuid(rng),
                    created_at=t,
                    ordered_at=t,
                    currency=currency,
                    lines=lines,
                    contact_id=None if is_account else buyer.id,
                    account_id=buyer.id if is_account else None,
                    number=f"SO-{len(orders) + 10001}",
                    status="paid",
                    tax=Money(
                        (sum(line.total.amount for line in lines) * Decimal("0.2")).quantize(
                            Decimal("0.01")
                        ),
                        currency,
                    ),
                )
            )
            n += 1
            alive = rng.random() >= p_drop
            t = t + timedelta(days=7 * rng.expovariate(max(rate, 1e-3)), hours=rng.randint(0, 8))
        for person_ in people:
            for _ in range(rng.randint(0, 3 + n)):
                when = person_.created_at + timedelta(
                    days=rng.uniform(0, (end - person_.created_at).days or 1)
                )
                channel = rng.choice(
                    (Channel.EMAIL, Channel.EMAIL, Channel.PHONE, Channel.CHAT, Channel.VIDEO)
                )
                interactions.append(
                    Interaction(
                        id=_uuid(rng),
                        created_at=when,
                        occurred_at=when,
                        channel=channel,
                        direction=rng.choice((Direction.INBOUND, Direction.OUTBOUND)),
                        contact_ids=(person_.id,),
                        account_id=person_.account_id,
                        subject=rng.choice(_SUBJECTS),
                        duration=timedelta(minutes=rng.randint(3, 55))
                        if channel in (Channel.PHONE, Channel.VIDEO)
                        else None,
                        sentiment=round(
                            max(-1.0, min(1.0, rng.gauss(2 * satisfaction - 1, 0.3))), 2
                        ),
                        personalized=person_.preferred_channel is channel,
                    )
                )
            if rng.random() < 0.35:
                opened = person_.created_at + timedelta(
                    days=rng.uniform(0, max((end - person_.created_at).days - 3, 1))
                )
                first = opened + timedelta(minutes=rng.randint(5, 600))
                resolved = (
                    first + timedelta(hours=rng.expovariate(1 / 9)) if rng.random() < 0.85 else None
                )
                tickets.append(
                    Ticket(
                        id=_uuid(rng),
                        created_at=opened,
                        subject=rng.choice(_TICKETS),
                        contact_id=person_.id,
                        account_id=person_.account_id,
                        priority=rng.choice(
                            (
                                Priority.LOW,
                                Priority.NORMAL,
                                Priority.NORMAL,
                                Priority.HIGH,
                                Priority.URGENT,
                            )
                        ),
                        status="solved" if resolved else "open",
                        channel=Channel.EMAIL,
                        opened_at=opened,
                        first_response_at=first,
                        resolved_at=resolved,
                        sla_due=opened + timedelta(hours=24),
                    )
                )
            if rng.random() < 0.6:
                # Likelihood to recommend, skewed by satisfaction: a 0-10 answer.
                score = max(0, min(10, round(rng.gauss(3 + 7 * satisfaction, 1.6))))
                answered = person_.created_at + timedelta(
                    days=rng.uniform(1, max((end - person_.created_at).days, 2))
                )
                responses.append(
                    SurveyResponse(
                        id=_uuid(rng),
                        created_at=answered,
                        instrument=InstrumentKind.NPS,
                        answers={"nps": score},
                        answered_at=answered,
                        survey="Relationship NPS 2025",
                        contact_id=person_.id,
                        account_id=person_.account_id,
                    )
                )
            if "newsletter" in person_.tags or rng.random() < 0.5:
                consents.append(
                    Consent(
                        id=_uuid(rng),
                        created_at=person_.created_at,
                        contact_id=person_.id,
                        purpose="marketing_email",
                        lawful_basis=LawfulBasis.CONSENT,
                        granted_at=person_.created_at,
                        source="signup form",
                        wording_version="2025-01",
                    )
                )
    # Each customer's lifecycle stage follows from its orders: the same replay the demo prints
    # and the report counts (one source of truth).
    from crmkit.lifecycle import replay_customer_stages

    buyers: list[Account | Contact] = [
        *out_accounts,
        *(c for c in contacts if c.account_id is None),
    ]
    staged = {c.id: c for c in replay_customer_stages(buyers, orders, as_of=end).customers}
    return CustomerBase(
        seed=seed,
        accounts=tuple(staged.get(a.id, a) for a in out_accounts),  # type: ignore[misc]
        contacts=tuple(staged.get(c.id, c) for c in contacts),  # type: ignore[misc]
        products=products,
        orders=tuple(sorted(orders, key=lambda o: o.ordered_at)),
        interactions=tuple(sorted(interactions, key=lambda i: i.occurred_at)),
        tickets=tuple(tickets),
        survey_responses=tuple(responses),
        consents=tuple(consents),
        observation_start=_EPOCH,
        observation_end=end,
    )
