"""Satisfaction models on survey answers: NPS, CSAT/CES, SERVQUAL and the gaps model, Kano,
importance-performance, penalty-reward, disconfirmation and reliability.

Functions take array-likes (lists, numpy arrays, pandas or polars columns)
and return frozen result objects with ``to_dict()`` and a readable
``str()``. numpy and scipy load when this package is imported, not with
``import crmkit``.
"""

from crmkit.satisfaction._gaps import (
    GAPS,
    GapDriver,
    GapDrivers,
    GapModel,
    gap_model,
    unit_means,
)
from crmkit.satisfaction._ipa import (
    IpaResult,
    PenaltyReward,
    importance_performance,
    penalty_reward,
)
from crmkit.satisfaction._kano import KanoFeature, KanoResult, kano, kano_category
from crmkit.satisfaction._nps import NpsComparison, NpsGroups, NpsResult, nps, nps_by, nps_compare
from crmkit.satisfaction._scores import (
    Disconfirmation,
    RatingSummary,
    Reliability,
    ces,
    cronbach_alpha,
    csat,
    disconfirmation,
)
from crmkit.satisfaction._servqual import (
    STANDARD_SERVQUAL,
    ServqualInstrument,
    ServqualResult,
    servqual,
)

__all__ = [
    "GAPS",
    "STANDARD_SERVQUAL",
    "Disconfirmation",
    "GapDriver",
    "GapDrivers",
    "GapModel",
    "IpaResult",
    "KanoFeature",
    "KanoResult",
    "NpsComparison",
    "NpsGroups",
    "NpsResult",
    "PenaltyReward",
    "RatingSummary",
    "Reliability",
    "ServqualInstrument",
    "ServqualResult",
    "ces",
    "cronbach_alpha",
    "csat",
    "disconfirmation",
    "gap_model",
    "importance_performance",
    "kano",
    "kano_category",
    "nps",
    "nps_by",
    "nps_compare",
    "penalty_reward",
    "servqual",
    "unit_means",
]
