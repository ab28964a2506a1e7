"""Benchmark settings: the production settings, plus a URLconf with a bare view to compare against.

The bench runner sets the environment (a temporary database, a throwaway secret key, plain HTTP on
loopback, a temporary STATIC_ROOT) before Django reads this module.
"""

from __future__ import annotations

import os
from pathlib import Path

from pnetsite.settings import *  # noqa: F403
from pnetsite.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]
if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
