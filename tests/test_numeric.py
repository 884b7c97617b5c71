"""Sums over customers without BLAS: the helpers, and the rule that the value models use them."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from crmkit._numeric import dot, matvec, vecmat

VALUE = Path(__file__).resolve().parents[1] / "src" / "crmkit" / "value"
_FLOATS = st.floats(-1e6, 1e6, allow_nan=False)


@given(arrays(np.float64, st.integers(0, 50), elements=_FLOATS))
def test_dot_equals_numpy(a: np.ndarray) -> None:
    b = a[::-1].copy()
    assert dot(a, b) == pytest.approx(float(a @ b), rel=1e-12, abs=1e-6)


@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(0, 30)), elements=_FLOATS))
def test_matvec_and_vecmat_equal_numpy(m: np.ndarray) -> None:
    v = np.linspace(-1, 1, m.shape[1])
    np.testing.assert_allclose(matvec(m, v), m @ v, rtol=1e-12, atol=1e-6)
    w = np.linspace(-1, 1, m.shape[0])
    np.testing.assert_allclose(vecmat(w, m), w @ m, rtol=1e-12, atol=1e-6)


def _blas_calls(path: Path) -> list[str]:
    """``a @ b``, ``np.dot``, ``np.inner``, ``np.vdot``, ``np.matmul`` and ``.dot`` calls in a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.MatMult):
            found.append(f"{path.name}:{node.lineno} @")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"dot", "inner", "vdot", "matmul", "tensordot"}
            and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "linalg")
        ):
            found.append(f"{path.name}:{node.lineno} .{node.func.attr}()")
    return found


def test_value_models_sum_over_customers_without_blas() -> None:
    """A BLAS product over customers wakes OpenBLAS's threads for microseconds of work (issue 15).

    The value models' per-customer sums go through crmkit._numeric instead; a
    new ``@`` over customers would bring back a fit 10x slower with the
    default thread settings than with one thread, which no test can time.
    """
    offenders = [hit for path in sorted(VALUE.glob("*.py")) for hit in _blas_calls(path)]
    assert offenders == [], offenders


def test_the_rule_sees_what_it_forbids(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\nx = a @ b\ny = np.dot(a, b)\nz = a.dot(b)\n")
    assert len(_blas_calls(bad)) == 3
