"""Customer value: RFM summaries, CLV and the probabilistic customer-base models.

numpy and scipy load when this package is imported, not with ``import crmkit``.
"""

from crmkit.value._bgnbd import BetaGeo
from crmkit.value._clv import clv, discounted_cash_flows
from crmkit.value._contractual import BetaGeoBetaBinom, ShiftedBetaGeo
from crmkit.value._covariates import (
    BetaGeoCovariates,
    GammaGammaCovariates,
    ParetoNBDCovariates,
    design_matrix,
)
from crmkit.value._dynamic import ParetoNBDDynamic
from crmkit.value._fitting import FitSummary
from crmkit.value._frames import score
from crmkit.value._gamma import GammaGamma, customer_lifetime_value
from crmkit.value._holdout import HoldoutReport, TrackingReport, holdout_report, tracking_report
from crmkit.value._idic import (
    IdicResult,
    IdicSummary,
    IdicWeights,
    idic_from_entities,
    idic_scores,
)
from crmkit.value._intervals import PredictionInterval, prediction_interval
from crmkit.value._pareto import ParetoNBD
from crmkit.value._report import WEEKS_PER_MONTH, ValueReport, value_report
from crmkit.value._segments import (
    DEFAULT_RFM_RULES,
    Concentration,
    RfmScores,
    concentration,
    rfm_scores,
)
from crmkit.value._summary import (
    CompressedSummary,
    RfmSummary,
    compress,
    rfm_summary,
    rfm_summary_from_orders,
)

__all__ = [
    "DEFAULT_RFM_RULES",
    "WEEKS_PER_MONTH",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "BetaGeoCovariates",
    "CompressedSummary",
    "Concentration",
    "FitSummary",
    "GammaGamma",
    "GammaGammaCovariates",
    "HoldoutReport",
    "IdicResult",
    "IdicSummary",
    "IdicWeights",
    "ParetoNBD",
    "ParetoNBDCovariates",
    "ParetoNBDDynamic",
    "PredictionInterval",
    "RfmScores",
    "RfmSummary",
    "ShiftedBetaGeo",
    "TrackingReport",
    "ValueReport",
    "clv",
    "compress",
    "concentration",
    "customer_lifetime_value",
    "design_matrix",
    "discounted_cash_flows",
    "holdout_report",
    "idic_from_entities",
    "idic_scores",
    "prediction_interval",
    "rfm_scores",
    "rfm_summary",
    "rfm_summary_from_orders",
    "score",
    "tracking_report",
    "value_report",
]
