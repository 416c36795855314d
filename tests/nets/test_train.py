"""The batched trainer against the one-model loop, Lemma A.9 on networks (L-A.9), and the claim
checks of proofs/sec4_2_networks.py and proofs/appA2_scaling.py fed deliberately wrong variants
(each must fail)."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bnverify.errors import BNVerifyError  # noqa: E402
from bnverify.nets import networks as N  # noqa: E402
from bnverify.nets.data import load_embedded  # noqa: E402
from bnverify.nets.experiments import Fig3Panel, run_a9, summarise_curve  # noqa: E402
from bnverify.nets.train import (  # noqa: E402
    epoch_orders,
    resolve_device,
    stack,
    train_batched,
    train_single,
)
from proofs import appA2_scaling as a2  # noqa: E402
from proofs import sec4_2_networks as s42  # noqa: E402


def _data(n=200, dtype=torch.float64):
    x, y = load_embedded("mnist").subset(n).as_float()
    return torch.as_tensor(x, dtype=dtype), torch.as_tensor(y)


@pytest.mark.parametrize("make", [N.one_fc, lambda: N.two_cnn_two_fc(channels=(2, 3), hidden=8)])
def test_vmap_trainer_matches_plain_loop(make):
    """Two models (different seeds, data orders and rates) trained together equal two plain
    autograd loops.  float64, to 1e-12 relative (rounding 1e-16 per operation over 2 epochs of
    2 steps): the conv net trains through networks.loss_stacked on a CPU (vmap's grouped
    convolution elsewhere), whose im2col/matmul, BN folded through the patch covariance and fused
    BN sum in another order; the one-layer net runs the same operations batched and one model at a
    time, but a batched and a plain matmul may block their sums differently (bit-identical with
    MKL's default AVX-512 path, 1 ulp apart under MKL_CBWR=COMPATIBLE), so no BLAS result is
    compared exactly."""
    spec = make()
    x, y = _data()
    p = [N.glorot_init(spec, s, torch.float64) for s in (0, 1)]
    orders = np.stack([epoch_orders(s, 200, epochs=2) for s in (0, 1)])
    lw, lb = np.array([0.3, 2.0]), np.array([0.1, 0.05])
    res = train_batched(spec, x, y, stack(p), lw, lb, orders)
    for m in range(2):
        ref = train_single(spec, x, y, p[m], lw[m], lb[m], orders[m])
        np.testing.assert_allclose(res.step_loss[m], ref.step_loss[0], rtol=1e-12)
        np.testing.assert_allclose(res.final_loss[m], ref.final_loss[0], rtol=1e-12)


def test_grouped_path_matches_plain_loop():
    """Models sharing a minibatch order (a sweep's learning rates for one seed) take the nested
    vmap path (one wide first layer per group); 2 groups x 2 rates equal 4 plain loops to 1e-12
    relative in float64 (the wide matmul/convolution may block its sums differently)."""
    spec = N.two_cnn_two_fc(channels=(2, 3), hidden=8)
    x, y = _data()
    seeds = [0, 0, 1, 1]
    p = [N.glorot_init(spec, s, torch.float64) for s in seeds]
    orders = np.stack([epoch_orders(s, 200) for s in seeds])
    from bnverify.nets.train import shared_order_groups

    assert [g.tolist() for g in shared_order_groups(orders)] == [[0, 1], [2, 3]]
    lw, lb = np.array([0.3, 3.0, 0.3, 3.0]), np.array([0.1, 3.0, 0.1, 0.1])
    res = train_batched(spec, x, y, stack(p), lw, lb, orders)
    for m in range(4):
        ref = train_single(spec, x, y, p[m], lw[m], lb[m], orders[m])
        np.testing.assert_allclose(res.step_loss[m], ref.step_loss[0], rtol=1e-12)
        np.testing.assert_allclose(res.final_loss[m], ref.final_loss[0], rtol=1e-12)


def test_divergence_is_a_result():
    spec = N.one_fc(bn=False)
    x, y = _data(dtype=torch.float32)
    p = stack([N.glorot_init(spec, 0)] * 2)
    res = train_batched(spec, x, y, p, np.array([0.1, 1e30]), np.zeros(2),
                        np.stack([epoch_orders(0, 200)] * 2))
    assert np.isfinite(res.final_loss[0]) and res.final_loss[1] == np.inf or \
        res.final_loss[1] > 1.0  # softmax saturates: the loss is bounded but bad


def test_lemma_a9_scaling_exact_with_eps0():
    """L-A.9: r w0 with lr r^2 and BN eps = 0 gives the same loss at every step: bit-identical
    for powers of two (exact in binary floating point), to 1e-13 for r = 10, 0.1 (float64
    rounding over 4 steps)."""
    res = run_a9([1.0, 4.0, 0.25, 10.0, 0.1], 0.0, steps=4, n_train=200, channels=(2, 3),
                 hidden=8)
    dev = res.max_abs_deviation()
    assert dev[1] == 0.0 and dev[2] == 0.0
    assert dev[3] < 1e-13 and dev[4] < 1e-13
    wrong = run_a9([1.0, 4.0], 0.0, steps=4, n_train=200, channels=(2, 3), hidden=8,
                   lr_power=1.0)
    assert wrong.max_abs_deviation()[1] > 1e-3


def test_lemma_a9_eps_deviation_grows_as_r_shrinks():
    res = run_a9([100.0, 1.0, 0.1, 0.01], 1e-3, steps=4, n_train=200, net="1fc")
    dev = res.max_abs_deviation()[1:]
    assert np.all(np.diff(dev) > 0) and dev[0] < 1e-2 < dev[-1]


def test_check_a9_and_its_wrong_variant():
    """As printed (r != 0) the check refutes at r < 0 (BN(r z) = -BN(z)) and verifies the
    correction (negated BN scales); every r > 0 agrees.  The wrong scaling lr ~ r (instead of
    r^2) is caught at r > 0."""
    res = a2.a9_experiment("quick", 0)
    good = a2.verdict_a9(res)
    assert max(res["deviation"]) <= a2.A9_TOL
    assert good.verdict == "refuted" and good.counterexample["r"] < 0
    assert good.correction is not None and good.correction.verdict == "verified"
    bad = a2.verdict_a9(a2.a9_experiment("quick", 0, lr_power=1.0))
    assert bad.verdict == "refuted" and bad.counterexample["r"] > 0
    assert bad.counterexample["lr_power"] == 1.0 and bad.correction is None


def test_check_f2_fails_on_wrong_scaling():
    assert s42.verdict_f2(s42.f2_experiment("quick", 0)).verdict == "verified"
    bad = s42.verdict_f2(s42.f2_experiment("quick", 0, power=1.0))
    assert bad.verdict == "refuted" and "do not collapse" in bad.evidence


def _panel(net, gd, bngd, sep, init=2.3, lrs=(0.01, 0.1, 1, 10, 100, 1000)):
    lrs = np.array(lrs, float)
    losses = {m: np.array(v, float)[:, None] for m, v in
              (("gd", gd), ("bngd", bngd), ("bngd_sep", sep))}
    p = Fig3Panel("fashion" if net != "1fc" else "mnist", net, "test", 100, lrs, [0], losses,
                  init, 1, 0.1, 0.0)
    p.summary = {m: summarise_curve(lrs, v, init, 1) for m, v in losses.items()}
    return p


INF = np.inf


def test_check_f3_claims_can_fail():
    shallow = _panel("1fc", [2, 1.0, 0.9, 3, INF, INF], [2, 0.9, 0.8, 2.5, INF, INF],
                     [2, 0.9, 0.8, 0.8, 0.85, 0.9])
    deep = _panel("2cnn2fc", [2.2, 2.0, 1.9, 3, INF, INF], [1.9, 1.2, 1.1, 2.5, INF, INF],
                  [1.9, 1.2, 1.1, 1.15, 1.2, 1.3])
    assert s42.verdict_f3_claims((shallow, deep)).verdict == "verified"
    # separate-lr BNGD that diverges as early as GD: "much larger range" fails
    deep_bad = _panel("2cnn2fc", [2.2, 2.0, 1.9, 3, INF, INF], [1.9, 1.2, 1.1, 2.5, INF, INF],
                      [1.9, 1.2, 1.1, 3.0, INF, INF])
    r = s42.verdict_f3_claims((shallow, deep_bad))
    assert r.verdict == "refuted" and "fashion:sep_stable_much_larger" in r.evidence
    # BN helping the deep net no more than the shallow one: gain comparison fails
    deep_nogain = _panel("2cnn2fc", [1.9, 1.2, 1.1, 3, INF, INF], [1.9, 1.2, 1.1, 2.5, INF, INF],
                         [1.9, 1.2, 1.1, 1.15, 1.2, 1.3])
    r = s42.verdict_f3_claims((shallow, deep_nogain))
    assert r.verdict == "refuted" and "bn_gain_deep_gt_shallow" in r.evidence


def test_check_f3_can_fail():
    ok = _panel("1fc", [2, 1.0, 0.9, 3, INF, INF], [2, 0.9, 0.8, 2.5, INF, INF],
                [2, 0.9, 0.8, 0.8, 0.85, 0.9])
    assert s42.verdict_f3((ok,), []).verdict == "verified"
    flat = _panel("1fc", [2.3] * 6, [2, 0.9, 0.8, 2.5, INF, INF], [2, 0.9, 0.8, 0.8, 0.85, 0.9])
    assert s42.verdict_f3((flat,), []).verdict == "refuted"
    mismatch = [{"batched": 1.0, "single": 1.1}]
    assert s42.verdict_f3((ok,), mismatch).verdict == "refuted"


def test_checks_inconclusive_without_torch(monkeypatch):
    from bnverify.claims import CheckContext

    monkeypatch.setattr(a2, "torch_ok", lambda: False)
    monkeypatch.setattr(s42, "torch_ok", lambda: False)
    for fn in (a2.check_a9, s42.check_f2, s42.check_f3, s42.check_f3_claims):
        r = fn(CheckContext())
        assert r.verdict == "skipped" and "torch not installed" in r.evidence


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(BNVerifyError, match="no CUDA"):
            resolve_device("cuda")


def test_sweep_strategies_agree():
    """A Fig. 3 sweep gives the same losses batched (vmap) or one model at a time (float64,
    1e-12 relative: only the summation order of the wide first layer differs)."""
    from bnverify.nets.train import pick_strategy, sweep

    spec = N.two_cnn_two_fc(channels=(2, 3), hidden=8)
    x, y = _data()
    kw = dict(lrs=[0.1, 10.0], seeds=[0, 1], lr_a=0.1)
    a = sweep(spec, x, y, strategy="vmap", **kw)
    b = sweep(spec, x, y, strategy="loop", **kw)
    for m in a:
        np.testing.assert_allclose(a[m], b[m], rtol=1e-12)
    assert pick_strategy(spec, torch.device("cpu")) == "vmap"
    assert pick_strategy(N.one_fc(), torch.device("cpu")) == "vmap"
    with pytest.raises(BNVerifyError, match="strategy"):
        sweep(spec, x, y, strategy="threads", **kw)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_cpu_and_gpu_agree():
    """The same small sweep on CPU and GPU (float64): equal to 1e-9 relative (different
    kernels and summation orders; a few SGD steps amplify rounding 1e-16 by far less)."""
    from bnverify.nets.train import sweep

    spec = N.two_cnn_two_fc(channels=(2, 3), hidden=8)
    x, y = _data()
    kw = dict(lrs=[0.1, 10.0], seeds=[0], lr_a=0.1)
    a = sweep(spec, x, y, **kw)
    b = sweep(spec, x.cuda(), y.cuda(), **kw)
    for m in a:
        np.testing.assert_allclose(a[m], b[m], rtol=1e-9)


def _stacked_vs_plain(spec, sparse: bool):
    """Losses and gradients of 4 models in 2 input groups through :func:`networks.loss_stacked`
    and through each model's plain :func:`networks.loss` (float64): (values, grads, refs)."""
    gen = torch.Generator().manual_seed(0)
    ps = [N.glorot_init(spec, s, torch.float64) for s in range(4)]
    for p in ps:
        for k in p:
            p[k] = p[k] + 0.1 * torch.randn(p[k].shape, generator=gen, dtype=torch.float64)
    x = torch.randn(2, 10, *spec.in_shape, generator=gen, dtype=torch.float64)
    if sparse:  # MNIST-like: mostly exact zeros, so many pooling windows tie (all-zero patches)
        x = x.clamp_min(0.0) * (torch.rand(x.shape, generator=gen, dtype=torch.float64) > 0.6)
    y = torch.randint(0, 10, (2, 10), generator=gen)
    stacked = {k: v.requires_grad_(True) for k, v in stack(ps).items()}
    vals = N.loss_stacked(spec, stacked, x, y)
    grads = torch.autograd.grad(vals.sum(), list(stacked.values()))
    refs = []
    for i in range(4):
        p = {k: v.clone().requires_grad_(True) for k, v in ps[i].items()}
        ref = N.loss(spec, p, x[i // 2], y[i // 2])
        refs.append((ref, dict(zip(p, torch.autograd.grad(ref, list(p.values())), strict=True))))
    return vals, dict(zip(stacked, grads, strict=True)), refs


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("bn_eps", [None, 0.0])
@pytest.mark.parametrize("make", [
    lambda: N.two_cnn_two_fc(channels=(2, 3), hidden=8),
    lambda: N.two_cnn_two_fc(channels=(2, 3), hidden=8, bn=False),
    lambda: N.two_cnn_three_fc(in_shape=(3, 16, 16), channels=(2, 3), hidden=(8, 6)),
    lambda: N.two_cnn_two_fc(in_shape=(1, 15, 15), channels=(2, 3), hidden=8),  # odd sizes
    N.one_fc,
])
def test_stacked_forward_matches_per_model(make, bn_eps, sparse):
    """The explicit many-model path (first conv as im2col + one matmul per input group with its
    BN folded into the weights through the patch mean and covariance, fused pool+ReLU kernels,
    per-model second conv + native BN; used by the batched trainer for conv nets on a CPU):
    losses and gradients of 4 models in 2 input groups equal each model's plain
    :func:`networks.loss` to 1e-12 in float64, on dense inputs and on mostly-zero ones (tied
    pooling windows), even and odd activation sizes (BN statistics include the row and column
    that pooling drops)."""
    spec = make()
    if bn_eps is not None:
        spec = spec.with_bn(spec.bn, bn_eps)
    vals, grads, refs = _stacked_vs_plain(spec, sparse)
    for i, (ref, ref_g) in enumerate(refs):
        np.testing.assert_allclose(vals[i].item(), ref.item(), rtol=1e-12)
        for k, rg in ref_g.items():
            np.testing.assert_allclose(grads[k][i].numpy(), rg.numpy(), rtol=1e-9, atol=1e-13,
                                       err_msg=k)


@pytest.mark.parametrize("wrong", ["unbiased", "no_mean"])
def test_stacked_forward_detects_a_wrong_fold(monkeypatch, wrong):
    """The comparison above can fail: a fold with the unbiased patch covariance (n - 1), or
    one that forgets the patch mean, changes the losses far beyond 1e-12."""
    orig = N._folded_conv

    def bad(cols, weight, bias, bn):
        if wrong == "unbiased":
            n = cols.shape[2]
            return orig(cols * math.sqrt(n / (n - 1)), weight, bias, bn)  # covariance x n/(n-1)
        return orig(cols - cols.mean(dim=2, keepdim=True), weight, bias, bn)

    spec = N.two_cnn_two_fc(channels=(2, 3), hidden=8)
    good_vals, _, refs = _stacked_vs_plain(spec, sparse=True)
    assert max(abs(good_vals[i].item() - r.item()) for i, (r, _) in enumerate(refs)) < 1e-12
    monkeypatch.setattr(N, "_folded_conv", bad)
    vals, _, refs = _stacked_vs_plain(spec, sparse=True)
    assert max(abs(vals[i].item() - r.item()) for i, (r, _) in enumerate(refs)) > 1e-6


@pytest.mark.parametrize("block_images", [1, 3])
def test_blocked_first_layer_with_partial_blocks(monkeypatch, block_images):
    """The first layer runs a few images at a time (``kernels._BLOCK_BYTES``); with blocks of 1
    or 3 of the 10 images (the last block partial), losses and gradients still equal the plain
    loss to 1e-12 in float64, and the block size is what was asked for."""
    from bnverify.nets import kernels as K

    spec = N.two_cnn_two_fc(channels=(2, 3), hidden=8)
    rows, plane = 2 * spec.convs[0].out_channels, 28 * 28  # K = 2 models per group
    monkeypatch.setattr(K, "_BLOCK_BYTES", block_images * rows * plane * 8)
    seen = []
    orig = K._pool_relu_fwd

    def spy(z, out, idx):
        seen.append(z.shape[2])
        return orig(z, out, idx)

    monkeypatch.setattr(K, "_pool_relu_fwd", spy)
    vals, grads, refs = _stacked_vs_plain(spec, sparse=True)
    blocks = [block_images] * (10 // block_images) + ([10 % block_images] if 10 % block_images
                                                       else [])
    assert seen[:-4] == blocks * 2  # 2 input groups; the 4 per-model second-layer calls last
    for i, (ref, ref_g) in enumerate(refs):
        np.testing.assert_allclose(vals[i].item(), ref.item(), rtol=1e-12)
        for k, rg in ref_g.items():
            np.testing.assert_allclose(grads[k][i].numpy(), rg.numpy(), rtol=1e-9, atol=1e-13,
                                       err_msg=k)
