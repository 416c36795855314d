"""bnverify: symbolic and numeric checks of "On the Convergence and Robustness of Batch
Normalization" (BNGD on least squares).

Public API (:mod:`bnverify.api`; the same data as the command line's ``--json``):
:func:`check` (claim verdicts), :func:`run` (one configuration, with its precision policy:
float64 with measured digits, escalating to high precision; or certified balls), :func:`derive`
(SymPy derivations), :func:`figure`; :class:`OLSProblem`; :class:`BNVerifyError` (bad input).
The engines themselves: ``bnverify.dynamics.run`` (batched float64), ``bnverify.dynamics.mp``,
``bnverify.dynamics.certified``.
"""

__version__ = "0.1.0"

from .api import CheckResults, check, derive, figure, run  # noqa: E402
from .errors import BNVerifyError  # noqa: E402
from .model import OLSProblem  # noqa: E402

__all__ = ["BNVerifyError", "CheckResults", "OLSProblem", "__version__", "check", "derive",
           "figure", "run"]
