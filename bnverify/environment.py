"""Versions and machine facts recorded in every report (reproducibility)."""

from __future__ import annotations

import os
import platform
import sys
from functools import lru_cache
from importlib import metadata


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def environment() -> dict:
    from . import __version__

    pkgs = ("numpy", "sympy", "mpmath", "hypothesis", "numba", "gmpy2", "matplotlib", "torch")
    return {
        "bnverify": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "packages": {p: _version(p) for p in pkgs},
    }
