"""The three networks of §4.2 (Fig. 2, Fig. 3; claims F2, F3, F3.claims, L-A.9), written as pure
functions of a parameter dict so that many models train at once with ``torch.func.vmap``.

The paper specifies (§4.2): (1) one-layer fully connected 784x10 with softmax and mean-square
loss; (2) Conv-MaxPool-Conv-MaxPool-FC-FC, ReLU, cross-entropy; (3) Conv-MaxPool-Conv-MaxPool-
FC-FC-FC (CIFAR-10); Glorot initialisation; with BN "performed on all layers", BN parameters
initialised so that BN outputs zero mean / unit variance (scale 1, shift 0), BN eps = 1e-3.

Channel widths and kernel sizes are not given in the paper; the defaults are the conventional
LeNet-5 sizes (5x5 kernels, 6 and 16 channels, max-pooling 2x2, FC 120 (and 84) units), which is
also the PyTorch CIFAR-10 tutorial network for (3).  Layer order: ``conv -> BN -> ReLU -> pool``
and ``linear -> BN -> ReLU``; the output layer gets BN too ("all layers"), then softmax.

Parameter naming: ``<layer>.weight`` and ``<layer>.bias`` are the "weights and biases" (scaled by
eta in Fig. 2 and by r in Lemma A.9); ``<layer>.bn_scale`` / ``<layer>.bn_shift`` are the BN
parameters (the paper's ``a``; they take the learning rate ``lr_a`` in the separate-lr method).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import BNVerifyError

BN_EPS = 1e-3  # §4.2: "a small regularization parameter eps = 1e-3 is added to the variance"


@dataclass(frozen=True)
class ConvLayer:
    out_channels: int
    kernel: int
    padding: int


@dataclass(frozen=True)
class NetSpec:
    """A network of §4.2.  ``convs`` then ``fcs`` (the last FC has 10 outputs)."""

    name: str
    in_shape: tuple[int, int, int]
    convs: tuple[ConvLayer, ...]
    fcs: tuple[int, ...]
    loss: str  # "softmax_mse" (network 1), "softmax_mse_mean" (the authors' code) or "cross_entropy"
    bn: bool = True
    bn_eps: float = BN_EPS
    #: indices of convolutions whose parameters exist in the BN network but whose output is never
    #: used (the authors' BN models: ``layer2 = tf.nn.relu(bn1)``, ``bnverify.nets.setups``);
    #: ignored without BN
    bn_unused_convs: tuple[int, ...] = ()

    def conv_used(self, i: int) -> bool:
        """Whether convolution ``i`` (0-based) is on the forward path of this network."""
        return not (self.bn and i in self.bn_unused_convs)

    def with_bn(self, bn: bool, bn_eps: float | None = None) -> NetSpec:
        return replace(self, bn=bn, bn_eps=self.bn_eps if bn_eps is None else bn_eps)

    @property
    def layer_names(self) -> list[str]:
        return [f"conv{i + 1}" for i in range(len(self.convs))] + [
            f"fc{i + 1}" for i in range(len(self.fcs))
        ]

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Parameter shapes, in a fixed order (the order of initialisation)."""
        out: dict[str, tuple[int, ...]] = {}
        c, h, w = self.in_shape
        for i, conv in enumerate(self.convs):
            name = f"conv{i + 1}"
            out[f"{name}.weight"] = (conv.out_channels, c, conv.kernel, conv.kernel)
            out[f"{name}.bias"] = (conv.out_channels,)
            if self.bn:
                out[f"{name}.bn_scale"] = (conv.out_channels,)
                out[f"{name}.bn_shift"] = (conv.out_channels,)
            if not self.conv_used(i):  # built on the previous layer's output, never used
                continue
            c = conv.out_channels
            h = (h + 2 * conv.padding - conv.kernel + 1) // 2
            w = (w + 2 * conv.padding - conv.kernel + 1) // 2
            if h < 1 or w < 1:
                raise BNVerifyError(f"network {self.name}: input too small for its convolutions")
        fan = c * h * w
        for i, width in enumerate(self.fcs):
            name = f"fc{i + 1}"
            out[f"{name}.weight"] = (width, fan)
            out[f"{name}.bias"] = (width,)
            if self.bn:
                out[f"{name}.bn_scale"] = (width,)
                out[f"{name}.bn_shift"] = (width,)
            fan = width
        return out


