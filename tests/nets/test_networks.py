"""The three networks of §4.2 (bnverify.nets.networks): output shapes, BN placement and its
initial transform, Glorot bounds, and the separate learning rate of the BN parameters."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bnverify.nets import networks as N  # noqa: E402
from bnverify.nets.train import epoch_orders, train_batched, train_single  # noqa: E402

NETS = [
    (N.one_fc, (1, 28, 28), ["fc1"]),
    (N.two_cnn_two_fc, (1, 28, 28), ["conv1", "conv2", "fc1", "fc2"]),
    (N.two_cnn_three_fc, (3, 32, 32), ["conv1", "conv2", "fc1", "fc2", "fc3"]),
]


@pytest.mark.parametrize("make,in_shape,layers", NETS)
@pytest.mark.parametrize("bn", [True, False])
def test_shapes_and_bn_placement(make, in_shape, layers, bn):
    spec = make(bn=bn)
    p = N.glorot_init(spec, 0)
    assert spec.layer_names == layers
    bn_names = sorted(k for k in p if N.is_bn_param(k))
    expect = sorted(f"{ly}.bn_{w}" for ly in layers for w in ("scale", "shift")) if bn else []
    assert bn_names == expect  # BN on every layer, the output layer included, or nowhere
    assert all(f"{ly}.weight" in p and f"{ly}.bias" in p for ly in layers)
    x = torch.rand(32, *in_shape, generator=torch.Generator().manual_seed(0))
    out = N.forward(spec, p, x)
    assert out.shape == (32, 10)
    if bn:  # BN initialised to the normalising transform: output zero mean, variance
        # v / (v + eps) in (0.9, 1] for pre-activation variances v >= 0.01 (eps = 1e-3)
        assert torch.allclose(out.mean(0), torch.zeros(10), atol=1e-5)
        var = out.var(0, unbiased=False)
        assert bool(((var > 0.9) & (var <= 1 + 1e-5)).all()), var


def test_conventional_sizes():
    s2 = N.two_cnn_two_fc().shapes()
    assert s2["conv1.weight"] == (6, 1, 5, 5) and s2["conv2.weight"] == (16, 6, 5, 5)
    assert s2["fc1.weight"] == (120, 400) and s2["fc2.weight"] == (10, 120)
    s3 = N.two_cnn_three_fc().shapes()
    assert s3["conv1.weight"] == (6, 3, 5, 5) and s3["fc1.weight"] == (120, 400)
    assert s3["fc2.weight"] == (84, 120) and s3["fc3.weight"] == (10, 84)
    assert N.one_fc().shapes()["fc1.weight"] == (10, 784)
    assert N.one_fc().loss == "softmax_mse" and N.two_cnn_two_fc().loss == "cross_entropy"


def test_glorot_and_eta_scaling():
    spec = N.two_cnn_two_fc()
    p = N.glorot_init(spec, 3)
    lim = np.sqrt(6.0 / (6 * 25 + 16 * 25))
    w = p["conv2.weight"]
    assert w.abs().max() <= lim and w.abs().max() > 0.9 * lim
    assert w.std() == pytest.approx(lim / np.sqrt(3), rel=0.1)  # uniform(-l, l) has sd l/sqrt 3
    q = N.glorot_init(spec, 3, eta=10.0)
    torch.testing.assert_close(q["conv2.weight"], 10.0 * w, rtol=1e-6, atol=0)  # float32 rounding
    assert torch.equal(q["conv2.bn_scale"], p["conv2.bn_scale"])  # BN params are not scaled
    # same weights with and without BN (common random numbers across methods)
    assert torch.equal(N.glorot_init(spec.with_bn(False), 3)["fc1.weight"], p["fc1.weight"])


def test_losses_by_hand():
    spec1 = N.one_fc()
    z = torch.tensor([[2.0, 0.0] + [0.0] * 8])
    y = torch.tensor([0])
    pz = torch.softmax(z, 1)[0]
    expect = (pz[0] - 1) ** 2 + (pz[1:] ** 2).sum()
    assert N.loss_from_logits(spec1, z, y) == pytest.approx(float(expect))
    spec2 = N.two_cnn_two_fc()
    assert N.loss_from_logits(spec2, z, y) == pytest.approx(
        float(torch.nn.functional.cross_entropy(z, y)))


@pytest.mark.parametrize("batched", [True, False])
def test_separate_learning_rate_groups(batched):
    """One SGD step with lr_w = 0 moves only BN parameters, by exactly -lr_bn * grad; with
    lr_bn = 0 only weights and biases move, by -lr_w * grad."""
    spec = N.two_cnn_two_fc(channels=(2, 3), hidden=8)
    x = torch.rand(100, 1, 28, 28, dtype=torch.float64)
    y = torch.arange(100) % 10
    p = N.glorot_init(spec, 0, torch.float64)
    grads = torch.func.grad(lambda q: N.loss(spec, q, x, y))(p)
    order = epoch_orders(0, 100)
    for lr_w, lr_bn in [(0.0, 0.7), (0.3, 0.0), (0.3, 0.7)]:
        if batched:
            new = _one_step_batched(spec, x, y, p, lr_w, lr_bn, order)
        else:
            new = _one_step_single(spec, x, y, p, lr_w, lr_bn, order)
        for k in p:
            rate = lr_bn if N.is_bn_param(k) else lr_w
            torch.testing.assert_close(new[k], p[k] - rate * grads[k], rtol=1e-12, atol=1e-14)


def _one_step_batched(spec, x, y, p, lr_w, lr_bn, order):
    captured = {}
    import bnverify.nets.train as T

    orig = T.evaluate_batched

    def grab(spec_, x_, y_, params, eval_batches=None):
        captured.update({k: v[0] for k, v in params.items()})
        return orig(spec_, x_, y_, params, eval_batches)

    T.evaluate_batched = grab
    try:
        train_batched(spec, x, y, {k: v[None] for k, v in p.items()}, np.array([lr_w]),
                      np.array([lr_bn]), order[None])
    finally:
        T.evaluate_batched = orig
    return captured


def _one_step_single(spec, x, y, p, lr_w, lr_bn, order):
    captured = {}
    import bnverify.nets.train as T

    orig = T.evaluate_batched

    def grab(spec_, x_, y_, params, eval_batches=None):
        captured.update({k: v[0] for k, v in params.items()})
        return orig(spec_, x_, y_, params, eval_batches)

    T.evaluate_batched = grab
    try:
        train_single(spec, x, y, p, lr_w, lr_bn, order)
    finally:
        T.evaluate_batched = orig
    return captured
