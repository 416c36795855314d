"""bnverify: symbolic and numeric checks of "On the Convergence and Robustness of Batch
Normalization" (BNGD on least squares).

Public surface: :class:`OLSProblem`, :func:`run` (float64 batched engine), :func:`run_mp`
(high-precision engine), :class:`BNVerifyError`.  Claims, derivations and figures are reached
through ``bnverify.claims``, ``bnverify.symbolic`` and ``bnverify.experiments``.
"""

__version__ = "0.1.0"

from .errors import BNVerifyError  # noqa: E402
from .model import OLSProblem  # noqa: E402

__all__ = ["BNVerifyError", "OLSProblem", "__version__"]