def is_bn_param(name: str) -> bool:
    """True for the BN scale/shift (the paper's ``a``), False for weights and biases."""
    return ".bn_" in name


def one_fc(bn: bool = True) -> NetSpec:
    """Network (1): 784x10 fully connected, softmax, mean-square loss (MNIST, Fig. 3 left)."""
    return NetSpec("1fc", (1, 28, 28), (), (10,), "softmax_mse", bn)


def two_cnn_two_fc(bn: bool = True, in_shape: tuple[int, int, int] = (1, 28, 28),
                   channels: tuple[int, int] = (6, 16), hidden: int = 120) -> NetSpec:
    """Network (2): Conv5x5(6, pad 2)-MaxPool2-Conv5x5(16)-MaxPool2-FC(120)-FC(10), ReLU,
    cross-entropy (MNIST for Fig. 2, Fashion-MNIST for Fig. 3 middle)."""
    convs = (ConvLayer(channels[0], 5, 2), ConvLayer(channels[1], 5, 0))
    return NetSpec("2cnn2fc", in_shape, convs, (hidden, 10), "cross_entropy", bn)


def two_cnn_three_fc(bn: bool = True, in_shape: tuple[int, int, int] = (3, 32, 32),
                     channels: tuple[int, int] = (6, 16), hidden: tuple[int, int] = (120, 84)) -> NetSpec:
    """Network (3): Conv5x5(6)-MaxPool2-Conv5x5(16)-MaxPool2-FC(120)-FC(84)-FC(10), ReLU,
    cross-entropy (CIFAR-10, Fig. 3 right)."""
    convs = (ConvLayer(channels[0], 5, 0), ConvLayer(channels[1], 5, 0))
    return NetSpec("2cnn3fc", in_shape, convs, (*hidden, 10), "cross_entropy", bn)


NETWORKS = {"1fc": one_fc, "2cnn2fc": two_cnn_two_fc, "2cnn3fc": two_cnn_three_fc}


def glorot_init(spec: NetSpec, seed: int, dtype: torch.dtype = torch.float32,
                eta: float = 1.0, r: float = 1.0) -> dict[str, torch.Tensor]:
    """Glorot-uniform weights (Glorot & Bengio 2010; fan_in/fan_out include the receptive field
    for convolutions), zero biases, BN scale 1 and shift 0 (§4.2).

    The weights are drawn from a numpy generator seeded by ``seed`` in a fixed order that does
    not depend on ``spec.bn``, so the network with and without BN start from the same weights.
    ``eta`` (Fig. 2) and ``r`` (Lemma A.9) multiply all weights and biases, never the BN
    parameters.
    """
    rng = np.random.default_rng([int(seed), 0xB0])
    params: dict[str, torch.Tensor] = {}
    for name, shape in spec.shapes().items():
        if name.endswith(".weight"):
            if len(shape) == 4:
                receptive = shape[2] * shape[3]
                fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
            else:
                fan_in, fan_out = shape[1], shape[0]
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            arr = rng.uniform(-limit, limit, size=shape) * (eta * r)
        elif name.endswith(".bias"):
            arr = np.zeros(shape)
        elif name.endswith(".bn_scale"):
            arr = np.ones(shape)
        else:
            arr = np.zeros(shape)
        params[name] = torch.as_tensor(arr, dtype=dtype)
    return params


def batch_norm(z: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, eps: float) -> torch.Tensor:
    """BN with minibatch statistics (biased variance), eq. (30) of Lemma A.9 per unit:
    ``scale * (z - mean) / sqrt(var + eps) + shift``, statistics over the batch (and the spatial
    positions for convolutions).  No running averages: training and the epoch-1 loss both use
    batch statistics."""
    dims = (0, 2, 3) if z.dim() == 4 else (0,)
    mean = z.mean(dim=dims, keepdim=True)
    centred = z - mean
    var = (centred * centred).mean(dim=dims, keepdim=True)
    view = (1, -1, 1, 1) if z.dim() == 4 else (1, -1)
    return centred / torch.sqrt(var + eps) * scale.view(view) + shift.view(view)


