"""The machinery several sections of ``proofs/`` share, moved into ``bnverify/`` by the re-layout
(issue 16): each function is tested on inputs whose answer is known, and with an input where the
answer must change (so a broken helper fails here, not only through a claim's verdict)."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import mpmath
import numpy as np
import pytest

from bnverify import (
    convergence_harness,
    exact_replay,
    hessian_fd,
    hstar,
    nets_support,
    objective_points,
    probes,
    scaling_support,
    trajectories,
)
from bnverify.convergence import MINIMISER, SADDLE, UNDECIDED, eps0_lemma_a12
from bnverify.model import OLSProblem
from bnverify.strategies import Configuration

# ----------------------------------------------------------------------------------------------
# convergence_harness
# ----------------------------------------------------------------------------------------------


def _counts(**kw):
    out = {MINIMISER: 0, SADDLE: 0, UNDECIDED: 0, "diverged": 0}
    out.update({k.replace("_", "-") if k == "x" else k: v for k, v in kw.items()})
    return out


def test_t33_verdict_refuted_inconclusive_verified():
    ok = convergence_harness.t33_verdict("T3.3", _counts(minimiser=5), [], {}, "s")
    assert ok.verdict == "verified" and "5 minimiser of 5" in ok.evidence
    und = convergence_harness.t33_verdict("T3.3", _counts(minimiser=4, undecided=1), [], {}, "s")
    assert und.verdict == "inconclusive" and und.details["decided_fraction"] == 0.8
    ex = [{"comment": "diverged run"}, {"comment": "minimiser run"}]
    bad = convergence_harness.t33_verdict("T3.3", _counts(minimiser=4, diverged=1), ex, {}, "s")
    assert bad.verdict == "refuted" and bad.counterexample == ex[0]
    # a saddle is a failure when only minimisers are claimed
    only_min = convergence_harness.t33_verdict("T3.3", _counts(saddle=1), [], {}, "s",
                                               target=(MINIMISER,))
    assert only_min.verdict == "refuted"


def test_t331_batch_meets_lemma_a12_hypotheses():
    rng = np.random.default_rng(0)
    p = OLSProblem(np.diag([1.0, 2.0, 5.0]), np.array([1.0, 0.5, -0.2]))
    b = convergence_harness.t331_batch(rng, p, 200)
    y0 = b["w0"] @ p.g
    assert np.allclose(np.linalg.norm(b["w0"], axis=1), 1.0)
    assert np.all((b["a0"] * y0 > 0) | (b["a0"] == 0)) and np.any(b["a0"] == 0)
    assert np.all((b["eps_a"] >= 0.2) & (b["eps_a"] <= 1.0))
    ratio = b["eps"] / eps0_lemma_a12(p, b["a0"], b["eps_a"])
    assert np.all((ratio >= 0.1) & (ratio <= 1.0))
    neg = convergence_harness.t331_batch(np.random.default_rng(0), p, 200, sign=-1.0)
    assert np.all(neg["a0"] * (neg["w0"] @ p.g) <= 0)


# ----------------------------------------------------------------------------------------------
# exact_replay
# ----------------------------------------------------------------------------------------------


def test_q_reads_the_binary_double_not_its_print():
    assert exact_replay.q(0.1) == Fraction(3602879701896397, 36028797018963968)
    assert exact_replay.q(0.1) != Fraction(1, 10)
    assert exact_replay.q("1/10") == Fraction(1, 10) and exact_replay.q(3) == 3
    with pytest.raises(TypeError):
        exact_replay.q(True)


def test_problem_and_exact_products():
    H, u, diag = exact_replay.problem({"H_diag": [1.0, 2.0], "u": [1.0, "1/3"]})
    assert diag and H == [[1, 0], [0, 2]] and u == [1, Fraction(1, 3)]
    assert exact_replay.mv(H, u) == [1, Fraction(2, 3)]
    assert exact_replay.dot(u, exact_replay.mv(H, u)) == Fraction(11, 9)
    H2, _, diag2 = exact_replay.problem({"H": [[2.0, 1.0], [1.0, 2.0]], "u": [1.0, 0.0]})
    assert not diag2 and H2[0][1] == 1
    with pytest.raises(ValueError):
        exact_replay.problem({"H_diag": [1.0, 2.0], "u": [1.0]})


# ----------------------------------------------------------------------------------------------
# hessian_fd
# ----------------------------------------------------------------------------------------------


def test_fd_gradient_and_hessian_match_closed_forms():
    """J(a, w) = c/2 - (w^T g/sigma) a + a^2/2 (+ const): dJ/da = a - w^T g/sigma; at a minimiser
    (a*, w*) = (||u||_H, u) the gradient vanishes and the (a, a) entry of the Hessian is 1."""
    p = OLSProblem(np.diag([1.0, 3.0]), np.array([1.0, 2.0]))
    with mpmath.workdps(60):
        w = (mpmath.mpf("0.5"), mpmath.mpf("-1.25"))
        pt = hessian_fd.Point(p, mpmath.mpf(2), w)
        g = hessian_fd.fd_gradient_at(pt)
        sigma = mpmath.sqrt(w[0] ** 2 * 1 + w[1] ** 2 * 3)
        wg = w[0] * 1 * 1 + w[1] * 3 * 2
        assert abs(g[0] - (2 - wg / sigma)) < mpmath.mpf("1e-20")
        a_star = mpmath.sqrt(1 + 3 * 4)
        m = hessian_fd.Point(p, a_star, (mpmath.mpf(1), mpmath.mpf(2)), "minimiser", 1.0)
        assert max(abs(x) for x in hessian_fd.fd_gradient_at(m)) < mpmath.mpf("1e-20")
        Hm = hessian_fd.fd_hessian_at(m)
        assert abs(Hm[0, 0] - 1) < mpmath.mpf("1e-20")
        # H(w*) w* = 0: J is scale invariant in w
        assert max(abs(sum(Hm[i, j] * (1, 2)[j - 1] for j in (1, 2))) for i in (1, 2)) < 1e-20
    assert m.to_json()["comment"] == "point of J(a, w): minimiser"


# ----------------------------------------------------------------------------------------------
# hstar
# ----------------------------------------------------------------------------------------------


def test_spectra_mp_of_hstar():
    """H* u = 0; for H = diag(1, 2, 3), u = e_2 the spectrum of H* is {0, 1, 3}."""
    lam, lam_star = hstar.spectra_mp(OLSProblem(np.diag([1.0, 2.0, 3.0]), np.array([0, 1.0, 0])))
    assert [float(x) for x in lam] == [1.0, 2.0, 3.0]
    assert [round(float(x), 30) for x in lam_star] == [0.0, 1.0, 3.0]
    _, generic = hstar.spectra_mp(OLSProblem(np.diag([1.0, 2.0, 3.0]), np.array([1.0, 1, 1])))
    assert abs(generic[0]) < 1e-40 and 1 < generic[1] < 2 < generic[2] < 3  # strict interlacing


def test_almost_all_strict_fails_exactly_on_repeated_extremes():
    assert hstar.almost_all_strict(OLSProblem(np.diag([1.0, 2.0, 4.0]), np.ones(3)), "27").holds
    assert not hstar.almost_all_strict(OLSProblem(np.eye(2), np.ones(2)), "27").holds
    assert hstar.almost_all_strict_corrected(OLSProblem(np.eye(2), np.ones(2)), "27").holds


# ----------------------------------------------------------------------------------------------
# objective_points
# ----------------------------------------------------------------------------------------------


def test_sample_objective_estimates_the_closed_form():
    p = OLSProblem(np.diag([1.0, 2.0]), np.array([1.0, -1.0]))
    pt = objective_points.ObjectivePoint(p, 0.7, np.array([0.3, 1.1]))
    mean, se = objective_points.sample_objective(pt, n=20000)
    sigma = np.sqrt(pt.w @ p.H @ pt.w)
    exact = 0.5 * (p.u - pt.a * pt.w / sigma) @ p.H @ (p.u - pt.a * pt.w / sigma)
    assert abs(mean - exact) < 5 * se and se < 0.05
    assert abs(mean - (exact + 0.5)) > 5 * se  # a wrong closed form is told apart


def test_minimizer_checks_on_exact_points():
    p = OLSProblem(np.diag([1.0, 4.0]), np.array([0.6, 0.8]))  # ||u|| = 1
    with mpmath.workdps(60):
        w = tuple(mpmath.mpf(float(x)) for x in p.u)  # the doubles of u, exactly: w* = u
        a_star = mpmath.sqrt(w[0] ** 2 + 4 * w[1] ** 2)
        pt = hessian_fd.Point(p, a_star, w, "minimiser", 1.0)
        off = hessian_fd.Point(p, a_star * 2, w, "minimiser", 1.0)
    assert objective_points.minimizer_holds(pt).holds
    assert not objective_points.minimizer_holds(off).holds
    assert objective_points.minimizer_hessian_matches(pt).holds  # diag(1, H*/||w*||^2)
    assert not objective_points.minimizer_hessian_matches(pt, factor=lambda um, s: 2).holds


# ----------------------------------------------------------------------------------------------
# probes
# ----------------------------------------------------------------------------------------------


def _claim_result(*results):
    return SimpleNamespace(results=[SimpleNamespace(**r) for r in results])


def test_probe_helpers_read_and_perturb_counterexamples():
    cr = _claim_result({"verdict": "verified", "counterexample": {"x": 1}, "method": "a"},
                       {"verdict": "refuted", "counterexample": {"H_diag": [1, 2]}, "method": "b"})
    assert probes.refuting_counterexample(cr) == {"H_diag": [1, 2]}
    assert probes.refuting_counterexample(cr, "a") is None
    assert probes.h_diagonal({"H": [[3, 1], [1, 4]]}).tolist() == [3.0, 4.0]
    rng = np.random.default_rng(0)
    x = np.array([3.0, 4.0])
    j = probes.jitter(x, rng, 1e-3)
    assert 0 < np.linalg.norm(j - x) < 5e-2
    assert np.all(np.abs(probes.jitter_h(x, rng, 1e-3) / x - 1) < 5e-3)
    assert probes.probe_seed(SimpleNamespace(seed=7)) == 7 and probes.probe_seed(object()) == 0


def test_spectral_probe_degenerate_vs_substantive():
    cex = {"H_diag": [1.0, 1.0, 3.0], "u": [1.0, 1.0, 1.0]}

    def repeated_min(p, _cex):  # fails only where the smallest eigenvalue is repeated
        lam = np.sort(np.diag(p.H))
        return lam[0] == lam[1]

    sev = probes.spectral_probe(cex, repeated_min)
    assert sev.severity == "degenerate" and sev.details["repeated_extremes"] == ["smallest"]
    assert probes.spectral_probe(cex, lambda p, c: True).severity == "substantive"


# ----------------------------------------------------------------------------------------------
# scaling_support (orbit fitting)
# ----------------------------------------------------------------------------------------------


def test_orbit_residuals_fit_linear_maps():
    rng = np.random.default_rng(1)
    A = rng.standard_normal(8)
    W = rng.standard_normal((3, 8))  # columns are the iterates w_k
    T = np.array([[2.0, 1, 0], [0, 1, 0], [1, 0, 3]])
    ra, rw = scaling_support.orbit_residuals(A, W, -1.5 * A, T @ W)
    assert ra < 1e-12 and rw < 1e-12
    ra2, rw2 = scaling_support.orbit_residuals(A, W, A**2, np.tanh(W))
    assert ra2 > 1e-2 and rw2 > 1e-2


def test_equivalent_decides_the_scaling_law():
    p = OLSProblem(np.diag([1.0, 2.0]), np.array([1.0, 0.5]))
    cfg = Configuration(p, 0.8, np.array([0.6, -0.4]), 0.7, 0.3, "t")
    e1 = (1, 0)
    # Prop. 3.2(2): {r w0, r^2 eps} is equivalent for r > 0 and not for r < 0 (sign of a0)
    def case(r):
        return scaling_support.ScalingCase(cfg, Fraction(1), Fraction(1), e1, e1, Fraction(r))

    assert scaling_support.equivalent(case(2), "rw").holds
    assert not scaling_support.equivalent(case(-2), "rw").holds
    assert scaling_support.equivalent(case(-2), "rw-corrected").holds


# ----------------------------------------------------------------------------------------------
# trajectories
# ----------------------------------------------------------------------------------------------


def test_trajectory_and_step_quantities_satisfy_eq_11():
    p = OLSProblem(np.diag([1.0, 3.0]), np.array([1.0, 1.0]))
    cfg = Configuration(p, 0.5, np.array([1.0, -0.3]), 0.9, 0.4, "t")
    tr = trajectories.trajectory(cfg, steps=5)
    assert len(tr.a) == len(tr.w) == 6
    q = trajectories.step_quantities(cfg, tr, 2)
    sigma = np.sqrt(q.w @ p.H @ q.w)
    assert q.sigma == pytest.approx(sigma)
    # eq. 11: eps^_k = eps a_k (w_k^T g) / (sigma_k^3)
    assert q.eps_hat == pytest.approx(cfg.eps * q.a * (q.w @ p.g) / sigma**3, rel=1e-12)
    assert q.tol_vec > 0
    assert trajectories.la22_holds(cfg).holds


def test_nets_support_reports_the_torch_back_end():
    from bnverify.nets import torch_available

    assert nets_support.torch_ok() is bool(torch_available())
    assert "pip install" in nets_support.NO_TORCH


# ----------------------------------------------------------------------------------------------
# symbolic.claims_support
# ----------------------------------------------------------------------------------------------


def test_saddle_charpoly_general_and_explicit():
    import sympy as sp

    from bnverify.symbolic import claims_support as cs

    poly, lam = cs.saddle_charpoly()
    assert isinstance(poly, sp.Expr) and poly.has(lam)
    assert cs.explicit_saddle_charpoly_ok(2) and cs.explicit_saddle_charpoly_ok(3)
