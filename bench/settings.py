"""The portal's settings as they are, with STATIC_ROOT movable: `bench/plan.py` renders HTML pages with DEBUG
off, which needs collected static files (the manifest storage), and collects them into a temporary directory
named by BENCH_STATIC_ROOT rather than into the project's `staticfiles/`."""

import os
from pathlib import Path

from nmo_portal.settings import *  # noqa: F403

if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])

ROOT_URLCONF = "bench.urls"  # the portal's URLs and /__bench/django-plan/
