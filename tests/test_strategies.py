from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.entities import ENTITY_TYPES, Entity
from crmkit.errors import ValidationError
from crmkit.testing.strategies import entities


@pytest.mark.parametrize("cls", ENTITY_TYPES, ids=lambda c: c.__name__)
@given(data=st.data())
def test_strategies_build_valid_instances(cls: type[Entity], data: st.DataObject) -> None:
    x = data.draw(entities(cls))
    assert type(x) is cls
    assert x.evolve() == x  # every rule passes again


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="no strategy"):
        entities(int)  # type: ignore[type-var]
