"""Iterations of the paper: BNGD (Eq. 9-10), GD (Eq. 3), MBNGD (Eq. 81).

* :func:`run` -- batched float64 engine (numba kernel or pure numpy, bit-identical);
* :func:`run_mp` -- one configuration at arbitrary precision (mpmath reference / gmpy2 fast path);
* :func:`compare_float_mp` -- where a float64 run first departs from the high-precision run.
"""

from .batched import METHODS, STATUS_NAMES, BatchResult, run, step

__all__ = ["METHODS", "STATUS_NAMES", "BatchResult", "run", "step"]
