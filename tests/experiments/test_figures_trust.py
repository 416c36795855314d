"""Measured float64 trust in the figures (issue 11, item 3): untrusted cells are the measured set,
recomputed at high precision within a budget, hatched when left, and excluded from statistics."""

from __future__ import annotations

import numpy as np
import pytest

from bnverify.dynamics.mp import run_mp
from bnverify.experiments import fig1 as f1
from bnverify.experiments import mbngd as mb


def _load(path) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


# the issue's cell: kappa = 1000, seed 3, eps_a index 34, eps index 7, a0 index 0 of the paper's
# grid: float64 gives a loss of 1.80e-4, 40-120 digits agree on 2.46e-6
ISSUE_CELL = dict(eps_a=f1.PAPER_EPS_A[34:35], eps=f1.PAPER_EPS[7:8], a0=f1.PAPER_A0[0:1])


def _issue_cell(**kw) -> dict:
    s = f1.Fig1Settings(kappas=(1000.0,), seed=3, jobs=1, mp_samples=0, **ISSUE_CELL, **kw)
    return f1.compute_fig1(1000.0, f1.draw_u(3), s)


def test_issue_cell_untrusted_then_recomputed():
    """The float64 value of the issue's cell is flagged (not by an input-region rule: a0 = 10,
    eps = 1e-3) and recomputed: 2.4630967806e-6 at high precision, not float64's 1.80e-4."""
    left = _issue_cell(recompute_budget_s=0.0)
    assert left["loss_bn"][0, 0, 0] == pytest.approx(1.8035793e-4, rel=1e-6)
    assert not left["trusted"][0, 0, 0] and not left["recomputed"][0, 0, 0]
    assert left["digits"][0, 0, 0] < f1.FIGURE_MIN_DIGITS
    np.testing.assert_array_equal(f1.untrusted_cells(left), [[0, 0, 0]])
    assert f1.analyse_fig1(left)["untrusted_excluded"] == 1

    fixed = _issue_cell(recompute_all=True)
    assert fixed["recomputed"][0, 0, 0] and fixed["trusted"][0, 0, 0]
    assert fixed["loss_bn"][0, 0, 0] == pytest.approx(2.4630967806e-6, rel=1e-9)
    assert fixed["loss_bn_float64"][0, 0, 0] == left["loss_bn"][0, 0, 0]
    assert fixed["digits"][0, 0, 0] >= f1.MP_STABLE_DIGITS and fixed["mp_dps"][0, 0, 0] >= 40
    assert f1.untrusted_cells(fixed).size == 0
    assert fixed["_recompute"]["cells"][0]["float64_loss"] == left["loss_bn"][0, 0, 0]


def test_untrusted_cells_is_the_measured_set(fig1_quick):
    out, summ = fig1_quick
    for tag, p in zip(("10", "1000"), summ["panels"], strict=True):
        d = _load(out / f"fig1_kappa{tag}.npz")
        np.testing.assert_array_equal(f1.untrusted_cells(d), np.argwhere(~d["trusted"]))
        assert len(f1.untrusted_cells(d)) == p["trust"]["left_untrusted"]
        # not the old input-region rule: untrusted cells outside a0 <= 1e-8 / eps >= 1e12
        cells = f1.untrusted_cells(d)
        outside = (d["a0"][cells[:, 2]] > 1e-8) & (d["eps"][cells[:, 1]] < 1e12)
        assert outside.any()
    # data without a trust estimate: no untrusted cell
    d = {k: v for k, v in _load(out / "fig1_kappa1000.npz").items() if k != "trusted"}
    assert f1.untrusted_cells(d).size == 0


def test_recomputed_cell_matches_an_independent_mp_run(fig1_quick):
    """A recomputed cell's stored value equals a direct run at twice the precision at which the
    ladder settled it (and never below 100 digits) to 8 digits.  (Some of these cells need
    240 digits: 100 digits give eps^ wrong in the 5th digit.)"""
    out, _ = fig1_quick
    d = _load(out / "fig1_kappa1000.npz")
    cells = np.argwhere(d["recomputed"] & (d["status"] == 0))
    if len(cells) == 0:  # the quick panel's budget recomputed none: use the issue's cell
        d = _issue_cell(recompute_all=True)
        cells = np.argwhere(d["recomputed"] & (d["status"] == 0))
    assert len(cells) >= 1
    i, j, k = cells[0]
    r = run_mp(
        H_diag=d["h"].tolist(),
        u=d["u"].tolist(),
        w0=d["w0"].tolist(),
        eps=float(d["eps"][j]),
        eps_a=float(d["eps_a"][i]),
        a0=float(d["a0"][k]),
        method="bngd",
        steps=int(d["steps"]),
        precision=max(100, 2 * int(d["mp_dps"][i, j, k])),
    )
    assert r.status != "diverged"
    assert float(r.loss) == pytest.approx(float(d["loss_bn"][i, j, k]), rel=1e-8)
    assert float(r.eff_step) == pytest.approx(float(d["eff_step"][i, j, k]), rel=1e-8)