def max_pool2(h: torch.Tensor) -> torch.Tensor:
    """2x2 max-pooling, stride 2.  For even sizes a reshape + amax, which batches under vmap
    (``F.max_pool2d`` is several times slower under vmap on CPU); odd sizes drop the last
    row/column, as ``F.max_pool2d`` does."""
    b, c, hh, ww = h.shape
    h = h[:, :, : hh - hh % 2, : ww - ww % 2]
    return h.reshape(b, c, hh // 2, 2, ww // 2, 2).amax(dim=(3, 5))


def forward(spec: NetSpec, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Logits ``(B, 10)`` of one model for a minibatch ``x`` of shape ``(B, C, H, W)``."""
    h = x
    for i, conv in enumerate(spec.convs):
        if not spec.conv_used(i):
            continue
        name = f"conv{i + 1}"
        h = F.conv2d(h, params[f"{name}.weight"], params[f"{name}.bias"], padding=conv.padding)
        if spec.bn:
            h = batch_norm(h, params[f"{name}.bn_scale"], params[f"{name}.bn_shift"], spec.bn_eps)
        h = max_pool2(F.relu(h))
    h = h.reshape(h.shape[0], -1)
    last = len(spec.fcs) - 1
    for i in range(len(spec.fcs)):
        name = f"fc{i + 1}"
        h = F.linear(h, params[f"{name}.weight"], params[f"{name}.bias"])
        if spec.bn:
            h = batch_norm(h, params[f"{name}.bn_scale"], params[f"{name}.bn_shift"], spec.bn_eps)
        if i < last:
            h = F.relu(h)
    return h


def loss_from_logits(spec: NetSpec, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Network (1): mean over the batch of ``sum_k (softmax(z)_k - onehot(y)_k)^2``;
    networks (2), (3): mean cross-entropy."""
    if spec.loss in ("softmax_mse", "softmax_mse_mean"):
        p = torch.softmax(logits, dim=1)
        classes = torch.arange(logits.shape[1], device=y.device)
        onehot = (y[:, None] == classes).to(p.dtype)  # F.one_hot is not vmap-able
        if spec.loss == "softmax_mse_mean":  # the authors' tf.reduce_mean((labels - y)**2)
            return ((p - onehot) ** 2).mean(dim=1).mean()
        return ((p - onehot) ** 2).sum(dim=1).mean()
    # cross-entropy written out: F.cross_entropy falls back to a per-example loop under vmap
    classes = torch.arange(logits.shape[1], device=y.device)
    onehot = (y[:, None] == classes).to(logits.dtype)
    return -(torch.log_softmax(logits, dim=1) * onehot).sum(dim=1).mean()


def loss(spec: NetSpec, params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return loss_from_logits(spec, forward(spec, params, x), y)


# --- many models at once without vmap (convolutional nets on a CPU) -------------------------
#
# Under ``vmap`` the second convolution (each model its own input) becomes a grouped convolution
# whose CPU backward pass is slower than one model at a time.  The functions below run M models
# explicitly with plain autograd (the models are independent, so the gradient of the summed
# losses is each model's own gradient):
#
# * the first convolution, whose G input minibatches are shared by K models each, is im2col
#   (``F.unfold``; the data need no gradient) + one ``torch.baddbmm`` over the groups with the
#   K models' weights stacked as ``(G, K*out, in*k*k)``.  Its BN is *folded into the
#   convolution*: the output of channel o is ``z = w_o . p + b_o`` over the input patches p, so
#   its batch mean and biased variance are ``w_o . mean(p) + b_o`` and ``w_o^T Cov(p) w_o``
#   with the patch mean and covariance (in*k*k numbers and a (in*k*k)^2 matrix per group,
#   shared by the group's models).  BN(z) = ``a_o z + c_o`` is then one convolution with
#   weights ``a_o w_o`` and bias ``shift_o - a_o w_o . mean(p)``, ``a_o = scale_o /
#   sqrt(var_o + eps)`` (``b_o`` cancels exactly, as it does in BN).  Autograd differentiates
#   through the fold, so the gradients are BN's own; the full-size activation is never
#   normalised, nor its BN backward run.
# * a convolution whose input differs per model (the second) is one ordinary ``F.conv2d`` +
#   native BN + pooling per model over ``unbind`` views: each model's activation stays in
#   cache between the three; im2col + bmm was measured slower there (the column tensor and its
#   ``col2im`` backward are memory bound);
# * pooling + ReLU is one fused kernel (:func:`kernels.pool_relu`), linear layers ``baddbmm``
#   with BN the native fused kernel on a ``(1, M*C, B)`` view.


def _folded_conv(cols: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                 bn: tuple[torch.Tensor, torch.Tensor, float] | None) -> torch.Tensor:
    """Weights ``(G, K*out, P + 1)`` of the first convolution of M = G*K models for im2col
    columns ``cols`` (G, P, N), the bias as the last column (it multiplies the row of ones
    below the columns), with the layer's BN folded in when ``bn`` = (scale, shift, eps) is given
    (see the comment above)."""
    g, p = cols.shape[0], cols.shape[1]
    w = weight.reshape(g, -1, p)
    if bn is None:
        return torch.cat([w, bias.reshape(g, -1, 1)], dim=2)
    scale, shift, eps = bn
    with torch.no_grad():  # patch moments: the data carry no gradient
        mu = cols.mean(dim=2)  # (G, P)
        centred = cols - mu[:, :, None]
        cov = centred @ centred.transpose(1, 2) / cols.shape[2]  # (G, P, P), biased
        del centred
    mean_wp = (w @ mu[:, :, None])[..., 0]  # w . mean(p): the mean of z minus the bias
    var = ((w @ cov) * w).sum(dim=2).clamp_min(0.0)  # w^T Cov w >= 0 up to rounding
    a = scale.reshape(g, -1) * torch.rsqrt(var + eps)
    # + 0 * bias keeps the conv bias in the graph: its BN gradient is exactly 0
    folded_bias = shift.reshape(g, -1) - a * mean_wp + 0.0 * bias.reshape(g, -1)
    return torch.cat([a[:, :, None] * w, folded_bias[:, :, None]], dim=2)


def _bn_stacked(z: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, eps: float) -> torch.Tensor:
    """:func:`batch_norm` of M models' linear layer: ``z`` (M, B, C)."""
    if eps <= 0:  # F.batch_norm refuses eps = 0 (Lemma A.9 checks): the written-out BN
        return torch.vmap(batch_norm, in_dims=(0, 0, 0, None))(z, scale, shift, eps)
    # the fused native kernels (forward and backward); same statistics, biased variance
    zz = z.transpose(1, 2).reshape(1, z.shape[0] * z.shape[2], z.shape[1])  # (1, M*C, B)
    out = F.batch_norm(zz, None, None, scale.reshape(-1), shift.reshape(-1), training=True,
                       eps=eps)
    return out.reshape(z.shape[0], z.shape[2], z.shape[1]).transpose(1, 2)


def _bn_one(z: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, eps: float) -> torch.Tensor:
    """:func:`batch_norm` of one model's conv activation (B, C, H, W): the native fused kernel,
    or written out for ``eps <= 0`` (which ``F.batch_norm`` refuses)."""
    if eps <= 0:
        return batch_norm(z, scale, shift, eps)
    return F.batch_norm(z, None, None, scale, shift, training=True, eps=eps)


def forward_stacked(spec: NetSpec, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Logits ``(M, B, 10)`` of M models, ``params`` stacked along dim 0; ``x`` (G, B, C, H, W)
    with M = G*K: models ``g*K .. g*K+K-1`` see minibatch ``x[g]`` (G = 1: all share one).
    CPU only (the pooling kernel); the same function as :func:`loss` of each model."""
    from .kernels import pool_relu, shared_conv_pool_relu

    m = next(iter(params.values())).shape[0]
    g, b = x.shape[0], x.shape[1]
    if m % g:
        raise BNVerifyError("forward_stacked: the number of models must be a multiple of G")
    # each model's activation (B, C, H, W) once inputs differ per model; with one model per
    # minibatch (K = 1) from the start: im2col would only copy what oneDNN reads in place
    per_model: list[torch.Tensor] | None = list(x.unbind(0)) if m == g and spec.convs else None
    for i, conv in enumerate(spec.convs):
        if not spec.conv_used(i):
            continue
        name = f"conv{i + 1}"
        bn = ((params[f"{name}.bn_scale"], params[f"{name}.bn_shift"], spec.bn_eps)
              if spec.bn else None)
        if per_model is None:  # shared inputs: im2col + one batched matmul, BN folded in
            h = x.reshape(g * b, *x.shape[2:])
            hh = h.shape[2] + 2 * conv.padding - conv.kernel + 1
            ww = h.shape[3] + 2 * conv.padding - conv.kernel + 1
            unf = F.unfold(h, conv.kernel, padding=conv.padding)  # (N, P, L), P = in*k*k
            n_p = unf.shape[1]
            # columns (G, P + 1, B*L): the patches of each group's B images side by side, and a
            # row of ones that carries the bias as one more weight column (baddbmm would first
            # copy the broadcast bias into the full-size output, then accumulate on it)
            cols = torch.empty((g, n_p + 1, b * unf.shape[2]), dtype=h.dtype, device=h.device)
            cols[:, :n_p].view(g, n_p, b, -1).copy_(unf.view(g, b, n_p, -1).transpose(1, 2))
            cols[:, n_p].fill_(1.0)
            w = _folded_conv(cols[:, :n_p], params[f"{name}.weight"], params[f"{name}.bias"],
                             bn)
            z = shared_conv_pool_relu(w, cols, conv.out_channels, (hh, ww))
            per_model = list(z.unbind(0))  # (M, B, C, H', W')
            continue
        # inputs differ per model: conv + BN + pooling one model at a time (in cache); unbind
        # (its backward is one stack), not indexing (one zero-filled full-size gradient each)
        ws, bs = params[f"{name}.weight"].unbind(0), params[f"{name}.bias"].unbind(0)
        scales = shifts = [None] * m
        if bn is not None:
            scales, shifts = bn[0].unbind(0), bn[1].unbind(0)
        out = []
        for j in range(m):
            z = F.conv2d(per_model[j], ws[j], bs[j], padding=conv.padding)
            if bn is not None:
                z = _bn_one(z, scales[j], shifts[j], spec.bn_eps)
            out.append(pool_relu(z[None])[0])
        per_model = out
    if per_model is None:  # no convolutions: every model of a group sees the same input
        h = x.reshape(g, b, -1).repeat_interleave(m // g, dim=0)
    else:
        h = torch.stack([hj.reshape(b, -1) for hj in per_model])
    last = len(spec.fcs) - 1
    for i in range(len(spec.fcs)):
        name = f"fc{i + 1}"
        w = params[f"{name}.weight"]
        h = torch.baddbmm(params[f"{name}.bias"][:, None, :], h, w.transpose(1, 2))
        if spec.bn:
            h = _bn_stacked(h, params[f"{name}.bn_scale"], params[f"{name}.bn_shift"], spec.bn_eps)
        if i < last:
            h = F.relu(h)
    return h


def loss_stacked(spec: NetSpec, params: dict[str, torch.Tensor], x: torch.Tensor,
                 y: torch.Tensor) -> torch.Tensor:
    """Loss of each of M models, shape (M,): :func:`loss` of :func:`forward_stacked`; ``y``
    (G, B) labels of the minibatches ``x`` (G, B, C, H, W)."""
    logits = forward_stacked(spec, params, x)
    m, g = logits.shape[0], y.shape[0]
    classes = torch.arange(logits.shape[2], device=y.device)
    onehot = (y[:, :, None] == classes).to(logits.dtype).repeat_interleave(m // g, dim=0)
    if spec.loss in ("softmax_mse", "softmax_mse_mean"):
        p = torch.softmax(logits, dim=2)
        if spec.loss == "softmax_mse_mean":
            return ((p - onehot) ** 2).mean(dim=2).mean(dim=1)
        return ((p - onehot) ** 2).sum(dim=2).mean(dim=1)
    return -(torch.log_softmax(logits, dim=2) * onehot).sum(dim=2).mean(dim=1)
