"""Configuration files for ``bnverify run --config`` (and counterexamples, which replay through it).

A configuration is a JSON object with ``H`` (nested list) or ``H_diag`` (list), ``u``, ``a0``,
``w0``, ``eps_a``, ``eps`` and optional ``method`` (bngd|gd|mbngd), ``noise``, ``steps``.
Numbers may be JSON numbers or decimal/rational strings (strings keep full precision for the
high-precision engine).  Free-text fields ``claim``, ``description`` and ``comment`` are allowed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BNVerifyError
from .model import OLSProblem, as_float_array, check_step_size

REQUIRED = ("u", "a0", "w0", "eps_a", "eps")
OPTIONAL = ("H", "H_diag", "method", "noise", "steps", "claim", "description", "comment", "seed")


def load_config(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise BNVerifyError(f"config: file not found: {p}")
    try:
        cfg = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise BNVerifyError(f"config: cannot read {p}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BNVerifyError(
            f"config: {p} is not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    validate_config(cfg)
    return cfg


def validate_config(cfg: Any) -> None:
    if not isinstance(cfg, dict):
        raise BNVerifyError("config: expected a JSON object")
    unknown = sorted(set(cfg) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise BNVerifyError(f"config: unknown field(s) {', '.join(unknown)}")
    missing = [k for k in REQUIRED if k not in cfg]
    if missing:
        raise BNVerifyError(f"config: missing field(s) {', '.join(missing)}")
    if ("H" in cfg) == ("H_diag" in cfg):
        raise BNVerifyError("config: give exactly one of H (matrix) or H_diag (its diagonal)")


def problem_from_config(cfg: dict[str, Any]) -> tuple[OLSProblem, dict[str, Any]]:
    """Validated float64 problem and the run parameters ``eps, eps_a, a0, w0``."""
    validate_config(cfg)
    if "H_diag" in cfg:
        H = np.diag(as_float_array(cfg["H_diag"], "H_diag", ndim=1))
    else:
        H = as_float_array(cfg["H"], "H", ndim=2)
    problem = OLSProblem(H, cfg["u"], cfg.get("noise", 0.0))
    w0 = as_float_array(cfg["w0"], "w0", ndim=1)
    if w0.shape[0] != problem.d:
        raise BNVerifyError(f"w0: length {w0.shape[0]} does not match H of size {problem.d}")
    if not np.any(w0) and cfg.get("method", "bngd") != "gd":
        raise BNVerifyError("w0: must be nonzero (sigma = sqrt(w0^T H w0) would vanish)")
    params = {
        "eps": check_step_size(cfg["eps"], "eps"),
        "eps_a": check_step_size(cfg["eps_a"], "eps_a", allow_zero=True),
        "a0": float(as_float_array(cfg["a0"], "a0", ndim=0)),
        "w0": w0,
    }
    return problem, params
