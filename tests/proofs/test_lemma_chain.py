"""bnverify.lemma_chain: the decision through Lemmas A.12 / A.12s / A.13 can fail, a doctored
lemma is refuted by its own conclusion, and the certified (Arb) hypothesis checks agree with an
independent 100-digit mpmath evaluation on the recorded (K, state)."""

import mpmath
import numpy as np
import pytest

from bnverify import lemma_chain as lc
from bnverify.convergence import random_problem
from bnverify.model import OLSProblem
from proofs.sec3_2_convergence import draw_t33_batch

pytest.importorskip("flint")

P = OLSProblem.from_diagonal([1.0, 3.0, 10.0], [0.6, 0.0, 0.8])


def test_hypothesis_violated_at_every_K_is_not_decided():
    # eps_a = 2.5 is outside (0, 2) (and (0, 1]): (H0) of Lemmas A.12/A.12s/A.13 fails at
    # every K (a_k then grows without bound, Lemma A.10 needs eps_a < 2)
    recs = lc.decide_batch(P, a0=np.array([1.0, 0.5]), w0=np.array([[1.0, 0.2, 0.3]] * 2),
                           eps=np.array([1e-3, 10.0]), eps_a=np.array([2.5, 2.5]),
                           max_steps=500)
    assert not any(r["decided"] for r in recs)
    assert all("not met" in r["reason"] for r in recs)
    # a0 = 0, w0 orthogonal to g: a fixed saddle; a_K y_K = 0 at every K, so (H1) never holds
    # and A.12 / A.12s never decide it (only A.13, whose conclusion is "converges")
    w0 = np.array([[0.0, 1.0, 0.0]])
    s = lc.scan(P, a0=np.array([0.0]), w0=w0, eps=np.array([1e-3]), eps_a=np.array([1.0]),
                max_steps=500)
    assert s["K"][0] == -1 and s["K_A13"][0] == 0
    rec = lc.decide_batch(P, a0=np.array([0.0]), w0=w0, eps=np.array([1e-3]),
                          eps_a=np.array([1.0]), max_steps=500)[0]
    assert rec["decided"] and rec["lemma"] == lc.A13 and rec["conclusion"] == "stationary"


def _draws(seed, n=200):
    rng = np.random.default_rng(seed)
    p = random_problem(rng, (2, 5), 30.0)
    x = draw_t33_batch(rng, n, p.d, log_eps_eff=(-1.0, 1.5), lambda_max=p.lambda_max,
                       eps_a=(0.3, 1.0))
    return p, x


def _state_at(p, x, K):
    """float64 states at the per-configuration steps K (K >= 0)."""
    A, W = x["a0"].copy(), x["w0"].copy()
    outA, outW = A.copy(), W.copy()
    for k in range(int(K.max()) + 1):
        at = K == k
        outA[at], outW[at] = A[at], W[at]
        A, W = lc.step(p, "bngd", A, W, x["eps"], x["eps_a"])
    return outA, outW


def test_doctored_lemma_constant_10x_refuted_by_its_conclusion():
    p, x = _draws(3)
    kw = dict(a0=x["a0"], w0=x["w0"], eps=x["eps"], eps_a=x["eps_a"], max_steps=3000)
    true = lc.scan(p, **kw)
    bad = lc.scan(p, doctor=10.0, **kw)
    ok_t, ok_b = true["K"] >= 0, bad["K"] >= 0
    At, Wt = _state_at(p, x, np.where(ok_t, true["K"], 0))
    Ab, Wb = _state_at(p, x, np.where(ok_b, bad["K"], 0))
    v_true = lc.conclusion_violated(p, a=At, w=Wt, eps=x["eps"], eps_a=x["eps_a"]) & ok_t
    v_bad = lc.conclusion_violated(p, a=Ab, w=Wb, eps=x["eps"], eps_a=x["eps_a"]) & ok_b
    assert not v_true.any()  # the lemma as derived: its conclusion holds from K on
    assert v_bad.any()  # the doctored lemma: some run violates "q_k non-increasing, signs kept"
    j = int(np.flatnonzero(v_bad)[0])
    # and that configuration's doctored hypotheses are certified at its K: the refutation is of
    # the doctored lemma, not of an uncertain state
    c = lc.certify_at(p, a0=x["a0"][j], w0=x["w0"][j], eps=x["eps"][j], eps_a=x["eps_a"][j],
                      K=int(bad["K"][j]), lemmas=(lc.A12S, lc.A12), doctor=10.0)
    assert c.certified


