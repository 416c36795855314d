"""Shared helpers of the figure reproductions: seeded draws, means, provenance, files.

Every random draw goes through a seeded :class:`numpy.random.Generator`; every JSON summary
records the seed, the settings and the versions (:func:`provenance`).
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..claims import to_jsonable

#: float64 unit roundoff (half the machine epsilon).
UNIT_ROUNDOFF = float(np.finfo(np.float64).eps) / 2


def unit_sphere(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """``n`` points uniform on the unit sphere of R^d (normalised Gaussian vectors), shape (n, d)."""
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def gmean(x: np.ndarray, axis: int = 0, floor: float = 1e-300) -> np.ndarray:
    """Geometric mean ``exp(E[ln x])`` (the paper's G-mean, App. B.2); NaN entries are ignored,
    values are clipped at ``floor`` so that an exact zero does not give ``-inf``."""
    with np.errstate(all="ignore"):
        return np.exp(np.nanmean(np.log(np.maximum(x, floor)), axis=axis))


def amean(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Arithmetic mean (the paper's A-mean), NaN entries ignored."""
    with np.errstate(all="ignore"):
        return np.nanmean(x, axis=axis)


def versions() -> dict[str, str]:
    """Versions of everything that can change a number in a figure."""
    import matplotlib
    import mpmath

    from .. import __version__

    out = {
        "bnverify": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "matplotlib": matplotlib.__version__,
        "mpmath": mpmath.__version__,
    }
    try:
        import numba

        out["numba"] = numba.__version__
    except Exception:  # pragma: no cover
        out["numba"] = "not installed"
    try:
        import gmpy2

        out["gmpy2"] = gmpy2.version()
    except Exception:  # pragma: no cover
        out["gmpy2"] = "not installed"
    return out


def provenance(seed: int | None, settings: dict[str, Any], command: str = "") -> dict[str, Any]:
    return {
        "seed": seed,
        "settings": settings,
        "versions": versions(),
        "command": command,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_json(path: Path, obj: Any) -> Path:
    path.write_text(json.dumps(to_jsonable(obj), indent=1, sort_keys=False) + "\n")
    return path


def decades_where(log_x: np.ndarray, mask: np.ndarray) -> float:
    """Measure (in decades) of the grid points where ``mask`` holds, each point standing for one
    grid spacing of ``log_x`` (uniform log grid): ``count * spacing``."""
    if log_x.size < 2:
        return 0.0
    spacing = float(log_x[1] - log_x[0])
    return float(np.count_nonzero(mask) * spacing)


def longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of consecutive True values in a 1-d boolean array."""
    best = cur = 0
    for v in np.asarray(mask, dtype=bool):
        cur = cur + 1 if v else 0
        best = max(best, cur)
    return best
