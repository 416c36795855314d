"""Imported once by the fork server of a local Dask cluster (``bnverify.scheduling``): every
claim module is imported and registered there, so each worker process forked from it starts
with them in memory (shared copy-on-write) instead of importing SymPy, Hypothesis, numba and the
proofs again -- seconds per worker that the first claim on it used to pay."""

from __future__ import annotations

from .claims import load_proofs

load_proofs()
