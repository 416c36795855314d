"""Every symbolic check can fail: a mutated printed formula (flipped sign, wrong exponent, wrong
value) fed into the comparison is refuted with an exact counterexample (claim IDs as in CLAIMS.md).
"""

from __future__ import annotations

import pytest
import sympy as sp

from bnverify.symbolic import algebra as A
from bnverify.symbolic.derivation import Block, run

a, sigma, y, nu, c, eps, eps_a = A.a, A.sigma, A.y, A.nu, A.c, A.eps, A.eps_a
g, w, u, Hw = A.g, A.w, A.u, A.Hw
lmin, lmax, kappa = sp.symbols("lambda_min lambda_max kappa", positive=True)
rho = sp.Symbol("rho", positive=True)
i = sp.Idx("i")
dd = sp.Symbol("d", positive=True, integer=True)
L, C = sp.IndexedBase("lambda"), sp.IndexedBase("c")
s_ = sp.Symbol("s", positive=True)
xHx, xHu = A.invariant("x", 1, "x"), A.invariant("u", 1, "x")
e_ = u - w * (y / sigma**2)

MUTATIONS = {
    # ID: (name of the printed formula, mutated value, what was changed)
    "S2.GD-step": ("interval", sp.Interval.open(0, 2 / lmax**2), "wrong exponent"),
    "S2.GD-rate": (
        "termwise",
        sp.Sum((rho**2 + (1 - eps * L[i]) ** 2) * C[i] ** 2, (i, 1, dd)),
        "flipped sign",
    ),
    "S2.GD-opt": ("rate", (kappa - 1) / (kappa + 1) ** 2, "wrong exponent"),
    "S2.BN-objective": ("J", c / 2 + y / sigma * a + a**2 / 2, "flipped sign"),
    "S2.trivial-saddles": ("grad_w", g * (-a / sigma) + Hw, "nonzero gradient"),
    "S2.minimizers": ("a* (s>0)", -sp.sqrt(nu), "flipped sign"),
    "S2.degenerate": ("kernel", u * 1, "nonzero H u"),
    "S2.strict": ("negative eigenvalue", sp.false, "negated"),
    "S3.eff-step": ("eff step", eps * (a / sigma) * (y / sigma**3), "wrong exponent"),
    "S3.recurrence": (
        "right side",
        (e_ + e_.H() * (eps * a * y / sigma**3)).simplify(),
        "flipped sign",
    ),
    "S3.Hstar-psd": ("H*u", g * 1, "wrong kernel"),
    "E17-18": ("grad_w J", g * (-a / sigma) - Hw * (a * y / sigma**3), "flipped sign"),
    "E19-21": (
        "A22",
        (
            A.Mat.H() * y
            + A.Mat.outer(Hw, g)
            + A.Mat.outer(g, Hw)
            - A.Mat.outer(Hw, Hw) * (3 * y / sigma**2)
        )
        * (a / sigma**5),
        "wrong exponent",
    ),
    "E25": ("quadratic form", xHx + xHu**2 / nu, "flipped sign"),
    "E26": ("x^T H* x", xHx - xHu**2 / nu**2, "wrong exponent"),
    "E40": ("right side", w.dot(w) - eps**2 * a**2 / sigma**2 * e_.H().dot(e_.H()), "flipped sign"),
    "E70": ("right side", e_.hdot(e_) - (a - y / sigma) ** 2, "flipped sign"),
    "E81": ("MBNGD", w + (g - Hw * (y / sigma**2)) * (eps * y / sigma**3), "wrong exponent"),
}


@pytest.mark.parametrize("cid", sorted(MUTATIONS))
def test_mutated_printed_formula_is_refuted(cid):
    name, value, what = MUTATIONS[cid]
    rec = run(cid, overrides={name: value}, cross_checks=False)
    assert rec.verdict == "refuted", (cid, what, rec.evidence)
    assert rec.counterexample is not None
    bad = [cmp.name for cmp in rec.comparisons if cmp.role == "printed" and not cmp.zero]
    assert bad, cid


def test_corrected_forms_make_refuted_comparisons_vanish():
    """For the refuted claims, the derived correction fed as the printed form compares equal."""
    mu = sp.Symbol("mu", positive=True)
    gam = sp.Symbol("gamma", nonzero=True, real=True)
    rec = run(
        "P3.2-1",
        overrides={
            "u scale (main)": sp.Abs(gam) / sp.sqrt(mu),
            "u scale (appendix)": sp.Abs(gam) / sp.sqrt(mu),
        },
        cross_checks=False,
    )
    assert all(cmp.zero for cmp in rec.comparisons if cmp.role == "printed")
    d_ = sp.Symbol("d", positive=True, integer=True)
    rec = run("A1.saddle-eigs", overrides={"zero multiplicity": d_ - 1}, cross_checks=False)
    assert all(cmp.zero for cmp in rec.comparisons if cmp.role == "printed")
    Hst = A.Mat.H() - A.Mat.outer(g, g) / nu
    rec = run(
        "S3.Hstar",
        overrides={"Hessian at minimizer": Block(sp.Integer(1), A.Vec(), Hst / s_**2)},
        cross_checks=False,
    )
    assert all(cmp.zero for cmp in rec.comparisons if cmp.role == "printed")


def test_corrected_forms_for_the_other_refuted_claims():
    """E16, P3.2-2, L-A.9, E22-23: the derived correction, fed as the printed form, compares equal
    (so the refutation comes from the printed formula, not from the comparison machinery)."""
    from bnverify.symbolic import objective as O

    Jq = O.objective_quadratic()
    rec = run("E16", overrides={"J (16) as J (7)": Jq + (c - nu) / 2}, cross_checks=False)
    assert all(cmp.zero for cmp in rec.comparisons if cmp.role == "printed")
    r = sp.Symbol("r", nonzero=True, real=True)
    rec = run("P3.2-2", overrides={"t": sp.sign(r)}, cross_checks=False)
    assert all(cmp.zero for cmp in rec.comparisons if cmp.role == "printed")
    f = sp.Function("f")
    Zs = A.invariant("w", 0, "x")
    from bnverify.symbolic.objective import Y

    rec = run(
        "L-A.9", overrides={"negative r integrand": f(Y, -a * Zs / sigma)}, cross_checks=False
    )
    assert all(cmp.zero for cmp in rec.comparisons if cmp.role == "printed")
    Hst = A.Mat.H() - A.Mat.outer(g, g) / nu
    rec = run(
        "E22-23",
        overrides={"Hessian at minimizer": Block(sp.Integer(1), A.Vec(), Hst / s_**2)},
        cross_checks=False,
    )
    assert all(cmp.zero for cmp in rec.comparisons if cmp.role == "printed")