def _mp_hypotheses(p, a0, w0, eps, eps_a, K, dps=100):
    """Independent 100-digit evaluation: the BNGD iteration Eq. (9)-(10) in mpmath from the exact
    doubles, then the hypotheses of the lemmas (mpmath.eigsy for the extreme eigenvalues)."""
    with mpmath.workdps(dps):
        d = p.d
        H = [[mpmath.mpf(float(v)) for v in row] for row in p.H]
        u = [mpmath.mpf(float(v)) for v in p.u]
        g = [mpmath.fsum(H[i][j] * u[j] for j in range(d)) for i in range(d)]
        a = mpmath.mpf(float(a0))
        w = [mpmath.mpf(float(v)) for v in w0]
        e, ea = mpmath.mpf(float(eps)), mpmath.mpf(float(eps_a))
        for _ in range(K):
            Hw = [mpmath.fsum(H[i][j] * w[j] for j in range(d)) for i in range(d)]
            y = mpmath.fsum(wi * gi for wi, gi in zip(w, g, strict=True))
            s2 = mpmath.fsum(wi * hi for wi, hi in zip(w, Hw, strict=True))
            sig = mpmath.sqrt(s2)
            w = [wi + e * a / sig * (gi - y / s2 * hi) for wi, gi, hi in zip(w, g, Hw, strict=True)]
            a = a + ea * (y / sig - a)
        lam = mpmath.eigsy(mpmath.matrix(H), eigvals_only=True)
        lam = sorted(lam[i] for i in range(d))
        C2 = mpmath.fsum(ui * gi for ui, gi in zip(u, g, strict=True))
        Hs = mpmath.matrix([[H[i][j] - g[i] * g[j] / C2 for j in range(d)] for i in range(d)])
        ls = max(mpmath.eigsy(Hs, eigvals_only=True))
        return lc.hypotheses(a, w, eps=e, eps_a=ea, H=H, u=u, lam_min=lam[0], lam_max=lam[-1],
                             sqrt=mpmath.sqrt, lam_star=ls)


def test_certified_hypotheses_agree_with_100_digit_mpmath():
    rng = np.random.default_rng(11)
    n_checked = 0
    for i in range(3):
        p = random_problem(rng, (2, 5), 30.0, dense=(i == 2))
        x = draw_t33_batch(rng, 60, p.d)
        recs = lc.decide_batch(p, a0=x["a0"], w0=x["w0"], eps=x["eps"], eps_a=x["eps_a"],
                               max_steps=3000)
        for j, r in enumerate(recs):
            if not r["decided"] or n_checked >= 17 * (i + 1):
                continue
            args = dict(a0=x["a0"][j], w0=x["w0"][j], eps=x["eps"][j], eps_a=x["eps_a"][j],
                        K=r["K"])
            hb = lc.certified_hypotheses(p, bits=r["bits"], **args)
            hm = _mp_hypotheses(p, **args)
            for key in ("sign", "r_A12", "r_A12s", "a_interval", "h5", "r_A12c"):
                ball, val = hb[key], hm[key]
                lo, hi = float(ball.lower()), float(ball.upper())
                v = float(val)
                slack = 1e-15 * abs(v)  # float conversion of the ends
                assert lo - slack <= v <= hi + slack, (key, lo, v, hi)
            # the lemma proved on the balls holds for the 100-digit values too
            assert lc.holds(hm, r["lemma"])
            m = lc.margins(hm, r["lemma"])
            for k, v in r["margins"].items():
                assert v <= m[k] + 1e-12 * max(1.0, abs(m[k]))
            n_checked += 1
    assert n_checked >= 50


def test_a12c_decisions_keep_their_conclusion_and_need_the_compression():
    """Lemma A.12c (contraction on H*) decides runs whose effective step stays above
    2/lambda_max; from the decided K on, q_k is non-increasing and the signs are kept (float64,
    2000 steps), and those runs are outside A.12s (r_A12s >= 1 at K)."""
    rng = np.random.default_rng(1)
    p = random_problem(rng, (2, 5), 30.0)
    x = draw_t33_batch(rng, 200, p.d, log_eps_eff=(0.0, 1.5), lambda_max=p.lambda_max,
                       eps_a=(0.3, 1.0))
    s = lc.scan(p, a0=x["a0"], w0=x["w0"], eps=x["eps"], eps_a=x["eps_a"], max_steps=5000)
    c = s["lemma"] == lc.A12C
    assert c.sum() >= 20
    A, W = _state_at(p, x, np.where(c, s["K"], 0))
    _, _, r12s, _, rc, _ = lc._float_eval(p, A[c], W[c], x["eps"][c], x["eps_a"][c])
    assert np.all(rc < 1) and np.all(r12s >= 1 - 1e-6)
    v = lc.conclusion_violated(p, a=A[c], w=W[c], eps=x["eps"][c], eps_a=x["eps_a"][c],
                               steps=2000)
    assert not v.any()
    j = int(np.flatnonzero(c)[0])
    cert = lc.certify_at(p, a0=x["a0"][j], w0=x["w0"][j], eps=x["eps"][j], eps_a=x["eps_a"][j],
                         K=int(s["K"][j]), lemmas=(lc.A12C,))
    assert cert.certified and cert.margins["bound"] > 0 and cert.margins["h5"] > 0
