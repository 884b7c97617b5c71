from __future__ import annotations

import pickle

import pytest

import crmkit
from crmkit import errors


@pytest.mark.parametrize(
    ("exc", "builtin"),
    [
        (errors.ValidationError, ValueError),
        (errors.NotFound, KeyError),
        (errors.InsufficientData, ValueError),
    ],
)
def test_errors_subclass_the_matching_builtin(
    exc: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(exc, errors.CrmError)
    assert issubclass(exc, builtin)


def test_every_error_is_a_crm_error_and_exported() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, (errors.CrmError, errors.CrmWarning))
        assert getattr(crmkit, name) is cls


def test_warnings_are_user_warnings() -> None:
    assert issubclass(errors.BoundaryWarning, errors.CrmWarning)
    assert issubclass(errors.CrmWarning, UserWarning)
    assert not issubclass(errors.CrmWarning, errors.CrmError)


def test_validation_error_lists_every_problem() -> None:
    err = errors.ValidationError([("email", "bad"), ("lines[2].quantity", "must be > 0")])
    assert err.errors == [("email", "bad"), ("lines[2].quantity", "must be > 0")]
    text = str(err)
    assert "2 validation errors" in text
    assert "  email: bad" in text
    assert "  lines[2].quantity: must be > 0" in text


def test_validation_error_from_a_message() -> None:
    err = errors.ValidationError("must be positive", path="discount_rate")
    assert err.errors == [("discount_rate", "must be positive")]
    assert str(err) == "discount_rate: must be positive"


def test_validation_error_pickles() -> None:
    err = errors.ValidationError([("a", "b"), ("c", "d")])
    back = pickle.loads(pickle.dumps(err))
    assert back.errors == err.errors
    assert str(back) == str(err)


def test_prefixed_nests_paths() -> None:
    err = errors.ValidationError([("country", "x"), ("$", "y"), ("[1]", "z")]).prefixed("address")
    assert err.errors == [("address.country", "x"), ("address", "y"), ("address[1]", "z")]


def test_not_found_reads_as_a_sentence() -> None:
    assert str(errors.NotFound("no Contact with id 42")) == "no Contact with id 42"


def test_numeric_functions_refuse_text_the_same_way() -> None:
    """Every numeric door answers text alike (issue 16): value models used to read ["1", "2"]."""
    import numpy as np

    from crmkit.satisfaction import cronbach_alpha, importance_performance, nps
    from crmkit.value import BetaGeo

    with pytest.raises(errors.ValidationError, match="frequency"):
        BetaGeo().fit(["1", "2"], [1.0, 2.0], [3.0, 3.0])
    with pytest.raises(errors.ValidationError):
        nps(["9", "10"])
    with pytest.raises(errors.ValidationError, match="items"):
        cronbach_alpha(np.array([["1", "2"], ["3", "4"], ["5", "6"]]))
    with pytest.raises(errors.ValidationError):
        importance_performance(np.array([["a", "b"], ["c", "d"]]), importance=[[1.0, 2.0]] * 2)


def test_constructors_describe_hostile_values_briefly() -> None:
    """Issue 17: deep nesting gave RecursionError, 10**5000 a ValueError, [["x"]] as tags a
    TypeError: each is now a short ValidationError."""
    from crmkit.entities import Contact, Email

    deep: list = []  # type: ignore[type-arg]
    cur = deep
    for _ in range(100_000):
        nxt: list = []  # type: ignore[type-arg]
        cur.append(nxt)
        cur = nxt
    for make in (
        lambda: Contact(first_name=deep),
        lambda: Contact(first_name=10**5000),
        lambda: Contact(first_name="Ada", tags=[["x"]]),
        lambda: Contact(first_name="Ada", tags=[deep]),
        lambda: Email(deep),
        lambda: Contact(first_name="x" * 10_000_000, last_name=1),
    ):
        with pytest.raises(errors.ValidationError) as info:
            make()
        assert len(str(info.value)) < 400
