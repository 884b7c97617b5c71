"""PLS path modeling against plspm's published numbers on the ECSI data, and simulations."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from crmkit.errors import DefinitionError, InadmissibleSolution, ValidationError
from crmkit.satisfaction import cronbach_alpha
from crmkit.satisfaction.acsi import (
    acsi_model,
    ecsi_model,
    priorities,
    satisfaction_index,
    scsb_model,
)
from crmkit.satisfaction.pls import PathModel

DATA = Path(__file__).parent / "data" / "ecsi_satisfaction.csv"
ORDER = [
    ("image", "expectations"),
    ("expectations", "quality"),
    ("expectations", "value"),
    ("quality", "value"),
    ("image", "satisfaction"),
    ("expectations", "satisfaction"),
    ("quality", "satisfaction"),
    ("value", "satisfaction"),
    ("image", "loyalty"),
    ("satisfaction", "loyalty"),
]


@pytest.fixture(scope="module")
def ecsi() -> tuple[dict[str, np.ndarray], np.ndarray]:
    with DATA.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    data = {k: np.array([float(r[k]) for r in rows]) for k in rows[0] if k not in ("", "gender")}
    return data, np.array([r["gender"] for r in rows])


def model() -> PathModel:
    def items(prefix: str, n: int) -> list[str]:
        return [f"{prefix}{i}" for i in range(1, n + 1)]

    return ecsi_model(
        image=items("imag", 5),
        expectations=items("expe", 5),
        quality=items("qual", 5),
        value=items("val", 4),
        satisfaction=items("sat", 4),
        loyalty=items("loy", 4),
    )


def test_path_scheme_matches_plspm(ecsi) -> None:  # type: ignore[no-untyped-def]
    """plspm 0.5.7 (Python port of R plspm), path scheme, mode A, unscaled data."""
    data, _ = ecsi
    r = model().fit(data, scheme="path", scaled=False)
    expected = [0.5787, 0.8483, 0.1037, 0.6773, 0.2029, -0.0013, 0.1201, 0.5877, 0.2732, 0.4986]
    assert [round(r.paths[k], 4) for k in ORDER] == expected
    assert {k: round(v, 4) for k, v in r.r2.items()} == {
        "expectations": 0.3348,
        "quality": 0.7197,
        "value": 0.5886,
        "satisfaction": 0.7064,
        "loyalty": 0.5119,
    }


# plspm 0.5.7 (Python port of R plspm) on the ECSI data, unscaled, default tolerance 1e-6:
# written down from benchmarks/pls.py's environment (paths in ORDER; satisfaction's block).
PLSPM = {
    "path": (
        [0.57865233, 0.84833624, 0.10367497, 0.67727932, 0.20288614, -0.00125136, 0.12013699, 0.58769324, 0.27318783, 0.49861768],
        [0.16875618, 0.15770489, 0.12004769, 0.13588459],
        [0.92028951, 0.91354723, 0.82470965, 0.82088699],
        [0.33483852, 0.71967437, 0.58859088, 0.70640278, 0.51187507],
    ),
    "centroid": (
        [0.57895913, 0.84834441, 0.10547765, 0.67665553, 0.2007242, -0.00275399, 0.12214457, 0.58933065, 0.27514958, 0.49547932],
        [0.16636655, 0.1626598, 0.12109136, 0.13207908],
        [0.91979799, 0.91603024, 0.82587862, 0.81752534],
        [0.33519367, 0.71968824, 0.59008437, 0.70732095, 0.50992256],
    ),
    "factorial": (
        [0.5786453, 0.84833511, 0.10486495, 0.67700003, 0.20077165, -0.00275967, 0.1223605, 0.58916347, 0.27511397, 0.4956598],
        [0.16655023, 0.16260075, 0.1212024, 0.13182464],
        [0.91987957, 0.91605121, 0.82595501, 0.81732579],
        [0.33483039, 0.71967245, 0.58977838, 0.70736248, 0.51013016],
    ),
}  # fmt: skip


@pytest.mark.parametrize("scheme", ["path", "centroid", "factorial"])
def test_every_scheme_matches_plspm_to_1e6(ecsi, scheme: str) -> None:  # type: ignore[no-untyped-def]
    data, _ = ecsi
    r = model().fit(data, scheme=scheme, scaled=False)  # type: ignore[arg-type]
    paths, weights, loadings, r2 = PLSPM[scheme]
    np.testing.assert_allclose([r.paths[k] for k in ORDER], paths, atol=1e-6)
    np.testing.assert_allclose([r.weights[f"sat{i}"] for i in range(1, 5)], weights, atol=1e-6)
    np.testing.assert_allclose([r.loadings[f"sat{i}"] for i in range(1, 5)], loadings, atol=1e-6)
    endo = ["expectations", "quality", "value", "satisfaction", "loyalty"]
    np.testing.assert_allclose([r.r2[c] for c in endo], r2, atol=1e-6)


def test_centroid_scheme_matches_r_plspm_to_1e6(ecsi) -> None:  # type: ignore[no-untyped-def]
    """R plspm, centroid scheme, unscaled data (iterated to convergence)."""
    data, _ = ecsi
    r = model().fit(data, scheme="centroid", scaled=False, tol=1e-12)
    expected = [0.578959, 0.848344, 0.105478, 0.676656, 0.200724, -0.002754, 0.122145, 0.589331, 0.275150, 0.495479]  # fmt: skip
    np.testing.assert_allclose([r.paths[k] for k in ORDER], expected, atol=2e-6)


def test_structure_of_the_result(ecsi) -> None:  # type: ignore[no-untyped-def]
    data, _ = ecsi
    r = model().fit(data)
    # Scores are standardised; paths are least squares on them.
    assert np.allclose(r.scores.mean(axis=0), 0) and np.allclose(r.scores.std(axis=0), 1)
    sat = list(r.model.constructs).index("satisfaction")
    preds = [
        list(r.model.constructs).index(c) for c in ("image", "expectations", "quality", "value")
    ]
    coef = np.linalg.lstsq(r.scores[:, preds], r.scores[:, sat], rcond=None)[0]
    np.testing.assert_allclose(
        coef, [r.paths[(c, "satisfaction")] for c in ("image", "expectations", "quality", "value")]
    )
    # Loadings are the correlations of indicators with their construct; cross-loadings hold them too.
    assert r.loadings["sat1"] == pytest.approx(np.corrcoef(data["sat1"], r.scores[:, sat])[0, 1])
    assert r.cross_loadings["sat1"]["satisfaction"] == pytest.approx(r.loadings["sat1"])
    # Total effect of image on loyalty: direct plus every path through satisfaction.
    p = r.paths
    through_sat = p[("image", "satisfaction")] + p[("image", "expectations")] * (
        p[("expectations", "satisfaction")]
        + p[("expectations", "quality")]
        * (p[("quality", "satisfaction")] + p[("quality", "value")] * p[("value", "satisfaction")])
        + p[("expectations", "value")] * p[("value", "satisfaction")]
    )
    total = p[("image", "loyalty")] + through_sat * p[("satisfaction", "loyalty")]
    assert r.total_effects[("image", "loyalty")] == pytest.approx(total)
    assert r.indirect_effects[("image", "loyalty")] == pytest.approx(
        total - p[("image", "loyalty")]
    )
    # Reliability: both alphas, named; the standardized one equals crmkit's cronbach_alpha on correlations.
    items = np.column_stack([data[f"sat{i}"] for i in range(1, 5)])
    rel = r.reliability["satisfaction"]
    assert rel["alpha_standardized"] == pytest.approx(
        cronbach_alpha(items, standardized=True).alpha
    )
    assert rel["alpha_raw"] == pytest.approx(cronbach_alpha(items).alpha)
    lam = np.array([r.loadings[f"sat{i}"] for i in range(1, 5)])
    assert rel["ave"] == pytest.approx((lam**2).mean())
    assert rel["dg_rho"] == pytest.approx(lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum()))
    assert r.redundancy["satisfaction"] == pytest.approx(
        r.communality["satisfaction"] * r.r2["satisfaction"]
    )
    all_lam = np.array(list(r.loadings.values()))
    assert r.gof == pytest.approx(np.sqrt((all_lam**2).mean() * np.mean(list(r.r2.values()))))
    assert r.fornell_larcker["value"]["value"] == pytest.approx(
        np.sqrt(r.reliability["value"]["ave"])
    )
    # HTMT of value and satisfaction by hand.
    v = np.column_stack([data[f"val{i}"] for i in range(1, 5)])
    c = np.abs(np.corrcoef(np.column_stack([v, items]), rowvar=False))
    mono_v = c[:4, :4][np.triu_indices(4, 1)].mean()
    mono_s = c[4:, 4:][np.triu_indices(4, 1)].mean()
    assert r.htmt[("value", "satisfaction")] == pytest.approx(
        c[:4, 4:].mean() / np.sqrt(mono_v * mono_s)
    )
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc["r2"]["satisfaction"] == pytest.approx(r.r2["satisfaction"])
    assert "image -> expectations" in str(r)


def test_satisfaction_index_and_priorities(ecsi) -> None:  # type: ignore[no-untyped-def]
    data, gender = ecsi
    r = model().fit(data, scaled=False)
    ix = satisfaction_index(r, data, scale=(0, 10), groups=gender)
    assert ix.index == pytest.approx(68.6, abs=0.05)
    assert sum(ix.weights.values()) == pytest.approx(1.0)
    # By hand: the weighted mean answer, on 0-10, times 10.
    w = np.array(list(ix.weights.values()))
    items = np.column_stack([data[f"sat{i}"] for i in range(1, 5)])
    assert ix.index == pytest.approx((items @ w).mean() * 10)
    female = gender == "female"
    assert ix.groups["female"] == pytest.approx((items[female] @ w).mean() * 10)
    boot = satisfaction_index(r, data, scale=(0, 10), groups=gender, bootstrap=60, seed=1)
    assert boot.interval is not None and boot.interval[0] < boot.index < boot.interval[1]
    assert boot.group_intervals is not None and set(boot.group_intervals) == {"female", "male"}
    pr = priorities(r, data, scale=(0, 10))
    assert pr[0].construct == "value"
    assert all(0 <= p.index <= 100 for p in pr)
    with pytest.raises(ValidationError, match=r"sat1\[\d+\]: must be on the scale 1-10"):
        satisfaction_index(r, data, scale=(1, 10))


def test_bootstrap(ecsi) -> None:  # type: ignore[no-untyped-def]
    data, _ = ecsi
    r = model().fit(data, scaled=False)
    b = r.bootstrap(100, seed=7)
    row = b.table[("path", "value", "satisfaction")]
    assert row["estimate"] == pytest.approx(0.5877, abs=1e-4)
    assert 0.03 < row["standard_error"] < 0.2
    assert row["lower"] < row["estimate"] < row["upper"]
    assert row["t"] == pytest.approx(row["estimate"] / row["standard_error"])
    assert b.resamples + b.failed == 100
    assert "value -> satisfaction" in str(b)
    again = r.bootstrap(100, seed=7)
    assert again.table == b.table


def test_plsc_recovers_a_known_structural_model() -> None:
    """Simulated reflective data (loadings 0.7, 0.8, 0.9): PLS attenuates the paths, PLSc recovers them."""
    rng = np.random.default_rng(2015)
    n = 5000
    a = rng.normal(size=n)
    b = 0.5 * a + np.sqrt(0.75) * rng.normal(size=n)
    explained = 0.3 * a + 0.4 * b
    c = explained + np.sqrt(1 - (0.09 + 0.16 + 2 * 0.3 * 0.4 * 0.5)) * rng.normal(size=n)
    data = {}
    for name, lv in (("a", a), ("b", b), ("c", c)):
        for i, lam in enumerate((0.7, 0.8, 0.9)):
            data[f"{name}{i}"] = lam * lv + np.sqrt(1 - lam**2) * rng.normal(size=n)
    m = PathModel(
        {k.upper(): [f"{k}{i}" for i in range(3)] for k in "abc"},
        [("A", "B"), ("A", "C"), ("B", "C")],
    )
    plain = m.fit(data)
    consistent = m.fit(data, consistent=True)
    assert consistent.admissible
    truth = {("A", "B"): 0.5, ("A", "C"): 0.3, ("B", "C"): 0.4}
    for k, v in truth.items():
        assert abs(consistent.paths[k] - v) < 0.03
    assert plain.paths[("A", "B")] < 0.45  # attenuated
    for i, lam in enumerate((0.7, 0.8, 0.9)):
        assert consistent.loadings[f"a{i}"] == pytest.approx(lam, abs=0.03)
    true_rho = 2.4**2 / (2.4**2 + 0.51 + 0.36 + 0.19)
    assert consistent.reliability["A"]["rho_a"] == pytest.approx(true_rho, abs=0.02)


def test_single_item_construct_and_formative_block() -> None:
    """A one-question complaints construct works (plspm divides by zero there); mode B blocks fit."""
    rng = np.random.default_rng(3)
    n = 400
    q = rng.normal(size=n)
    sat = 0.7 * q + 0.7 * rng.normal(size=n)
    comp = -0.5 * sat + 0.8 * rng.normal(size=n)
    data = {
        "q1": q + 0.5 * rng.normal(size=n),
        "q2": q + 0.5 * rng.normal(size=n),
        "s1": sat + 0.4 * rng.normal(size=n),
        "s2": sat + 0.4 * rng.normal(size=n),
        "c1": comp,
    }
    m = PathModel(
        {"quality": ["q1", "q2"], "satisfaction": ["s1", "s2"], "complaints": ["c1"]},
        [("quality", "satisfaction"), ("satisfaction", "complaints")],
        modes={"quality": "B"},
    )
    r = m.fit(data)
    assert r.loadings["c1"] == pytest.approx(1.0)
    assert r.paths[("satisfaction", "complaints")] < -0.3
    assert r.reliability["complaints"]["alpha_standardized"] == 1.0


def test_ready_models() -> None:
    a = acsi_model(
        expectations=["e"],
        quality=["q"],
        value=["v"],
        satisfaction=["s"],
        complaints=["c"],
        loyalty=["l"],
    )
    assert ("complaints", "loyalty") in a.paths and len(a.paths) == 9
    s = scsb_model(
        expectations=["e"], performance=["p"], satisfaction=["s"], complaints=["c"], loyalty=["l"]
    )
    assert ("performance", "satisfaction") in s.paths
    assert "flowchart LR" in model().to_mermaid()
    with pytest.raises(ValidationError, match="loyalty"):
        acsi_model(
            expectations=["e"],
            quality=["q"],
            value=["v"],
            satisfaction=["s"],
            complaints=["c"],
            loyalty=[],
        )


def test_definition_errors() -> None:
    with pytest.raises(DefinitionError, match="empty block"):
        PathModel({"a": [], "b": ["x"]}, [("a", "b")])
    with pytest.raises(DefinitionError, match="in the blocks of 'a' and 'b'"):
        PathModel({"a": ["x"], "b": ["x"]}, [("a", "b")])
    with pytest.raises(DefinitionError, match="unknown construct 'c'"):
        PathModel({"a": ["x"], "b": ["y"]}, [("a", "c")])
    with pytest.raises(DefinitionError, match="cycle"):
        PathModel({"a": ["x"], "b": ["y"], "c": ["z"]}, [("a", "b"), ("b", "c"), ("c", "a")])
    with pytest.raises(DefinitionError, match="mode of 'a'"):
        PathModel({"a": ["x"], "b": ["y"]}, [("a", "b")], modes={"a": "C"})


def test_data_errors(ecsi) -> None:  # type: ignore[no-untyped-def]
    data, _ = ecsi
    with pytest.raises(ValidationError, match="no column for the indicators imag1"):
        model().fit({k: v for k, v in data.items() if k != "imag1"})
    broken = dict(data)
    broken["sat2"] = data["sat2"].copy()
    broken["sat2"][7] = np.nan
    with pytest.raises(ValidationError, match=r"sat2\[7\]"):
        model().fit(broken)
    constant = dict(data, loy3=np.ones(250))
    with pytest.raises(ValidationError, match="loy3: is constant"):
        model().fit(constant)
    with pytest.raises(ValidationError, match="scheme"):
        model().fit(data, scheme="magic")  # type: ignore[arg-type]


def _two_group_data(rng: np.random.Generator, n: int, path: float) -> dict[str, np.ndarray]:
    a = rng.normal(size=n)
    b = path * a + np.sqrt(1 - path**2) * rng.normal(size=n)
    out = {}
    for name, lv in (("a", a), ("b", b)):
        for i in range(3):
            out[f"{name}{i}"] = 0.85 * lv + np.sqrt(1 - 0.85**2) * rng.normal(size=n)
    return out


def test_permutation_test_finds_a_real_difference_only() -> None:
    from crmkit.satisfaction.pls import permutation_test

    rng = np.random.default_rng(10)
    m = PathModel({"A": ["a0", "a1", "a2"], "B": ["b0", "b1", "b2"]}, [("A", "B")])
    g1, g2 = _two_group_data(rng, 150, 0.2), _two_group_data(rng, 150, 0.7)
    data = {k: np.concatenate([g1[k], g2[k]]) for k in g1}
    groups = np.array(["low"] * 150 + ["high"] * 150)
    different = permutation_test(m, data, groups, permutations=200, seed=1)
    row = different.table[("A", "B")]
    assert row["p_value"] < 0.02 and row["difference"] > 0.3  # "high" sorts first
    h1, h2 = _two_group_data(rng, 150, 0.5), _two_group_data(rng, 150, 0.5)
    same = permutation_test(
        m, {k: np.concatenate([h1[k], h2[k]]) for k in h1}, groups, permutations=200, seed=1
    )
    assert same.table[("A", "B")]["p_value"] > 0.05
    assert "permutation test" in str(same)
    with pytest.raises(ValidationError, match="exactly two groups"):
        permutation_test(m, data, np.array(["x", "y", "z"] * 100), permutations=5)


def test_plspredict(ecsi) -> None:  # type: ignore[no-untyped-def]
    data, _ = ecsi
    r = model().fit(data, scaled=False)
    p = r.predict(folds=5, seed=3)
    assert set(p.indicators) == {k for k in data if not k.startswith("imag")}
    assert all(0 < q < 1 for q in p.q2_predict.values())
    # PLS predictions are competitive with the linear benchmark on this model.
    assert np.mean(list(p.rmse.values())) < 1.05 * np.mean(list(p.lm_rmse.values()))
    assert p.to_dict()["indicators"]["sat1"]["rmse"] == p.rmse["sat1"]
    assert r.predict(folds=5, seed=3).rmse == p.rmse
    with pytest.raises(ValidationError, match="folds"):
        r.predict(folds=1)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_demo_acsi_survey_is_read_back(seed: int) -> None:
    """PLSc on the simulated ACSI survey lands near the paths it was drawn from (complaints is 0/1, so attenuated)."""
    from crmkit.datasets import ACSI_ITEMS, TRUE_ACSI_PATHS, demo_acsi_survey

    survey = demo_acsi_survey(seed, respondents=3000)
    result = acsi_model(**{k: list(v) for k, v in ACSI_ITEMS.items()}).fit(survey, consistent=True)
    for key, true in TRUE_ACSI_PATHS.items():
        if "complaints" in key:
            assert np.sign(result.paths[key]) == np.sign(true)
            continue
        assert abs(result.paths[key] - true) < 0.1, key
    ix = satisfaction_index(result, survey, groups=survey["segment"])
    assert ix.groups["online"] > ix.groups["store"]


def test_data_shapes_and_missing_answers(ecsi) -> None:  # type: ignore[no-untyped-def]
    data, _ = ecsi
    names = list(data)
    matrix = np.column_stack([data[k] for k in names])
    ref = model().fit(data, scaled=False)
    pair = model().fit((matrix, names), scaled=False)
    assert pair.paths == ref.paths
    structured = np.rec.fromarrays([data[k] for k in names], names=names)
    assert model().fit(structured, scaled=False).paths == ref.paths
    holes = {k: v.copy() for k, v in data.items()}
    holes["sat1"][[3, 9]] = np.nan
    with pytest.raises(ValidationError, match=r"sat1\[3\]"):
        model().fit(holes)
    omitted = model().fit(holes, nan_policy="omit")
    assert omitted.n == 248
    keep = np.ones(250, dtype=bool)
    keep[[3, 9]] = False
    assert omitted.paths == model().fit({k: v[keep] for k, v in data.items()}).paths


def test_non_convergence_and_progress(ecsi, capsys) -> None:  # type: ignore[no-untyped-def]
    from crmkit.errors import ConvergenceError

    data, _ = ecsi
    with pytest.raises(ConvergenceError, match="did not converge in 1 iterations"):
        model().fit(data, max_iter=1, tol=1e-15)
    seen: list[tuple[int, int]] = []
    model().fit(data).bootstrap(20, seed=1, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 20) for i in range(1, 21)]
    model().fit(data).bootstrap(3, seed=1, progress=True)  # a tqdm bar if installed, else nothing
    assert capsys.readouterr().out == ""  # library code never prints to stdout
    with pytest.raises(ValidationError, match="progress"):
        model().fit(data).bootstrap(3, seed=1, progress="yes")  # type: ignore[arg-type]


def test_one_bootstrap_for_paths_and_the_index(ecsi, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """PlsResult.bootstrap and satisfaction_index resample through one implementation, and when
    no resample can be fitted both say so with InsufficientData (issue 16)."""
    from crmkit.errors import ConvergenceError, InsufficientData
    from crmkit.satisfaction import pls
    from crmkit.satisfaction.acsi import satisfaction_index

    data, _ = ecsi
    result = model().fit(data)
    seen = [rows for rows, fit in pls.resample(result, 5, seed=3) if fit is not None]
    again = [rows for rows, _ in pls.resample(result, 5, seed=3)]
    assert len(seen) == 5 and all(np.array_equal(a, b) for a, b in zip(seen, again, strict=True))
    assert pls.bootstrap(result, 20, seed=1).table == result.bootstrap(20, seed=1).table

    def never(*args: object, **kwargs: object) -> None:
        raise ConvergenceError("no")

    monkeypatch.setattr(pls._bootstrap, "estimate", never)
    with pytest.raises(InsufficientData, match="fewer than two of 4"):
        result.bootstrap(4, seed=1)
    with pytest.raises(InsufficientData, match="fewer than two of 4"):
        satisfaction_index(result, data, scale=(0, 10), bootstrap=4, seed=1)
    with pytest.raises(ValidationError, match="bootstrap"):
        satisfaction_index(result, data, scale=(0, 10), bootstrap=-5)


def test_collinear_formative_indicators_and_bad_tolerances_are_refused(ecsi) -> None:  # type: ignore[no-untyped-def]
    """Issue 17: numpy's LinAlgError and a ConvergenceError for tol=NaN used to escape."""
    data, _ = ecsi
    model_b = PathModel(
        blocks={"image": ["imag1", "imag2", "imag3"], "satisfaction": ["sat1", "sat2"]},
        paths=[("image", "satisfaction")],
        modes={"image": "B"},
    )
    twin = {**data, "imag3": np.asarray(data["imag1"]) * 2 + np.asarray(data["imag2"])}
    with pytest.raises(ValidationError, match=r"blocks.image.*imag1, imag2, imag3 are collinear"):
        model_b.fit(twin)
    model_b.fit(data)  # independent indicators fit
    for tol in (float("nan"), -1.0, 0.0, "1e-6"):
        with pytest.raises(ValidationError, match="tol"):
            model_b.fit(data, tol=tol)  # type: ignore[arg-type]


