"""Optional torch back end: the network experiments of §4.2 (Fig. 2, Fig. 3) and Lemma A.9 on
networks (claims F2, F3, F3.claims, L-A.9).

Importing this package does not import torch; its submodules ``networks``, ``train``,
``experiments``, ``authors`` and ``plots`` do (``data`` and ``setups`` -- the paper's, the
authors' and the fixed settings, ``--setup`` -- are numpy only).  Install the extra with
``pip install 'bnverify[torch]'`` (or ``pip install torch==2.13.0``, the CPU build).
"""

from __future__ import annotations

import importlib.util
import os

# OpenMP threads that spin while waiting make torch many times slower on a shared, busy CPU;
# passive waiting costs nothing when the machine is idle.  Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

INSTALL_HINT = (
    "the network experiments need PyTorch: pip install 'bnverify[torch]' "
    "(or pip install torch==2.13.0 for the CPU build)"
)


def torch_available() -> bool:
    """True when ``import torch`` would succeed (checked without importing it)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


__all__ = ["INSTALL_HINT", "torch_available"]
