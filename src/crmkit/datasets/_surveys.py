"""Simulated satisfaction surveys for the demo and the docs: a SERVQUAL study over branches and a Kano study.

The data are drawn from a seed with known truths, so what the models find can
be checked against what was put in: in the SERVQUAL study the branches'
customer gaps are driven by their delivery gap (gap 3) and communications gap
(gap 4), not by gaps 1 and 2; the Kano features have known categories.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = [
    "ACSI_ITEMS",
    "TRUE_ACSI_PATHS",
    "KanoStudy",
    "ServqualStudy",
    "demo_acsi_survey",
    "demo_kano_survey",
    "demo_servqual_survey",
]

#: The true coefficients of gap 5 on gaps 1-4 in :func:`demo_servqual_survey`.
TRUE_GAP_EFFECTS = (0.0, 0.0, 0.8, 0.4)
_DIMENSION_SHIFT = (0.3, -0.6, -0.2, 0.1, 0.0)  # reliability falls shortest, as it usually does
_ITEMS = (4, 5, 4, 4, 5)


@attrs.frozen(eq=False)
class ServqualStudy:
    """A SERVQUAL survey of customers over service branches, with the branches' provider gaps.

    ``expectations`` and ``perceptions`` are respondents x 22 answers on 1-7,
    ``importance`` respondents x 5 points adding up to 100, ``branch`` each
    respondent's branch; ``gaps`` holds gap1 .. gap4 per branch (as measured
    in surveys of management and staff), ``branches`` their names.
    """

    expectations: Any
    perceptions: Any
    importance: Any
    branch: Any
    branches: tuple[str, ...]
    gaps: dict[str, Any]


def demo_servqual_survey(
    seed: int = 1988, *, branches: int = 24, respondents_per_branch: int = 60
) -> ServqualStudy:
    """Customers of ``branches`` branches answer the 22-item SERVQUAL; gap 5 depends on gaps 3 and 4."""
    import numpy as np

    from crmkit._args import whole

    branches = whole(branches, "branches", 3, 10_000)
    respondents_per_branch = whole(respondents_per_branch, "respondents_per_branch", 1, 100_000)

    from crmkit._validation import as_rng

    rng = as_rng(seed)
    provider = rng.normal([-0.2, -0.3, -0.5, -0.3], [0.3, 0.3, 0.35, 0.35], size=(branches, 4))
    gap5 = provider @ np.array(TRUE_GAP_EFFECTS) + rng.normal(0, 0.1, size=branches)
    n = branches * respondents_per_branch
    branch = np.repeat(np.arange(branches), respondents_per_branch)
    shift = np.repeat(np.array(_DIMENSION_SHIFT), _ITEMS)
    person = rng.normal(5.6, 0.6, size=(n, 1))
    e = np.clip(np.rint(person + rng.normal(0, 0.6, size=(n, 22))), 1, 7)
    p_latent = person + gap5[branch, None] + shift + rng.normal(0, 0.3, size=(n, 1))
    p = np.clip(np.rint(p_latent + rng.normal(0, 0.6, size=(n, 22))), 1, 7)
    raw = rng.dirichlet([2.0, 6.0, 3.0, 3.0, 3.0], size=n) * 100
    importance = np.round(raw, 1)
    top = importance.argmax(axis=1)  # points add up to 100 exactly after rounding
    importance[np.arange(n), top] += 100 - importance.sum(axis=1)
    names = tuple(f"branch {i + 1:02d}" for i in range(branches))
    gaps = {f"gap{j + 1}": provider[:, j] for j in range(4)}
    return ServqualStudy(e, p, importance, branch, names, gaps)


@attrs.frozen(eq=False)
class KanoStudy:
    """Functional and dysfunctional answers (respondents x features, coded 1-5) with the true categories."""

    functional: Any
    dysfunctional: Any
    features: tuple[str, ...]
    truth: tuple[str, ...]


# (feature, true category)
_KANO = (
    ("secure login", "M"),
    ("fast delivery", "O"),
    ("personal advisor", "A"),
    ("gift wrapping", "I"),
    ("monthly newsletter", "I"),
)
# The (functional, dysfunctional) answers of someone who sees a feature as A, O, M or I.
_ANSWERS = {"A": (1, 3), "O": (1, 5), "M": (2, 5), "I": (3, 3)}


def demo_kano_survey(seed: int = 1984, *, respondents: int = 150) -> KanoStudy:
    """Respondents answer Kano's question pairs on five features; most see each feature its true way."""
    import numpy as np

    from crmkit._args import whole

    respondents = whole(respondents, "respondents", 1, 10_000_000)

    from crmkit._validation import as_rng

    rng = as_rng(seed)
    k = len(_KANO)
    letters = np.array(list(_ANSWERS))
    pairs = np.array([_ANSWERS[c] for c in letters])
    truth_idx = np.array([list(letters).index(t) for _, t in _KANO])
    # 65% see the feature its true way, the rest one of the four categories at random.
    seen = np.where(
        rng.random((respondents, k)) < 0.65,
        truth_idx,
        rng.integers(0, len(letters), size=(respondents, k)),
    )
    functional = pairs[seen, 0]
    dysfunctional = pairs[seen, 1]
    # A little noise: some answers shift by one step on the scale.
    noise = rng.random((respondents, k)) < 0.08
    dysfunctional = np.where(noise, np.clip(dysfunctional - 1, 1, 5), dysfunctional)
    return KanoStudy(
        functional,
        dysfunctional,
        tuple(f for f, _ in _KANO),
        tuple(t for _, t in _KANO),
    )