def _common_factor(seed: int = 2, n: int = 150) -> dict[str, np.ndarray]:
    """Nine indicators of one common factor: three constructs that are one in truth."""
    rng = np.random.default_rng(seed)
    g = rng.normal(size=n)
    return {f"{c}{i}": g + rng.normal(size=n) for c in "abc" for i in range(3)}


def test_plsc_flags_an_inadmissible_solution_and_warns() -> None:
    from crmkit.errors import InadmissibleSolution

    m = PathModel(
        {"A": ["a0", "a1", "a2"], "B": ["b0", "b1", "b2"], "C": ["c0", "c1", "c2"]},
        [("A", "C"), ("B", "C")],
    )
    data = _common_factor()
    with pytest.warns(InadmissibleSolution, match="correlation of A and B is \\+1.03"):
        result = m.fit(data, consistent=True)
    assert not result.admissible
    # Independently: the corrected correlation and the path really are beyond 1.
    assert result.construct_correlations[0, 1] > 1
    assert abs(result.paths[("A", "C")]) > 1
    assert "path A -> C is +1.52" in " ".join(result.problems)
    assert "not positive definite" in " ".join(result.problems)
    assert str(result).startswith("INADMISSIBLE solution: ")
    assert result.to_dict()["admissible"] is False
    # Plain PLS on the same data is admissible, and says nothing.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", InadmissibleSolution)
        plain = m.fit(data)
    assert plain.admissible and plain.problems == ()


