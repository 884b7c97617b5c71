"""The ``crmkit`` command line (``crmkit --help``); :func:`main` runs it from Python.

One module per command family: ``_demo``, ``_report``, ``_entities``
(validate), ``_satisfaction`` (nps, servqual, kano), ``_acsi``, ``_value``
(clv); ``_io`` reads their input files; ``_main`` builds the parser.
"""

from crmkit.cli._main import main

__all__ = ["main"]
