"""Store contacts in SQLite through crmkit's SQLAlchemy adapter, query them, report on them.

    pip install "crmkit[sql]"
    python examples/sqlalchemy_walkthrough.py [sqlite:///crm.db]

The adapter is crmkit.adapters.sqlalchemy; docs/adapters.md explains how it
is built, for those who write an adapter for another database.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

from crmkit.adapters.sqlalchemy import Schema, SqlUnitOfWork, sqlite_engine
from crmkit.datasets import demo_customer_base
from crmkit.entities import Contact
from crmkit.report import customer_base_report
from crmkit.repository import F, Query


def main(url: str = "sqlite://") -> str:
    engine = sqlite_engine(url)
    schema = Schema()
    schema.create_all(engine)
    base = demo_customer_base(7, retail_customers=40, accounts=5)
    with SqlUnitOfWork(engine, schema) as uow:
        for record in base.all_records():
            uow.repository(type(record)).add(record)
        uow.commit()
    with SqlUnitOfWork(engine, schema) as uow:
        page = uow.repository(Contact).query(
            Query(Contact).where(F("address.country") == "GB").order_by("last_name").limit(5)
        )
        names = ", ".join(c.name for c in page.items)
        report = customer_base_report(uow, as_of=base.observation_end)
    return f"first British contacts: {names}\n{report}"


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))
    print(f"(run at {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)")
