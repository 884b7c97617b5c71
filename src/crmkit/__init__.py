"""crmkit: an embeddable CRM domain library.

crmkit owns the *model* of customer relationships (entities, lifecycles,
satisfaction and value models) and none of the storage. Importing it is
cheap: numeric modules load numpy and scipy only when they are used.

>>> import crmkit
>>> crmkit.__version__ == crmkit._version.__version__
True
"""

from crmkit import errors
from crmkit._version import __version__
from crmkit.errors import (
    BoundaryWarning,
    ConcurrencyError,
    ConvergenceError,
    CrmError,
    CrmWarning,
    DefinitionError,
    DuplicateError,
    InadmissibleSolution,
    InsufficientData,
    InvalidTransition,
    MissingDependency,
    NotFittedError,
    NotFound,
    ValidationError,
)

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
    "__version__",
    "errors",
]