#: The structural paths of :func:`demo_acsi_survey` (standardised constructs).
TRUE_ACSI_PATHS: dict[tuple[str, str], float] = {
    ("expectations", "quality"): 0.55,
    ("expectations", "value"): 0.15,
    ("quality", "value"): 0.55,
    ("expectations", "satisfaction"): 0.05,
    ("quality", "satisfaction"): 0.45,
    ("value", "satisfaction"): 0.35,
    ("satisfaction", "complaints"): -0.35,
    ("satisfaction", "loyalty"): 0.6,
    ("complaints", "loyalty"): -0.15,
}
#: The indicators of :func:`demo_acsi_survey`, by construct (the ACSI questionnaire's shape).
ACSI_ITEMS: dict[str, tuple[str, ...]] = {
    "expectations": ("exp_overall", "exp_customization", "exp_reliability"),
    "quality": ("qual_overall", "qual_customization", "qual_reliability"),
    "value": ("value_price_given_quality", "value_quality_given_price"),
    "satisfaction": ("sat_overall", "sat_expectations", "sat_ideal"),
    "complaints": ("complained",),
    "loyalty": ("loy_repurchase", "loy_price_tolerance"),
}


def demo_acsi_survey(seed: int = 1996, *, respondents: int = 600) -> dict[str, Any]:
    """An ACSI-shaped survey drawn from the structural model ``TRUE_ACSI_PATHS``.

    Answers are on 1-10 (``complained`` is 0/1), each item loading about 0.85
    on its construct; a ``segment`` column ("online" or "store") shifts
    satisfaction by about half a point. Returns a dict of columns.
    """
    from crmkit._args import whole

    respondents = whole(respondents, "respondents", 2, 10_000_000)
    import numpy as np

    from crmkit._validation import as_rng

    rng = as_rng(seed)
    n = respondents
    lv: dict[str, Any] = {}

    def endogenous(name: str) -> Any:
        inputs = {a: b for (a, b), _ in TRUE_ACSI_PATHS.items() if b == name}
        coef = {a: c for (a, b), c in TRUE_ACSI_PATHS.items() if b == name}
        mean = sum(coef[a] * lv[a] for a in inputs)
        explained = float(np.var(mean))
        return mean + np.sqrt(max(1 - explained, 0.05)) * rng.normal(size=n)

    segment = np.where(rng.random(n) < 0.5, "online", "store")
    lv["expectations"] = rng.normal(size=n)
    for name in ("quality", "value", "satisfaction", "complaints", "loyalty"):
        lv[name] = endogenous(name)
        if name == "satisfaction":
            lv[name] = lv[name] + np.where(segment == "online", 0.25, -0.25)
    out: dict[str, Any] = {"segment": segment}
    for construct, items in ACSI_ITEMS.items():
        for item in items:
            if item == "complained":
                out[item] = (lv[construct] + 0.5 * rng.normal(size=n) > 1.0).astype(float)
                continue
            latent = 0.85 * lv[construct] + np.sqrt(1 - 0.85**2) * rng.normal(size=n)
            out[item] = np.clip(np.rint(7.4 + 1.6 * latent), 1, 10)
    return out
