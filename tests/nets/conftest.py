"""Network back-end tests: CPU only, small.  OpenMP passive waiting must be chosen before torch
loads (a spinning OpenMP pool is many times slower on a busy 2-core machine)."""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
