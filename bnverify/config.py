"""Configuration files for ``bnverify run --config`` (and counterexamples, which replay through it).

A configuration is a JSON object with ``H`` (nested list) or ``H_diag`` (list), ``u``, ``a0``,
``w0``, ``eps_a``, ``eps`` and optional ``method`` (bngd|gd|mbngd), ``noise``, ``steps``, ``seed``.
Numbers may be JSON numbers or decimal/rational strings (strings keep full precision for the
high-precision engine).  Free-text fields ``claim``, ``description`` and ``comment`` are allowed.

Validation (:func:`validate_config`, called by :func:`load_config`) happens before any work and
refuses, with one :class:`~bnverify.errors.BNVerifyError` line naming the field:

* booleans where a number is expected (JSON ``true``/``false`` are not numbers);
* non-finite values (``NaN``, ``Infinity``, ``"nan"``, ``"inf"``, ``1e400``) and numbers whose
  magnitude exceeds the float64 range (:data:`MAX_MAGNITUDE`, about 1.8e308), whatever their
  spelling (a 401-digit integer, ``"1e999999999"``): every engine must be able to read the same
  configuration;
* strings that are not a decimal (``"0.1"``, ``"-1.5e-3"``) or a rational of two integers
  (``"1/3"``, ``"-2/7"``); a zero denominator;
* wrong shapes: ``H`` not a square nested list, ``H_diag``/``u``/``w0`` not flat lists of the same
  length ``d >= 1``, a list where a number is expected (so nesting depth is bounded by the
  schema: at most 2 for ``H``);
* ``eps <= 0``, ``eps_a < 0``, ``noise < 0``;
* ``steps`` not an integer in ``[0, MAX_STEPS]``, ``seed`` not an integer in ``[0, MAX_SEED]``,
  ``method`` not one of bngd, gd, mbngd, a free-text field that is not a string.

:func:`load_config` also turns unreadable files, binary files, invalid JSON, JSON nested too deep
for the parser (``RecursionError``) and integers too long for Python's int parser into one line.
Symmetry and positive definiteness of ``H`` and ``w0 != 0`` are checked when the problem is built
(:func:`problem_from_config`, :class:`~bnverify.model.OLSProblem`, the high-precision engine).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BNVerifyError
from .model import OLSProblem, as_float_array, check_step_size

REQUIRED = ("u", "a0", "w0", "eps_a", "eps")
OPTIONAL = ("H", "H_diag", "method", "noise", "steps", "claim", "description", "comment", "seed")
METHODS = ("bngd", "gd", "mbngd")
TEXT_FIELDS = ("claim", "description", "comment")

#: largest accepted number of steps (config ``steps`` and ``--steps``): 10^9 float64 BNGD steps
#: of a small problem take minutes; more is never needed to decide a run and would only hang.
MAX_STEPS = 10**9
#: largest accepted seed (numpy and Hypothesis accept any non-negative integer; 2^63 - 1 keeps
#: seeds representable as int64 everywhere)
MAX_SEED = 2**63 - 1
#: largest accepted magnitude of any number (the largest finite float64)
MAX_MAGNITUDE = float(np.finfo(np.float64).max)
#: largest configuration file read (bytes): a dense 10^4 x 10^4 H written with 17 digits
MAX_FILE_BYTES = 2 * 10**9
#: longest numeric string accepted (characters); exact decimals beyond this are not plausible
MAX_NUMBER_CHARS = 10_000

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_RATIONAL = re.compile(r"[+-]?\d+/\d+")
_MAX_DECIMAL = Decimal(MAX_MAGNITUDE)


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and validate a configuration file; one-line :class:`BNVerifyError` on any problem."""
    p = Path(path)
    try:
        if str(path) == "-":  # standard input
            import sys

            raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        elif p.is_dir():
            raise BNVerifyError(f"config: {p} is a directory, not a configuration file")
        elif not p.exists():
            raise BNVerifyError(f"config: file not found: {p}")
        elif p.is_file():
            size = p.stat().st_size
            if size > MAX_FILE_BYTES:
                raise BNVerifyError(f"config: {p} is too large ({size} bytes > {MAX_FILE_BYTES})")
            raw = p.read_bytes()
        else:  # a pipe or device (`--config <(...)`, /dev/stdin): read at most the size limit
            with open(p, "rb") as f:
                raw = f.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise BNVerifyError(f"config: {p} is too large (> {MAX_FILE_BYTES} bytes)")
    except OSError as exc:
        raise BNVerifyError(f"config: cannot read {p}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BNVerifyError(f"config: {p} is not a UTF-8 text file") from None
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BNVerifyError(
            f"config: {p} is not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    except RecursionError:
        raise BNVerifyError(f"config: {p} is nested too deeply to be a configuration") from None
    except ValueError as exc:  # e.g. an integer literal longer than Python's 4300-digit limit
        raise BNVerifyError(f"config: {p} is not a valid configuration ({exc})") from None
    except MemoryError:
        raise BNVerifyError(f"config: {p} is too large to parse") from None
    validate_config(cfg)
    return cfg


def validate_config(cfg: Any) -> None:
    """Check a configuration (a dict as read from JSON, or built in Python) before any work.

    Accepts JSON types and, for configurations built in Python (counterexamples), numpy
    scalars/arrays, ``Fraction``, ``Decimal`` and tuples.  Raises :class:`BNVerifyError` with one
    line naming the field; see the module docstring for the rules.  Never recurses deeper than
    the schema, so arbitrarily nested input cannot exhaust the stack.
    """
    if not isinstance(cfg, dict):
        raise BNVerifyError("config: expected a JSON object")
    bad_keys = [k for k in cfg if not isinstance(k, str)]
    if bad_keys:
        raise BNVerifyError(f"config: field names must be strings, got {bad_keys[0]!r}")
    unknown = sorted(set(cfg) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise BNVerifyError(f"config: unknown field(s) {', '.join(unknown)}")
    missing = [k for k in REQUIRED if k not in cfg]
    if missing:
        raise BNVerifyError(f"config: missing field(s) {', '.join(missing)}")
    if ("H" in cfg) == ("H_diag" in cfg):
        raise BNVerifyError("config: give exactly one of H (matrix) or H_diag (its diagonal)")

    if "H_diag" in cfg:
        d = len(check_vector(cfg["H_diag"], "H_diag"))
    else:
        d = check_matrix(cfg["H"], "H")
    for name in ("u", "w0"):
        n = len(check_vector(cfg[name], name))
        if n != d:
            raise BNVerifyError(f"{name}: length {n} does not match H of size {d}")
    check_number(cfg["a0"], "a0")
    if check_number(cfg["eps"], "eps") <= 0:
        raise BNVerifyError(f"eps: step size must be > 0, got {_show(cfg['eps'])}")
    if check_number(cfg["eps_a"], "eps_a") < 0:
        raise BNVerifyError(f"eps_a: step size must be >= 0, got {_show(cfg['eps_a'])}")
    if "noise" in cfg and check_number(cfg["noise"], "noise") < 0:
        raise BNVerifyError(f"noise: must be >= 0, got {_show(cfg['noise'])}")
    if "steps" in cfg:
        check_int(cfg["steps"], "steps", 0, MAX_STEPS)
    if "seed" in cfg:
        check_int(cfg["seed"], "seed", 0, MAX_SEED)
    if "method" in cfg and (not isinstance(cfg["method"], str) or cfg["method"] not in METHODS):
        raise BNVerifyError(
            f"method: unknown method {_show(cfg['method'])} (use bngd, gd or mbngd)"
        )
    for name in TEXT_FIELDS:
        if name in cfg and not isinstance(cfg[name], str):
            raise BNVerifyError(f"{name}: expected a string, got {type(cfg[name]).__name__}")


# ----------------------------------------------------------------------------------------------
# value checks (usable on their own: the run command's flags, other readers of numbers)
# ----------------------------------------------------------------------------------------------


def _show(value: Any, limit: int = 40) -> str:
    """A short printable form of a bad value for an error message."""
    if isinstance(value, int) and not isinstance(value, bool):
        digits = len(str(abs(value))) if abs(value) < 10**4000 else None
        if digits is None or digits > limit:
            return f"an integer of {'>4000' if digits is None else digits} digits"
    s = repr(value)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _nonfinite(name: str, value: Any, in_list: bool) -> BNVerifyError:
    if in_list:
        return BNVerifyError(f"{name}: contains NaN or infinite values")
    return BNVerifyError(f"{name}: must be finite, got {_show(value)}")


def check_number(value: Any, name: str, *, in_list: bool = False) -> Fraction | float:
    """Validate one number; return it exactly (``Fraction``) or as a finite float.

    Accepted: ``int`` (not ``bool``), finite ``float``, numpy integer/floating scalars,
    ``Fraction``, finite ``Decimal``, mpmath numbers, and strings holding a decimal or a rational
    ``p/q`` (surrounding blanks allowed), all of magnitude <= :data:`MAX_MAGNITUDE`.
    """
    if isinstance(value, (bool, np.bool_)):
        raise BNVerifyError(f"{name}: expected a number, got a boolean ({value!r})")
    if isinstance(value, (int, np.integer)):
        v = int(value)
        if v.bit_length() > 1024 or abs(v) > MAX_MAGNITUDE:
            raise BNVerifyError(f"{name}: {_show(v)} is out of range (|x| <= {MAX_MAGNITUDE:.3g})")
        return Fraction(v)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            raise _nonfinite(name, v, in_list)
        return v
    if isinstance(value, Fraction):
        if abs(value) > MAX_MAGNITUDE:
            raise BNVerifyError(f"{name}: out of range (|x| <= {MAX_MAGNITUDE:.3g})")
        return value
    if isinstance(value, Decimal):
        return _check_decimal(value, name, value, in_list)
    if isinstance(value, str):
        return _check_numeric_string(value, name, in_list)
    if hasattr(value, "_mpf_"):  # mpmath mpf
        import mpmath

        if not mpmath.isfinite(value):
            raise _nonfinite(name, value, in_list)
        if abs(value) > MAX_MAGNITUDE:
            raise BNVerifyError(f"{name}: out of range (|x| <= {MAX_MAGNITUDE:.3g})")
        return float(value)
    raise BNVerifyError(f"{name}: expected a number, got {type(value).__name__}")


def _check_decimal(d: Decimal, name: str, shown: Any, in_list: bool = False) -> Fraction:
    if not d.is_finite():
        raise _nonfinite(name, shown, in_list)
    if not d.is_zero() and (d.adjusted() > 308 or d.copy_abs() > _MAX_DECIMAL):
        raise BNVerifyError(f"{name}: {_show(shown)} is out of range (|x| <= {MAX_MAGNITUDE:.3g})")
    # exact value; the exponent is bounded below too, so 10**-exp stays small enough
    if d.is_zero():
        return Fraction(0)
    if d.adjusted() < -100_000:  # keep the sign and a tiny magnitude without building 10**huge
        return Fraction(1 if d > 0 else -1, 10**100_000)
    return Fraction(d)


def _check_numeric_string(s: str, name: str, in_list: bool = False) -> Fraction:
    t = s.strip()
    if len(t) > MAX_NUMBER_CHARS:
        raise BNVerifyError(f"{name}: numeric string longer than {MAX_NUMBER_CHARS} characters")
    if _DECIMAL.fullmatch(t):
        try:
            d = Decimal(t)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            raise BNVerifyError(f"{name}: cannot read {_show(s)} as a number") from None
        return _check_decimal(d, name, s, in_list)
    if _RATIONAL.fullmatch(t):
        p, q = t.split("/")
        if int(q) == 0:
            raise BNVerifyError(f"{name}: zero denominator in {_show(s)}")
        f = Fraction(int(p), int(q))
        if abs(f) > MAX_MAGNITUDE:
            raise BNVerifyError(f"{name}: {_show(s)} is out of range (|x| <= {MAX_MAGNITUDE:.3g})")
        return f
    low = t.lower().lstrip("+-")
    if low in ("nan", "inf", "infinity", "snan"):
        raise _nonfinite(name, s, in_list)
    raise BNVerifyError(
        f"{name}: cannot read {_show(s)} as a number (a decimal such as \"0.1\" or a rational "
        "such as \"1/3\")"
    )


def check_int(value: Any, name: str, lo: int, hi: int) -> int:
    """An integer (not a boolean, not a float) in ``[lo, hi]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise BNVerifyError(f"{name}: expected an integer, got {_show(value)}")
    v = int(value)
    if not lo <= v <= hi:
        raise BNVerifyError(f"{name}: must be an integer in [{lo}, {hi}], got {_show(v)}")
    return v


def _as_list(value: Any, name: str) -> list[Any] | np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple)):
        return value
    raise BNVerifyError(f"{name}: expected a list of numbers, got {type(value).__name__}")


def _check_flat(values: Any, name: str) -> None:
    """Every entry of a flat list (or 1-d array) is a valid number."""
    if isinstance(values, np.ndarray):
        if values.dtype.kind == "b":
            raise BNVerifyError(f"{name}: expected numbers, got booleans")
        if values.dtype.kind in "iu":
            if values.size and np.max(np.abs(values.astype(np.float64))) > MAX_MAGNITUDE:
                raise BNVerifyError(f"{name}: out of range")  # pragma: no cover - int64 fits
            return
        if values.dtype.kind == "f":
            if not np.all(np.isfinite(values)):
                raise BNVerifyError(f"{name}: contains NaN or infinite values")
            return
        values = values.tolist()
    types = set(map(type, values))
    if types <= {float, int}:
        # fast path for the common case (large H): ints must fit, floats must be finite
        if int in types:
            for v in values:
                if type(v) is int and (v.bit_length() > 1024 or abs(v) > MAX_MAGNITUDE):
                    check_number(v, name, in_list=True)
        if float in types and not all(math.isfinite(v) for v in values if type(v) is float):
            raise BNVerifyError(f"{name}: contains NaN or infinite values")
        return
    for v in values:
        if isinstance(v, (list, tuple, dict, np.ndarray)):
            raise BNVerifyError(f"{name}: expected a number, got a nested {type(v).__name__}")
        check_number(v, name, in_list=True)


def check_vector(value: Any, name: str) -> list[Any] | np.ndarray:
    """A flat, non-empty list (or 1-d array) of valid numbers; returns it."""
    vec = _as_list(value, name)
    if isinstance(vec, np.ndarray) and vec.ndim != 1:
        raise BNVerifyError(f"{name}: expected a flat list, got an array of shape {vec.shape}")
    if len(vec) == 0:
        raise BNVerifyError(f"{name}: must have at least one entry")
    _check_flat(vec, name)
    return vec


def check_matrix(value: Any, name: str) -> int:
    """A square nested list (or 2-d array) of valid numbers; returns its size ``d``."""
    rows = _as_list(value, name)
    if isinstance(rows, np.ndarray):
        if rows.ndim != 2 or rows.shape[0] != rows.shape[1] or rows.shape[0] == 0:
            raise BNVerifyError(f"{name}: must be a non-empty square matrix, got shape {rows.shape}")
        _check_flat(rows.ravel(), name)
        return rows.shape[0]
    d = len(rows)
    if d == 0:
        raise BNVerifyError(f"{name}: must be a non-empty square matrix, got []")
    for i, row in enumerate(rows):
        if not isinstance(row, (list, tuple, np.ndarray)):
            raise BNVerifyError(
                f"{name}: must be a square nested list (row {i} is a {type(row).__name__})"
            )
        if len(row) != d:
            raise BNVerifyError(
                f"{name}: must be a square matrix (row {i} has {len(row)} entries, expected {d})"
            )
        _check_flat(row if not isinstance(row, np.ndarray) or row.ndim == 1 else row.tolist(), name)
    return d


def problem_from_config(cfg: dict[str, Any]) -> tuple[OLSProblem, dict[str, Any]]:
    """Validated float64 problem and the run parameters ``eps, eps_a, a0, w0``."""
    validate_config(cfg)
    if "H_diag" in cfg:  # stays a vector: a diagonal problem is O(d)
        H = as_float_array(cfg["H_diag"], "H_diag", ndim=1)
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
