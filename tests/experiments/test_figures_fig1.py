"""Fig. 1 (Sec. 4.1; claims F1, F1.claims): data contract, closed-form GD, findings that can flip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bnverify.errors import BNVerifyError
from bnverify.experiments import fig1 as f1


def _load(path) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


CONTRACT = (
    "h",
    "u",
    "w0",
    "kappa",
    "steps",
    "eps_a",
    "eps",
    "a0",
    "eps_opt",
    "loss_gd_opt",
    "loss_bn",
    "eff_step",
    "status",
)


def test_files_and_contract(fig1_quick):
    out, summ = fig1_quick
    for tag in ("10", "1000"):
        assert (out / f"fig1_kappa{tag}.png").stat().st_size > 10_000
        d = _load(out / f"fig1_kappa{tag}.npz")
        for name in CONTRACT:
            assert name in d, name
        shape = (len(d["eps_a"]), len(d["eps"]), len(d["a0"]))
        assert shape == (11, 22, 5)  # quick grid: every 4th eps_a, every 2nd eps, all a0
        for name in ("loss_bn", "eff_step", "status"):
            assert d[name].shape == shape
        assert d["h"].shape == d["u"].shape == d["w0"].shape == (100,)
        assert float(d["kappa"]) == float(tag)
        assert int(d["steps"]) == 2000
        np.testing.assert_allclose(d["h"], np.logspace(0, math.log10(float(tag)), 100))
        np.testing.assert_allclose(d["w0"], d["h"] * d["u"] / np.linalg.norm(d["h"] * d["u"]))
        assert abs(np.linalg.norm(d["u"]) - 1) < 1e-12
        np.testing.assert_allclose(d["eps_a"], 1.99 * np.logspace(-10, 0, 41)[::4])
        np.testing.assert_allclose(d["eps"], np.logspace(-5, 16, 43)[::2])
        np.testing.assert_array_equal(d["a0"], [10, 1, 1e-2, 1e-4, 1e-8])
        assert set(np.unique(d["status"])) <= {0, 1}
        div = d["status"] == 1
        assert np.all(np.isnan(d["loss_bn"][div]))
        assert np.all(np.isfinite(d["loss_bn"][~div])) and np.all(np.isfinite(d["eff_step"][~div]))
        assert np.ndim(d["loss_gd_opt"]) == 0
        # measured trust (issue 11): same shape as the result arrays
        for name in ("trusted", "recomputed"):
            assert d[name].shape == shape and d[name].dtype == bool, name
        for name in ("digits", "digits_eff", "loss_bn_float64", "eff_step_float64"):
            assert d[name].shape == shape and d[name].dtype.kind == "f", name
        assert d["status_float64"].shape == shape and d["mp_dps"].shape == shape
        assert float(d["min_digits"]) == f1.FIGURE_MIN_DIGITS
        # float64 values are kept where a cell was recomputed, and equal elsewhere
        keep = ~d["recomputed"]
        np.testing.assert_array_equal(d["loss_bn"][keep], d["loss_bn_float64"][keep])
        np.testing.assert_array_equal(d["eff_step"][keep], d["eff_step_float64"][keep])
        assert np.all(d["trusted"][d["recomputed"]])
        assert np.all(d["mp_dps"][d["recomputed"]] >= 40) and np.all(d["mp_dps"][keep] == 0)
        # a float64 cell is trusted only with min_digits of the loss and of eps^
        f64 = keep & d["trusted"] & (d["status"] == 0)
        assert np.all(d["digits"][f64] >= 3) and np.all(d["digits_eff"][f64] >= 3)
    js = json.loads((out / "fig1_summary.json").read_text())
    assert js["provenance"]["seed"] == 0 and "numpy" in js["provenance"]["versions"]
    assert js["panels"][0]["mp_confirmation"]["n"] == 1
    for p in js["panels"]:
        t = p["trust"]
        assert t["measured"] and t["min_digits"] == f1.FIGURE_MIN_DIGITS
        assert t["left_untrusted"] == t["hatched"] == p["analysis"]["untrusted_excluded"]
        assert t["untrusted_float64"] == t["recomputed"] + t["left_untrusted"]
        assert t["recompute_budget_s"] == f1.RECOMPUTE_BUDGET_QUICK_S


def test_gd_opt_matches_closed_form(fig1_quick):
    """GD at eps_opt on diagonal H: u - w_k = (I - eps H)^k (u - w_0) exactly, so the loss after
    2000 steps is 1/2 sum h_i (1 - eps h_i)^(2k) (u_i - w0_i)^2.  At kappa = 1000 this is ~1e-2,
    far above rounding; 2000 float64 steps of a contraction keep ~1e-12 relative accuracy, so
    rtol = 1e-9 leaves margin and still catches any wrong step or rate."""
    out, _ = fig1_quick
    d = _load(out / "fig1_kappa1000.npz")
    h, u, w0, k = d["h"], d["u"], d["w0"], int(d["steps"])
    eps = 2 / (h.min() + h.max())
    closed = 0.5 * np.sum(h * (1 - eps * h) ** (2 * k) * (u - w0) ** 2)
    assert float(d["eps_opt"]) == pytest.approx(eps, rel=1e-15)
    assert float(d["loss_gd_opt"]) == pytest.approx(closed, rel=1e-9)


def test_gd_rate_is_kappa_formula(fig1_quick):
    """Measured per-step contraction of ||u - w_k||_H equals (kappa-1)/(kappa+1) (Eq. 5) within
    the stated spectral tolerance (finding_gd_rate docstring)."""
    _, summ = fig1_quick
    for p in summ["panels"]:
        an = p["analysis"]
        ok, ev = f1.finding_gd_rate(an)
        assert ok, ev
        kappa = an["kappa"]
        assert an["gd_rate"]["rho_closed_form"] == pytest.approx((kappa - 1) / (kappa + 1))
    an1000 = summ["panels"][1]["analysis"]
    # at kappa = 1000 the window is long and clean: 1e-3 of the gap 1 - rho
    assert an1000["gd_rate"]["relative_error"] < 1e-3


def test_gd_rate_check_can_fail(fig1_quick):
    """A GD history contracting at a wrong rate (0.99 instead of 0.998) is caught."""
    out, _ = fig1_quick
    d = _load(out / "fig1_kappa1000.npz")
    d["gd_e_norm_H"] = d["gd_e_norm_H"][0] * 0.99 ** np.arange(d["gd_e_norm_H"].size)
    ok, _ = f1.finding_gd_rate(f1.analyse_fig1(d))
    assert not ok


def test_findings_are_computed_and_flip(fig1_quick):
    """Each finding is a computed predicate: a doctored panel where the opposite is true flips it."""
    out, _ = fig1_quick
    d = _load(out / "fig1_kappa1000.npz")
    an = f1.analyse_fig1(d)
    assert f1.finding_beats_gd(an)[0]
    # the band's near cells at the edge of stability are often untrusted in float64 (eps^ loses
    # its digits there): the widening shows on the band's upper bound (untrusted counted as near)
    assert f1.finding_widens(an, upper=True)[0]
    assert f1.finding_band_vs_a0(an)[0]
    assert f1.finding_small_eps_a(an)[0]
    # a0 large vs small: relabel the a0 axis in reverse, so that large a0 carries the wide band
    flipped = dict(d, a0=d["a0"][::-1].copy())
    assert not f1.finding_band_vs_a0(f1.analyse_fig1(flipped))[0]
    # small vs large eps_a swapped: small eps_a rows now hold the good losses
    swapped = dict(d, loss_bn=d["loss_bn"][::-1].copy())
    assert not f1.finding_small_eps_a(f1.analyse_fig1(swapped))[0]
    # GD made unbeatable: optimal GD loss below every BNGD loss
    unbeatable = dict(d, loss_gd_opt=np.array(float(np.nanmin(d["loss_bn"])) / 2))
    assert not f1.finding_beats_gd(f1.analyse_fig1(unbeatable))[0]
    # an effective step equal to eps (plain GD) has no widened band
    gdlike = dict(d, eff_step=np.broadcast_to(d["eps"][None, :, None], d["eff_step"].shape).copy())
    gdlike["trusted"] = np.ones_like(d["trusted"])
    assert not f1.finding_widens(f1.analyse_fig1(gdlike), upper=True)[0]


def test_kappa10_gd_at_floor_is_a_tie(fig1_quick):
    """At kappa = 10 optimal GD reaches float64 rounding within 2000 steps: no cell can 'beat'
    it (a tie, recorded), so the beats-GD finding does not hold in that panel."""
    _, summ = fig1_quick
    an = summ["panels"][0]["analysis"]
    assert an["gd_at_rounding_floor"]
    assert an["fraction_better"] == 0.0
    assert not f1.finding_beats_gd(an)[0]


def test_mp_confirmation_recorded(fig1_quick):
    """One sampled cell per panel that float64 trusts, re-run at high precision: the spot check
    of the trust estimate.  The loss must agree within the digits float64 claims there, less
    one (the calibration's allowance), relative to max(|loss|, loss floor)."""
    out, summ = fig1_quick
    for p in summ["panels"]:
        mp = p["mp_confirmation"]
        assert mp["n"] == 1 and mp["disagree"] == sum(not s["agree"] for s in mp["samples"])
        s = mp["samples"][0]
        assert s["trusted"] and s["float64_digits"] >= f1.FIGURE_MIN_DIGITS
        assert s["colour_float64"] and s["colour_mp"]
        d = _load(out / f"fig1_kappa{int(p['kappa'])}.npz")
        i, j, k = s["cell"]
        assert d["trusted"][i, j, k] and not d["recomputed"][i, j, k]
        if s["mp_resolved"] and np.isfinite(s["mp_loss"]):
            scale = max(abs(s["mp_loss"]), p["analysis"]["loss_floor"])
            assert abs(s["float64_loss"] - s["mp_loss"]) <= 10 ** (1 - s["float64_digits"]) * scale


def test_mp_confirm_detects_a_wrong_cell(fig1_quick):
    """A trusted float64 cell far from the band whose effective step was corrupted into the
    near band disagrees with mp."""
    out, _ = fig1_quick
    d = _load(out / "fig1_kappa1000.npz")
    far = (d["eff_step"] < 0.1 * float(d["eps_opt"])) & d["trusted"] & (d["status"] == 0)
    cell = np.argwhere(far & ~d["recomputed"])[0]
    d["eff_step"] = d["eff_step"].copy()
    d["eff_step"][tuple(cell)] = float(d["eps_opt"])
    res = f1.mp_confirm(d, 0, np.random.default_rng(0), cells=np.array([cell]))
    assert res["n"] == 1 and not res["all_agree"]


def test_load_u(tmp_path):
    u = np.random.default_rng(3).standard_normal(100)
    np.save(tmp_path / "u.npy", u)
    (tmp_path / "u.json").write_text(json.dumps({"u": u.tolist()}))
    (tmp_path / "u.txt").write_text(" ".join(map(repr, u.tolist())))
    for name in ("u.npy", "u.json", "u.txt"):
        np.testing.assert_array_equal(f1.load_u(tmp_path / name), u)
    (tmp_path / "short.txt").write_text("1 2 3")
    with pytest.raises(BNVerifyError, match="u: expected 100"):
        f1.load_u(tmp_path / "short.txt")
    with pytest.raises(BNVerifyError, match="not found"):
        f1.load_u(tmp_path / "missing.txt")
    (tmp_path / "bad.txt").write_text("a b c")
    with pytest.raises(BNVerifyError, match="u:"):
        f1.load_u(tmp_path / "bad.txt")


def test_draw_u_seeded():
    np.testing.assert_array_equal(f1.draw_u(5), f1.draw_u(5))
    assert not np.array_equal(f1.draw_u(5), f1.draw_u(6))


@pytest.mark.slow
def test_mp_ladder_needs_more_than_50_digits():
    """kappa = 10, eps_a = 1.99e-8, eps = 10^12.5, a0 = 1e-8 (seed 0, paper grid): 50 and 100
    digits disagree with each other and with float64; 200 and 400 digits agree with float64's
    eps^ = 0.34057... to 8+ digits -- the ladder settles there and float64 is confirmed."""
    u = f1.draw_u(0)
    s = f1.Fig1Settings(
        kappas=(10.0,),
        eps_a=f1.PAPER_EPS_A[8:9],
        eps=f1.PAPER_EPS[35:36],
        a0=np.array([1e-8]),
        trust=False,
    )
    d = f1.compute_fig1(10.0, u, s)
    ref = f1.mp_reference(d, 0, 0, 0)
    assert ref["resolved"] and ref["dps"] >= 200
    assert ref["eff_step"] == pytest.approx(float(d["eff_step"][0, 0, 0]), rel=1e-8)
    assert not f1.mp_reference(d, 0, 0, 0, ladder=(50, 100))["resolved"]
