"""Shared fixtures: each --quick figure is made once per test session (module-scoped work)."""

from __future__ import annotations

import pytest

from bnverify.experiments.figures import make_figure


@pytest.fixture(scope="session")
def fig1_quick(tmp_path_factory):
    """Fig. 1 --quick at kappa = 10 and 1000, one mp-confirmed cell per panel."""
    out = tmp_path_factory.mktemp("fig1")
    res = make_figure("1", out, quick=True, kappas=[10.0, 1000.0], mp_samples=1, progress=False)
    return out, res["1"]


@pytest.fixture(scope="session")
def fig5_quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig5")
    return out, make_figure("5", out, quick=True, progress=False)["5"]


@pytest.fixture(scope="session")
def fig6_quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig6")
    return out, make_figure("6", out, quick=True, progress=False)["6"]


@pytest.fixture(scope="session")
def fig78_quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig78")
    res = make_figure("7", out, quick=True, progress=False)
    res.update(make_figure("8", out, quick=True, progress=False))
    return out, res
