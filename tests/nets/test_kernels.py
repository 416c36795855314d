"""The fused 2x2 max-pool + ReLU kernel (bnverify.nets.kernels.pool_relu) against the torch
reference ``relu(max_pool2d(., 2))``: values and gradients equal exactly (not approximately),
first-maximum tie breaking, the ReLU gradient convention at 0, dropped odd rows/columns, NaN and
inf windows, strided inputs, input validation, and gradcheck."""

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402

from bnverify.nets.kernels import pool_relu  # noqa: E402

NAN, INF = float("nan"), float("inf")
SHAPES = [(2, 3, 4, 8, 8), (1, 2, 3, 7, 9), (2, 1, 2, 2, 2), (3, 2, 1, 2, 5), (1, 1, 2, 6, 2),
          (2, 2, 3, 28, 28)]


def _ref(z, swap=False):
    """The torch reference: relu(max_pool2d(., 2)) of every plane, in pool_relu's layout."""
    n_a, n_p, n_q, h, w = z.shape
    r = torch.relu(F.max_pool2d(z.reshape(-1, h, w)[:, None], 2))
    r = r.reshape(n_a, n_p, n_q, h // 2, w // 2)
    return r.transpose(1, 2) if swap else r


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _distinct(shape, dtype=torch.float64, seed=0):
    """Values without ties and away from 0: a random permutation of (k + 0.5) / 8 - n / 16, so
    every two entries differ by >= 1/8 and |entry| >= 1/16 (all exact in float32)."""
    n = 1
    for s in shape:
        n *= s
    k = torch.randperm(n, generator=_gen(seed)).to(dtype)
    return ((k + 0.5) / 8 - n / 16).reshape(shape)


def _value_and_grad(fn, z, swap, g):
    """fn(z, swap) and the gradient of sum(fn(z, swap) * g) with respect to z."""
    z = z.detach().clone().requires_grad_(True)
    out = fn(z, swap)
    (gz,) = torch.autograd.grad((out * g).sum(), z)
    return out.detach(), gz


def _check(z, swap, fn=pool_relu, seed=1):
    """Assert fn(z, swap) and its gradient for a random upstream gradient equal the reference
    exactly (same shape, dtype and bits; NaNs must match NaNs)."""
    out_ref = _ref(z, swap)
    g = torch.randn(out_ref.shape, generator=_gen(seed), dtype=z.dtype)
    out, gz = _value_and_grad(fn, z, swap, g)
    out_r, gz_r = _value_and_grad(_ref, z, swap, g)
    assert out.shape == out_r.shape and out.dtype == out_r.dtype
    assert torch.equal(out, out_r) or bool(((out == out_r) | (out.isnan() & out_r.isnan())).all())
    assert gz.shape == z.shape and torch.equal(gz, gz_r)
    return out, gz


def _windows(rows, dtype=torch.float64):
    """One (1, 1, 1, 2, 2k) plane from k windows given row-major as [v0, v1, v2, v3]."""
    t = torch.tensor(rows, dtype=dtype).reshape(-1, 2, 2)  # (k, 2, 2)
    return t.permute(1, 0, 2).reshape(1, 1, 1, 2, -1).contiguous()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("swap", [False, True])
def test_values_equal_reference(shape, dtype, swap):
    """Forward values equal the reference bit for bit on random normal inputs (about half of
    each plane negative), for odd sizes and H or W = 2, in both layouts; the swapped layout is
    written directly (a contiguous (A, Q, P, ...) tensor, not a transposed view)."""
    z = torch.randn(shape, generator=_gen(sum(shape)), dtype=dtype)
    out = pool_relu(z, swap)
    ref = _ref(z, swap)
    assert out.shape == ref.shape and out.dtype == dtype and out.is_contiguous()
    assert torch.equal(out, ref)
    assert z.requires_grad is False and out.requires_grad is False


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("swap", [False, True])
def test_gradients_equal_reference(shape, dtype, swap):
    """Input gradients for a random upstream gradient equal the reference exactly (a gradient
    element is copied, never computed); an odd last row/column gets exactly 0."""
    z = _distinct(shape, dtype, seed=sum(shape))
    _, gz = _check(z, swap)
    h, w = shape[3], shape[4]
    if h % 2:
        assert bool((gz[..., h - 1, :] == 0).all())
    if w % 2:
        assert bool((gz[..., :, w - 1] == 0).all())
    # every window with a positive maximum passes its gradient to exactly one element
    n_pos = int((_ref(z) > 0).sum())
    assert int((gz != 0).sum()) == n_pos


def test_ties_and_relu_zero_by_hand():
    """Ties go to the first maximal element (row-major), as in F.max_pool2d; windows with a
    maximum <= 0 give 0 and no gradient (ReLU's gradient at 0 is 0)."""
    rows = [
        [2.0, 2.0, 2.0, 2.0],  # all equal, positive -> position 0
        [1.0, 3.0, 0.5, 3.0],  # equal maxima at positions 1 and 3 -> position 1
        [1.0, 0.5, 4.0, 4.0],  # equal maxima at positions 2 and 3 -> position 2
        [-1.0, -2.0, -3.0, -0.5],  # all negative -> 0, no gradient
        [0.0, 0.0, 0.0, 0.0],  # all zero -> 0, no gradient
        [0.0, -1.0, -0.0, -2.0],  # maximum 0 -> 0, no gradient
    ]
    z = _windows(rows)
    g = torch.tensor([10.0, 20.0, 30.0, 40.0, 50.0, 60.0], dtype=torch.float64).reshape(
        1, 1, 1, 1, -1)
    out, gz = _value_and_grad(pool_relu, z, False, g)
    assert out.flatten().tolist() == [2.0, 3.0, 4.0, 0.0, 0.0, 0.0]
    expect = _windows([[10.0, 0, 0, 0], [0, 20.0, 0, 0], [0, 0, 30.0, 0]] + [[0.0] * 4] * 3)
    assert torch.equal(gz, expect)
    _check(z, False)  # and the reference agrees


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("swap", [False, True])
def test_ties_random_equal_reference(dtype, swap):
    """Small-integer inputs (ties and zeros in most windows): values and gradients still equal
    the reference exactly, in both layouts and with odd sizes."""
    z = torch.randint(-2, 3, (2, 3, 2, 7, 9), generator=_gen(5)).to(dtype)
    _check(z, swap)


def test_nan_and_inf_windows():
    """A window holding a NaN is NaN and passes no gradient (wherever the NaN sits); the other
    windows are unaffected.  +inf among finite values is the maximum (gradient to it); -inf among
    finite values is ignored; +inf with -inf in one window is +inf (gradient to it), as in
    torch."""
    rows = [
        [NAN, 1.0, 2.0, 3.0],
        [1.0, 2.0, NAN, -1.0],
        [-1.0, -2.0, -3.0, NAN],
        [1.0, 5.0, 2.0, 3.0],  # ordinary window -> 5 at position 1
        [1.0, INF, 2.0, 3.0],  # -> +inf at position 1
        [-INF, 1.0, 2.0, 0.5],  # -> 2 at position 2
        [-INF, -INF, -INF, -INF],  # -> 0, no gradient
        [INF, 1.0, -INF, 3.0],  # -> +inf at position 0
    ]
    g = torch.arange(1.0, 9.0, dtype=torch.float64).reshape(1, 1, 1, 1, -1)
    for dtype in (torch.float32, torch.float64):
        z = _windows(rows, dtype)
        out, gz = _value_and_grad(pool_relu, z, False, g.to(dtype))
        o = out.flatten().tolist()
        assert all(v != v for v in o[:3])
        assert o[3:] == [5.0, INF, 2.0, 0.0, INF]
        expect = _windows([[0.0] * 4] * 3 + [[0, 4.0, 0, 0], [0, 5.0, 0, 0], [0, 0, 6.0, 0]]
                          + [[0.0] * 4] + [[8.0, 0, 0, 0]], dtype)
        assert torch.equal(gz, expect)
        ref = _ref(z).flatten().tolist()  # the reference agrees on every value
        assert all(v != v for v in ref[:3]) and ref[3:] == o[3:]


@pytest.mark.parametrize("swap", [False, True])
def test_nan_in_random_planes(swap):
    """NaNs scattered in random planes: exactly the windows that hold one are NaN, with zero
    gradient on all four of their elements; every other value and gradient equals the
    reference."""
    z = _distinct((2, 3, 2, 6, 7), seed=3)
    mask = torch.rand(z.shape, generator=_gen(4)) < 0.05
    z[mask] = NAN
    g = torch.randn(_ref(z, swap).shape, generator=_gen(6), dtype=z.dtype)
    out, gz = _value_and_grad(pool_relu, z, swap, g)
    out_r, gz_r = _value_and_grad(_ref, z, swap, g)
    bad = F.max_pool2d(mask.double().reshape(-1, 6, 7)[:, None], 2).reshape(2, 3, 2, 3, 3) > 0
    bad_in = bad.repeat_interleave(2, -2).repeat_interleave(2, -1)  # (…, 6, 6)
    bad_in = F.pad(bad_in, (0, 1))  # the dropped last column holds no window
    bad_out = bad.transpose(1, 2) if swap else bad
    assert bool(bad.any()) and bool((~bad).any())
    assert bool(out[bad_out].isnan().all()) and torch.equal(out[~bad_out], out_r[~bad_out])
    assert bool((gz[bad_in] == 0).all()) and torch.equal(gz[~bad_in], gz_r[~bad_in])


def test_overflowing_finite_values_with_inf():
    """Windows with no NaN: finite values whose sum would overflow, beside an infinity of the
    other sign, are not mistaken for NaN (a NaN test by summing the window got this wrong:
    float32 3e38 + 3e38 = inf, then + -inf = NaN)."""
    z = _windows([[3e38, 3e38, -INF, 1.0], [-3e38, -3e38, INF, 1.0]], torch.float32)
    assert pool_relu(z).flatten().tolist() == _ref(z).flatten().tolist()


@pytest.mark.parametrize("swap", [False, True])
def test_strided_input_and_gradient(swap):
    """A non-contiguous input (a permuted view) gives the values and gradient of its contiguous
    copy, also when the upstream gradient itself arrives as a transposed view."""
    base = _distinct((2, 3, 9, 7, 4), seed=8)
    z = base.permute(0, 1, 4, 3, 2)  # (2, 3, 4, 7, 9), non-contiguous
    assert not z.is_contiguous()
    out, gz = _check(z, swap)
    out_c, gz_c = _check(z.contiguous(), swap)
    assert torch.equal(out, out_c) and torch.equal(gz, gz_c)
    # upstream gradient as a non-contiguous view: loss through a transpose of the output
    zz = z.detach().clone().requires_grad_(True)
    g2 = torch.randn(out.transpose(1, 2).shape, generator=_gen(9), dtype=z.dtype)
    (gk,) = torch.autograd.grad((pool_relu(zz, swap).transpose(1, 2) * g2).sum(), zz)
    (gr,) = torch.autograd.grad((_ref(zz, swap).transpose(1, 2) * g2).sum(), zz)
    assert torch.equal(gk, gr)
    # a 4-d transposed view made 5-d
    v = torch.randn(7, 9, 3, 4, generator=_gen(10)).transpose(0, 3)[None]  # (1, 4, 9, 3, 7)
    assert not v.is_contiguous()
    assert torch.equal(pool_relu(v, swap), pool_relu(v.contiguous(), swap))


@pytest.mark.parametrize("bad", [
    torch.zeros(3, 4, 6, 6),  # 4-d
    torch.zeros(1, 2, 3, 4, 6, 6),  # 6-d
    torch.zeros(1, 2, 3, 4, 4, dtype=torch.int64),
    torch.zeros(1, 2, 3, 4, 4, dtype=torch.int32),
    torch.zeros(1, 2, 3, 4, 4, dtype=torch.float16),
    torch.zeros(1, 2, 3, 4, 4, device="meta"),  # not on the CPU
])
def test_input_validation(bad):
    """Anything but a 5-d CPU float32/float64 tensor raises TypeError, in both layouts."""
    for swap in (False, True):
        with pytest.raises(TypeError):
            pool_relu(bad, swap)


@pytest.mark.parametrize("swap", [False, True])
def test_gradcheck(swap):
    """torch.autograd.gradcheck (finite differences) in float64 on tie-free inputs with entries
    >= 1/16 apart and away from 0, odd sizes included."""
    z = _distinct((1, 2, 3, 4, 5), seed=11).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: pool_relu(t, swap), (z,), eps=1e-6, atol=1e-9)


