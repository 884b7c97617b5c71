"""Hypothesis profiles: "fast" for local runs, "ci" (more examples, derandomized) when CI is set.

Choose one with ``CRMKIT_HYPOTHESIS_PROFILE=fast|ci|thorough``.
"""

from __future__ import annotations

import os
import sys

from hypothesis import HealthCheck, settings

# Byte-code caches as in any Python environment: one with PYTHONDONTWRITEBYTECODE would compile
# crmkit again in every one of the few hundred subprocesses the CLI tests start (the caches land
# in the __pycache__ folders git ignores).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

settings.register_profile(
    "fast", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(
    os.environ.get("CRMKIT_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "fast")
)