def test_hatched_count_equals_untrusted_count(fig1_quick):
    """The plot hatches exactly the untrusted cells: counted from the drawn patches, in the
    figure written and on data with a chosen set of untrusted cells."""
    from bnverify.experiments.plotting import _plt, draw_fig1, hatched_patches

    out, summ = fig1_quick
    for p in summ["panels"]:
        assert p["trust"]["hatched"] == p["trust"]["left_untrusted"] > 0
    d = _load(out / "fig1_kappa1000.npz")
    d["trusted"] = np.ones_like(d["trusted"])
    d["trusted"][0, :7, 1] = False
    fig, n = draw_fig1(d, f1.categories(d))
    assert n == hatched_patches(fig) == 7 == len(f1.untrusted_cells(d))
    _plt().close(fig)


def test_statistics_exclude_untrusted_cells(fig1_quick):
    """A corrupted untrusted cell changes no statistic; the same corruption in a trusted cell
    does (the exclusion is what keeps it out)."""
    out, _ = fig1_quick
    d = _load(out / "fig1_kappa1000.npz")
    # a trusted, far, worse cell in a large-eps_a row
    large = d["eps_a"][:, None, None] >= f1.LARGE_EPS_A
    cat = f1.categories(d)
    cand = np.argwhere(large & d["trusted"] & ~cat["near"] & ~cat["better"] & ~cat["diverged"])
    cell = tuple(cand[0])
    base = dict(d, trusted=d["trusted"].copy())
    base["trusted"][cell] = False
    corrupt = dict(base, loss_bn=d["loss_bn"].copy(), eff_step=d["eff_step"].copy())
    corrupt["loss_bn"][cell] = 1e-30  # far below optimal GD: a "better" cell if counted
    corrupt["eff_step"][cell] = float(d["eps_opt"])  # and a near one

    def stats(dd):
        an = f1.analyse_fig1(dd)
        return (
            an["fraction_better"],
            an["fraction_near"],
            an["best_loss_bn"],
            an["large_eps_a"]["gmean_loss"],
            an["median_band_width_decades"],
            an["colours_present"],
            f1.finding_beats_gd(an)[1],
        )

    assert stats(corrupt) == stats(base)
    an = f1.analyse_fig1(corrupt)
    assert an["untrusted_excluded"] == int((~base["trusted"]).sum())
    assert f"{an['untrusted_excluded']} untrusted cells excluded" in f1.finding_beats_gd(an)[1]
    # the same corruption, cell trusted: the statistics move
    counted = dict(corrupt, trusted=d["trusted"])
    moved = stats(counted)
    assert moved[0] > stats(base)[0] and moved[1] > stats(base)[1]
    assert moved[2] == 1e-30 and moved[3] < stats(base)[3]


def test_band_finding_undecided_when_untrusted_cells_decide(fig1_quick):
    """A band finding that holds with the untrusted cells counted as near and fails without them
    is undecided (None), never refuted."""
    out, _ = fig1_quick
    d = _load(out / "fig1_kappa1000.npz")
    an = f1.analyse_fig1(d)
    lo, up = f1.finding_widens(an)[0], f1.finding_widens(an, upper=True)[0]
    ok, ev = f1.band_finding(f1.finding_widens, an)
    assert ok == (lo if lo == up else None)
    # force the split: every near cell untrusted -> lower bound 0, upper bound the full band
    forced = dict(d, trusted=d["trusted"] & ~f1.categories(d)["near"])
    an2 = f1.analyse_fig1(forced)
    assert an2["median_band_width_decades"] == 0.0
    ok2, ev2 = f1.band_finding(f1.finding_widens, an2)
    assert ok2 is None and "undecided" in ev2


def test_recompute_order_nearest_boundary_first():
    """Cells whose values sit closest to a colour boundary are recomputed first; diverged or
    non-finite cells (colour itself in doubt) before all."""
    eo = 0.01
    data = {
        "eps_opt": eo,
        "loss_gd_opt": 1e-2,
        "loss_floor": 1e-30,
        "loss_bn": np.array([[[1e-9, 1.1e-2, 1e-9, np.nan]]]),
        "eff_step": np.array([[[1e-6, 1e-6, 1.24 * eo, 1.0]]]),
        "status": np.array([[[0, 0, 0, 1]]], dtype=np.int8),
    }
    cells = np.array([[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 0, 3]])
    m = f1.decision_margin(data, cells)
    assert m[3] == 0.0 and m[2] < m[1] < m[0]
    np.testing.assert_array_equal(f1.recompute_order(data, cells)[:, 2], [3, 2, 1, 0])


