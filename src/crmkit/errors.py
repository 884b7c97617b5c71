"""The one exception hierarchy of crmkit.

Every error crmkit raises on purpose is a :class:`CrmError`. Each also
subclasses the built-in exception a caller would otherwise catch, so code
written against plain Python keeps working::

    CrmError
    ├── ValidationError(CrmError, ValueError)     bad input: .errors = [(path, message), ...]
    ├── DefinitionError(CrmError)                 a badly defined machine, instrument or path model
    ├── InvalidTransition(CrmError)               event not allowed in the current state / guard refused
    ├── NotFound(CrmError, KeyError)              no entity with that id
    ├── DuplicateError(CrmError)                  an entity with that id exists already
    ├── ConcurrencyError(CrmError)                stale version on save/remove
    ├── InsufficientData(CrmError, ValueError)    too few observations for the statistic asked
    ├── ConvergenceError(CrmError)                a model fit that did not converge
    ├── NotFittedError(CrmError, ValueError, AttributeError)  a fitted attribute read before fit()
    └── MissingDependency(CrmError, ImportError)  an optional extra (e.g. ``plot``) is not installed

    CrmWarning(UserWarning)
    ├── BoundaryWarning(CrmWarning)               a fit whose maximum lies on the boundary: the limit model
    └── InadmissibleSolution(CrmWarning)          a PLS fit with a correlation, loading, path or R2 beyond 1

Messages name what was wrong, where, and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crmkit._paths import join_path
from crmkit._text import cap

__all__ = [
    "BoundaryWarning",
    "ConcurrencyError",
    "ConvergenceError",
    "CrmError",
    "CrmWarning",
    "DefinitionError",
    "DuplicateError",
    "InadmissibleSolution",
    "InsufficientData",
    "InvalidTransition",
    "MissingDependency",
    "NotFittedError",
    "NotFound",
    "ValidationError",
]


class CrmError(Exception):
    """Base class of every error crmkit raises on purpose.

    Messages are short by construction: every line is cut at 300 characters,
    so an application that logs ``str(exc)`` never logs a 10 MB value.
    """

    def __init__(self, *args: object, **kwargs: Any) -> None:
        super().__init__(*(cap(a) if isinstance(a, str) else a for a in args), **kwargs)


class ValidationError(CrmError, ValueError):
    """Input that breaks a rule: a field, an argument or a whole record.

    ``errors`` lists every problem found as ``(path, message)`` pairs, where
    ``path`` locates the value (``"email"``, ``"lines[2].quantity"``; ``"$"``
    is the value as a whole) and ``message`` says what was expected.
    ``str()`` lists them all, one per line.

    >>> err = ValidationError([("lines[2].quantity", "must be > 0 (got 0)")])
    >>> print(err)
    lines[2].quantity: must be > 0 (got 0)
    >>> err.errors
    [('lines[2].quantity', 'must be > 0 (got 0)')]
    """

    errors: list[tuple[str, str]]

    def __init__(self, errors: Iterable[tuple[str, str]] | str, path: str = "$") -> None:
        if isinstance(errors, str):
            pairs = [(cap(path, 100), cap(errors))]
        else:
            pairs = [(cap(str(p), 100), cap(str(m))) for p, m in errors]
        if not pairs:
            pairs = [(path, "invalid value")]
        self.errors = pairs
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.errors) == 1:
            return f"{self.errors[0][0]}: {self.errors[0][1]}"
        lines = [f"{len(self.errors)} validation errors:"]
        lines.extend(f"  {p}: {m}" for p, m in self.errors)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._render()

    def __reduce__(self) -> tuple[type[ValidationError], tuple[list[tuple[str, str]]]]:
        return (type(self), (self.errors,))

    def prefixed(self, prefix: str) -> ValidationError:
        """Return a copy whose paths are nested under ``prefix``.

        >>> ValidationError([("country", "unknown")]).prefixed("address").errors
        [('address.country', 'unknown')]
        """
        return type(self)([(join_path(prefix, p), m) for p, m in self.errors])


class DefinitionError(CrmError):
    """A machine, survey instrument or path model that is defined wrongly."""


class InvalidTransition(CrmError):
    """An event that is not allowed in the entity's current state, or a guard refused it."""


class NotFound(CrmError, KeyError):
    """No entity with the requested id exists."""

    def __str__(self) -> str:
        # KeyError.__str__ quotes its argument; a sentence reads better.
        return str(self.args[0]) if self.args else "not found"


class DuplicateError(CrmError):
    """An entity with the same id exists already."""


class ConcurrencyError(CrmError):
    """A save or remove carried a stale version: someone else changed the entity first."""


class InsufficientData(CrmError, ValueError):
    """Too few observations for the statistic asked for."""


class ConvergenceError(CrmError):
    """A model fit that did not converge; the optimiser's message is included."""


class NotFittedError(CrmError, ValueError, AttributeError):
    """A fitted attribute (``params_``, ``summary()`` ...) read before the model was fitted.

    It is an ``AttributeError`` too, so ``hasattr(model, "params_")`` is
    False before ``fit`` instead of raising.
    """


class MissingDependency(CrmError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class CrmWarning(UserWarning):
    """Base class of every warning crmkit issues."""


class BoundaryWarning(CrmWarning):
    """A model's likelihood is highest on the boundary of its parameter space.

    The fit returns the limit model (for example "the dropout probability is
    the same for every customer"), described by the fitted model's
    ``limit_`` attribute, with standard errors for the parameters it still
    has. Filter it like any warning once you have read it::

        warnings.simplefilter("ignore", crmkit.errors.BoundaryWarning)
    """


class InadmissibleSolution(CrmWarning):
    """A PLS fit whose estimates cannot be true of standardised constructs.

    Consistent PLS divides construct correlations by reliabilities, so with a
    strong common factor (or too few respondents) a corrected correlation,
    a loading, a path or an R2 can go beyond 1. The result says which in
    ``PlsResult.problems``; ACSI priorities refuse such a result.
    """