def test_plsc_on_the_published_data_flags_its_paths(ecsi) -> None:  # type: ignore[no-untyped-def]
    """Expectations and quality correlate 0.98 once corrected: the value equation blows up."""
    data, _ = ecsi
    assert model().fit(data).problems == ()  # plain PLS: admissible
    with pytest.warns(InadmissibleSolution, match=r"path quality -> value is \+2\.58"):
        consistent = model().fit(data, consistent=True)
    assert consistent.problems == (
        "path expectations -> value is -1.7377",
        "path quality -> value is +2.5851",
        "path value -> satisfaction is +1.2865",
    )


def test_priorities_refuse_an_inadmissible_solution() -> None:
    import warnings

    from crmkit.errors import InadmissibleSolution

    rng = np.random.default_rng(2)
    g = rng.normal(size=150)
    prefixes = {"imag": 1, "expe": 1, "qual": 1, "val": 1, "sat": 1, "comp": 1, "loy": 1}
    data = {
        f"{p}{i}": np.clip(np.round(5.5 + 1.5 * (g + 0.3 * rng.normal(size=150))), 1, 10)
        for p in prefixes
        for i in range(1, 4)
    }
    blocks = {
        name: [f"{p}{i}" for i in range(1, 4)]
        for name, p in [
            ("expectations", "expe"),
            ("quality", "qual"),
            ("value", "val"),
            ("satisfaction", "sat"),
            ("complaints", "comp"),
            ("loyalty", "loy"),
        ]
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InadmissibleSolution)
        result = acsi_model(**blocks).fit(data, consistent=True)
    assert not result.admissible
    with pytest.raises(ValidationError, match=r"^result: INADMISSIBLE solution: .* would mislead"):
        priorities(result, data)
