"""Helpers for the tests of applications and adapters built on crmkit.

:mod:`crmkit.testing.strategies` holds hypothesis strategies that build
valid instances of every entity. It needs hypothesis: ``pip install "crmkit[test]"``.
"""

__all__: list[str] = []
