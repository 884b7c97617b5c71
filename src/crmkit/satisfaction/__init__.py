"""Satisfaction models on survey answers: NPS so far (CSAT, SERVQUAL, Kano ... to come).

Functions take array-likes (lists, numpy arrays, pandas or polars columns)
and return frozen result objects with ``to_dict()`` and a readable
``str()``. numpy and scipy load when this package is imported, not with
``import crmkit``.
"""

from crmkit.satisfaction._nps import NpsComparison, NpsGroups, NpsResult, nps, nps_by, nps_compare

__all__ = ["NpsComparison", "NpsGroups", "NpsResult", "nps", "nps_by", "nps_compare"]
