"""OLSProblem: derived quantities, residuals from vectors, validation errors (one line, named field)."""

import numpy as np
import pytest

from bnverify import BNVerifyError, OLSProblem
from bnverify.model import h_star, spectral_radius


def test_derived_quantities_diag():
    p = OLSProblem.from_diagonal([1.0, 4.0, 9.0], [1.0, -1.0, 2.0], noise=0.5)
    assert p.kappa == 9.0
    assert p.eps_opt == pytest.approx(0.2)
    np.testing.assert_allclose(p.g, [1.0, -4.0, 18.0])
    assert p.c == pytest.approx(1 + 4 + 36 + 0.5)
    # H* u = 0 (Eq. 14) and H* is PSD with one zero eigenvalue
    np.testing.assert_allclose(p.h_star() @ p.u, 0, atol=1e-12)
    lam = p.h_star_eigenvalues()
    assert abs(lam[0]) < 1e-12 and lam[1] > 0


def test_losses_and_residuals_agree_with_expectation_form():
    rng = np.random.default_rng(1)
    d = 5
    A = rng.standard_normal((d, d))
    H = A @ A.T + d * np.eye(d)
    u = rng.standard_normal(d)
    p = OLSProblem(H, u, noise=0.3)
    w = rng.standard_normal(d)
    a = 0.7
    sigma = np.sqrt(w @ H @ w)
    # Eq. 7 closed form: c/2 - a w^T g / sigma + a^2 / 2
    closed = 0.5 * p.c - a * (w @ p.g) / sigma + 0.5 * a * a
    assert p.loss_bn(a, w) == pytest.approx(closed, rel=1e-12)
    # Eq. 2: J0 = c/2 - w^T g + w^T H w / 2
    assert p.loss_gd(w) == pytest.approx(0.5 * p.c - w @ p.g + 0.5 * w @ H @ w, rel=1e-12)
    # q = u^T H u - (w^T g)^2 / sigma^2 (Eq. 35), computed from the vector e
    q_scalar = u @ H @ u - (w @ p.g) ** 2 / sigma**2
    assert p.q(w) == pytest.approx(q_scalar, rel=1e-10)
    # E70 split: ||e~||_H^2 = ||e||_H^2 + (a - w^T g / sigma)^2
    et2 = p.norm_H(p.e_tilde(a, w)) ** 2
    assert et2 == pytest.approx(p.q(w) + (a - (w @ p.g) / sigma) ** 2, rel=1e-12)


def test_q_from_vectors_has_no_cancellation_near_convergence():
    p = OLSProblem.from_diagonal(np.logspace(0, 4, 20), np.ones(20))
    w = 3.0 * p.u
    w[0] += 1e-9  # tiny departure from the minimiser direction
    q_vec = p.q(w)
    sigma2 = w @ p.H @ w
    q_cancel = p.u @ p.H @ p.u - (w @ p.g) ** 2 / sigma2
    # exact value ~ 1e-19; the scalar formula loses it in rounding (~1e-12 absolute)
    assert 0 < q_vec < 1e-17
    assert abs(q_cancel - q_vec) > 1e3 * q_vec


def test_spectral_radius_vectorised():
    lam = np.array([1.0, 3.0])
    np.testing.assert_allclose(spectral_radius(np.array([0.5, 1.0]), lam), [0.5, 2.0])
    assert spectral_radius(0.5, lam) == 0.5


def test_h_star_function_matches_method():
    p = OLSProblem.from_diagonal([1.0, 2.0], [1.0, 1.0])
    np.testing.assert_allclose(h_star(p.H, p.u), p.h_star())


@pytest.mark.parametrize(
    "H, u, field",
    [
        ([[1.0, 2.0], [0.0, 1.0]], [1.0, 1.0], "H: not symmetric"),
        ([[1.0, 0.0], [0.0, -1.0]], [1.0, 1.0], "H: not positive definite"),
        ([[1.0, 0.0], [0.0, 0.0]], [1.0, 1.0], "H: not positive definite"),
        ([[1.0, 0.0], [0.0, np.nan]], [1.0, 1.0], "H: contains NaN"),
        ([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], [1.0, 1.0], "H: must be a square"),
        ([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0, 1.0], "u: length 3"),
        ([[1.0, 0.0], [0.0, 1.0]], [1.0, np.inf], "u: contains NaN"),
        ([[1.0, 0.0], [0.0, 1.0]], ["x", 1.0], "u: cannot read"),
    ],
)
def test_validation_errors_name_the_field(H, u, field):
    with pytest.raises(BNVerifyError) as info:
        OLSProblem(np.array(H, dtype=object) if isinstance(u[0], str) else H, u)
    msg = str(info.value)
    assert msg.startswith(field)
    assert "\n" not in msg


def test_spd_tolerance_scales_with_norm():
    # dense H: a small eigenvalue relative to the norm is rejected only below d * eps * ||H||
    # (its sign is not determined by float64 data); scaling H by 1e20 changes nothing
    c, s = np.cos(0.3), np.sin(0.3)
    Q = np.array([[c, -s], [s, c]])
    OLSProblem((Q * [1.0, 1e-10]) @ Q.T, [1.0, 1.0])
    OLSProblem(1e20 * (Q * [1.0, 1e-10]) @ Q.T, [1.0, 1.0])
    with pytest.raises(BNVerifyError, match="not positive definite"):
        OLSProblem((Q * [1.0, 1e-17]) @ Q.T, [1.0, 1.0])
    # diagonal H: the eigenvalues are the entries, exactly, so any positive entry is accepted
    assert OLSProblem(np.diag([1.0, 1e-17]), [1.0, 1.0]).kappa == 1e17


def test_noise_validation():
    with pytest.raises(BNVerifyError, match="noise"):
        OLSProblem.from_diagonal([1.0], [1.0], noise=-1.0)
