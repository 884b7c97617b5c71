"""Data quality: standardise contact data and find duplicates (Fellegi-Sunter with EM).

Everything here reads :class:`Records` (named columns of text) and returns
new objects: nothing is rewritten in place. See docs/quality.md.
"""

from crmkit.quality._block import Block, Candidates, SortedNeighbourhood, candidate_pairs
from crmkit.quality._cluster import Clusters, LooseCluster
from crmkit.quality._compare import MISSING, Date, Exact, FieldComparison, Text
from crmkit.quality._evaluate import Evaluation, evaluate
from crmkit.quality._merge import (
    FieldChoice,
    MergePlan,
    Survivorship,
    apply_merge,
    plan_merge,
    unmerge,
)
from crmkit.quality._model import FellegiSunter, PairExplanation, ScoredPairs, Term
from crmkit.quality._profile import FieldProfile, Profile, profile
from crmkit.quality._records import Records, as_records
from crmkit.quality._report import DuplicateReport, contact_model, duplicate_report
from crmkit.quality._standardise import Change, Standardised, standardise, standardise_contacts

__all__ = [
    "MISSING",
    "Block",
    "Candidates",
    "Change",
    "Clusters",
    "Date",
    "DuplicateReport",
    "Evaluation",
    "Exact",
    "FellegiSunter",
    "FieldChoice",
    "FieldComparison",
    "FieldProfile",
    "LooseCluster",
    "MergePlan",
    "PairExplanation",
    "Profile",
    "Records",
    "ScoredPairs",
    "SortedNeighbourhood",
    "Standardised",
    "Survivorship",
    "Term",
    "Text",
    "apply_merge",
    "as_records",
    "candidate_pairs",
    "contact_model",
    "duplicate_report",
    "evaluate",
    "plan_merge",
    "profile",
    "standardise",
    "standardise_contacts",
    "unmerge",
]
