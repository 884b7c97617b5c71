"""Partial least squares path modeling (PLS-PM; Wold 1982, Lohmoller 1989), with consistent PLS.

A :class:`PathModel` is data: blocks of indicators per construct, the paths
between constructs and each block's mode (``"A"`` reflective, ``"B"``
formative). :meth:`PathModel.fit` runs Lohmoller's iterative algorithm the
way the R package plspm does (Sanchez 2013), so the numbers agree with it:

1. indicators are centred (and scaled to unit variance with ``scaled=True``);
   every block starts with unit outer weights, normalised so each latent
   score has unit (population) variance;
2. inner estimates ``Z = Y E`` with inner weights ``E`` by the *centroid*
   (signs of the correlations between adjacent constructs), *factorial*
   (the correlations) or *path* scheme (regression on the predecessors,
   correlation with the successors);
3. outer weights: mode A ``w = X' z / n`` (covariances), mode B the
   regression of ``z`` on the block's indicators; normalised again;
4. repeat until ``sum((|w_old| - |w_new|)^2) < tol``.

Path coefficients are least squares on the standardised latent scores.
``consistent=True`` applies PLSc (Dijkstra & Henseler 2015): each reflective
block's reliability rho_A corrects the construct correlations for
attenuation before the paths are estimated.

Parts: :class:`PathModel` (``_model``), the algorithm (``_algorithm``),
quality measures (``_quality``), :class:`PlsResult` (``_result``),
:func:`bootstrap` and :func:`resample` (``_bootstrap``), :func:`predict`
(``_predict``) and :func:`permutation_test` (``_permutation``).
"""

from crmkit.satisfaction.pls._bootstrap import bootstrap, resample
from crmkit.satisfaction.pls._data import indicator_matrix
from crmkit.satisfaction.pls._model import PathModel, Scheme
from crmkit.satisfaction.pls._permutation import PermutationTest, permutation_test
from crmkit.satisfaction.pls._predict import PredictResult, predict
from crmkit.satisfaction.pls._result import BootstrapResult, PlsResult

__all__ = [
    "BootstrapResult",
    "PathModel",
    "PermutationTest",
    "PlsResult",
    "PredictResult",
    "Scheme",
    "bootstrap",
    "indicator_matrix",
    "permutation_test",
    "predict",
    "resample",
]