def test_cell_pool_budget_and_workers():
    """The pool starts cells only while the budget allows (a past deadline starts none), and
    worker processes give the same values as this process."""
    d = _issue_cell(recompute_budget_s=0.0, trust=True)
    cfg = f1._cell_config(d, 0, 0, 0)
    with f1.CellPool(1) as pool:
        assert pool.run([cfg], (40, 60), deadline=0.0) == [None]
    from bnverify.scheduling import DaskPool

    with DaskPool(workers=2) as pool:  # a local Dask cluster of two worker processes
        a, b = pool.run([cfg, dict(cfg, eps_a=1.0)], (40, 60))
        assert pool.jobs == 2
    here = f1.mp_ladder(cfg, (40, 60))
    assert a["resolved"] and a["loss"] == here["loss"] and b["resolved"]


def test_mbngd_trust_arrays_and_exclusion(fig5_quick):
    """Fig. 5 data carry trusted/digits of the result arrays' shape; an untrusted run is left out
    of the exponent ratio (corrupting it changes nothing), a trusted one is not."""
    out, summ = fig5_quick
    d = _load(out / "fig5.npz")
    shape = d["mb_loss"].shape
    for name in ("trusted", "gd_trusted"):
        assert d[name].shape == shape and d[name].dtype == bool
    for name in ("digits", "gd_digits"):
        assert d[name].shape == shape
    assert d["gd_opt_trusted"].shape == d["gd_opt_loss"].shape
    ex = summ["summary"]["untrusted_excluded"]
    assert ex["mbngd"] == int((~d["trusted"]).sum())
    base = dict(d, trusted=d["trusted"].copy())
    cell = (0, int(np.argmax(mb.exponent_ratio(d))))
    base["trusted"][cell] = False
    corrupt = dict(base, mb_loss=d["mb_loss"].copy())
    corrupt["mb_loss"][cell] = d["mb_loss"][cell] * 1e6
    np.testing.assert_array_equal(mb.exponent_ratio(corrupt), mb.exponent_ratio(base))
    counted = dict(corrupt, trusted=d["trusted"])
    assert mb.exponent_ratio(counted)[cell[1]] != mb.exponent_ratio(base)[cell[1]]


def test_fig78_trust_arrays(fig78_quick):
    out, res = fig78_quick
    for fig in ("7", "8"):
        d = _load(out / f"fig{fig}.npz")
        assert d["trusted"].shape == d["exponent_ratio"].shape == d["untrusted"].shape
        assert d["digits"].shape == d["exponent_ratio"].shape
        np.testing.assert_array_equal(d["trusted"], d["untrusted"] == 0)
        assert res[fig]["untrusted_excluded"] == int(d["untrusted"].sum())


def test_mbngd_untrusted_runs_recomputed():
    """Fig. 7's d = 2 point (quick grid, seed 0): MBNGD runs at eps = 10^-2 ... 10^-1 are untrusted
    in float64 (edge of stability); recomputed, they match an independent high-precision run,
    and a zero budget leaves them untrusted and excluded."""
    h = np.linspace(1, 2000, 2)
    k = mb.horizon_steps(2000.0)
    eps = mb.INTERVAL_EPS_QUICK[5:7]
    left = mb.compute_sweep(mb.SweepSettings(h, 12, k, eps, 0, "d2", 0, recompute_budget_s=0.0))
    assert (~left["trusted"]).sum() >= 12 and not left["recomputed"].any()
    assert left["_recompute"]["left_untrusted"] == int((~left["trusted"]).sum())
    s = mb.SweepSettings(h, 12, k, eps, 0, "d2", 0, recompute_all=True)
    data = mb.compute_sweep(s)
    assert data["trusted"].all() and data["recomputed"].sum() == (~left["trusted"]).sum()
    np.testing.assert_array_equal(data["mb_loss_float64"], left["mb_loss"])
    t, j = np.argwhere(data["recomputed"])[0]
    r = run_mp(
        H_diag=h.tolist(),
        u=data["u"][t].tolist(),
        w0=data["w0"][t].tolist(),
        eps=float(eps[j]),
        method="mbngd",
        steps=k,
        precision=200,
    )
    assert float(r.e_norm_H) ** 2 == pytest.approx(data["mb_loss"][t, j], rel=1e-8)
    assert float(r.eff_step) == pytest.approx(data["mb_eff_step"][t, j], rel=1e-8)
    # excluded while untrusted: the exponent ratio of the zero-budget sweep ignores those runs
    all_out = (~left["trusted"]).all(axis=0)
    assert np.all(np.isnan(mb.exponent_ratio(left)[all_out]))
    # and on a column made wholly untrusted by hand (the data may have none): excluded there only
    chosen = dict(left)
    chosen["trusted"] = np.asarray(left["trusted"]).copy()
    col = int(np.argmax(~np.isnan(mb.exponent_ratio(left))))
    assert not np.isnan(mb.exponent_ratio(left)[col])
    chosen["trusted"][:, col] = False
    assert np.isnan(mb.exponent_ratio(chosen)[col])
    assert np.all(np.isfinite(mb.exponent_ratio(data)))