def _last_max_variant(z, swap):
    """A wrong kernel: ties go to the last maximal element (flipping both spatial dims of an
    even plane maps windows onto windows and reverses their row-major order)."""
    return _ref(z.flip(-1, -2), swap).flip(-1, -2)


def _no_relu_variant(z, swap):
    """A wrong kernel: the plain max, without the ReLU."""
    n_a, n_p, n_q, h, w = z.shape
    r = F.max_pool2d(z.reshape(-1, h, w)[:, None], 2).reshape(n_a, n_p, n_q, h // 2, w // 2)
    return r.transpose(1, 2) if swap else r


@pytest.mark.parametrize("swap", [False, True])
def test_check_detects_wrong_variants(swap):
    """The comparison helper is not vacuous: it rejects a last-maximum tie rule (values equal,
    only the gradient differs) and a missing ReLU, on inputs where the true kernel passes."""
    ties = torch.randint(-2, 3, (2, 3, 2, 6, 8), generator=_gen(12)).double()
    assert torch.equal(_last_max_variant(ties, swap), _ref(ties, swap))  # same values
    _check(ties, swap)
    with pytest.raises(AssertionError):
        _check(ties, swap, fn=_last_max_variant)
    z = torch.randn(2, 3, 2, 6, 8, generator=_gen(13), dtype=torch.float64)
    _check(z, swap)
    _check(z, swap, fn=_last_max_variant)  # no ties: the variant is right here
    with pytest.raises(AssertionError):
        _check(z, swap, fn=_no_relu_variant)
