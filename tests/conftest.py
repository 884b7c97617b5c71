"""Hypothesis profiles: "fast" for local runs, "ci" (more examples, derandomized) when CI is set.

Choose one with ``CRMKIT_HYPOTHESIS_PROFILE=fast|ci|thorough``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

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
