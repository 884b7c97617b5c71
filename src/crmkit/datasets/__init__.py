"""Built-in data: a deterministic demo customer base and satisfaction surveys generated from a seed.

>>> from crmkit.datasets import demo_customer_base
>>> base = demo_customer_base(seed=7, retail_customers=20, accounts=3)
>>> len(base.accounts), len(base.contacts) >= 20
(3, True)
"""

from crmkit.datasets._cdnow import load_cdnow, load_cdnow_summary, load_donations
from crmkit.datasets._demo import CustomerBase, demo_customer_base
from crmkit.datasets._people import SyntheticPeople, synthetic_people
from crmkit.datasets._surveys import (
    ACSI_ITEMS,
    TRUE_ACSI_PATHS,
    KanoStudy,
    ServqualStudy,
    demo_acsi_survey,
    demo_kano_survey,
    demo_servqual_survey,
)

__all__ = [
    "ACSI_ITEMS",
    "TRUE_ACSI_PATHS",
    "CustomerBase",
    "KanoStudy",
    "ServqualStudy",
    "SyntheticPeople",
    "demo_acsi_survey",
    "demo_customer_base",
    "demo_kano_survey",
    "demo_servqual_survey",
    "load_cdnow",
    "load_cdnow_summary",
    "load_donations",
    "synthetic_people",
]
