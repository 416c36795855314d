"""Fused CPU kernels for the many-model trainer: 2x2 max-pooling with ReLU, forward and
backward in one pass each (numba), wrapped as a ``torch.autograd.Function``.

Why: on a CPU the conv layers' activations of a Fig. 3 sweep (64 models x 100 images x 6
channels x 28 x 28 = 120 MB) make the layer memory bound.  ``F.max_pool2d`` on that layout runs at
a quarter of a plain copy, saves int64 indices (8 bytes per output) and its backward zero-fills
the full input gradient before scattering into it; ``relu`` then costs two more passes.  Here
the forward reads the input once and writes the pooled output and a one-byte argmax; the
backward writes each input-gradient element exactly once.

Semantics (equal to ``relu(max_pool2d(z, 2))``, floor mode):

* the window maximum takes the first maximal element (row-major) on ties, as ``F.max_pool2d``
  does; a window holding a NaN has value NaN (as in torch) and passes no gradient;
* ReLU after pooling (max and ReLU commute); the gradient reaches the argmax only where the
  pooled value is > 0 (``threshold_backward``'s convention at 0);
* an odd last row/column is dropped and gets gradient 0.
"""

from __future__ import annotations

import numba
import numpy as np
import torch

# Explicit signatures, every array in any layout ('A'): 4 compilations in all (about 8 s once,
# then loaded from numba's cache), instead of one per layout combination met at run time (C or
# strided inputs, outputs and gradients: 16 of them, about 40 s on first use); the kernels run
# about 10% slower than C-layout specialisations, a negligible share of a training step.
_A5 = "[:, :, :, :, :]"
_FWD_SIGS = [f"void({t}{_A5}, {t}{_A5}, uint8{_A5})" for t in ("float32", "float64")]
_BWD_SIGS = [f"void({t}{_A5}, uint8{_A5}, {t}{_A5})" for t in ("float32", "float64")]


@numba.njit(_FWD_SIGS, parallel=True, fastmath=False, cache=True, nogil=True)
def _pool_relu_fwd(z, out, idx):  # pragma: no cover - compiled
    """z (A, P, Q, H, W) -> out, idx (A, P, Q, H//2, W//2); ``out`` may be a strided view (the
    transposed layout).  Row views rather than 5-index element access: 5x faster here."""
    n_a, n_p, n_q, h2, w2 = idx.shape
    for t in numba.prange(n_a * n_p):
        a, p = t // n_p, t % n_p
        for q in range(n_q):
            zr, outr, idxr = z[a, p, q], out[a, p, q], idx[a, p, q]
            for i in range(h2):
                z0, z1, o, ii = zr[2 * i], zr[2 * i + 1], outr[i], idxr[i]
                for j in range(w2):
                    v0, v1, v2, v3 = z0[2 * j], z0[2 * j + 1], z1[2 * j], z1[2 * j + 1]
                    best, code = v0, 0
                    if v1 > best:
                        best, code = v1, 1
                    if v2 > best:
                        best, code = v2, 2
                    if v3 > best:
                        best, code = v3, 3
                    if best > 0:
                        o[j], ii[j] = best, code
                    else:
                        o[j], ii[j] = 0.0, 255
                    if v0 != v0 or v1 != v1 or v2 != v2 or v3 != v3:  # a NaN: value NaN
                        o[j], ii[j] = np.nan, 255


@numba.njit(_BWD_SIGS, parallel=True, fastmath=False, cache=True, nogil=True)
def _pool_relu_bwd(g, idx, gz):  # pragma: no cover - compiled
    """g, idx (A, P, Q, H//2, W//2) (``g`` may be strided) -> gz (A, P, Q, H, W)."""
    n_a, n_p, n_q, h2, w2 = idx.shape
    h, w = gz.shape[3], gz.shape[4]
    for t in numba.prange(n_a * n_p):
        a, p = t // n_p, t % n_p
        for q in range(n_q):
            gr, idxr, gzr = g[a, p, q], idx[a, p, q], gz[a, p, q]
            for i in range(h):
                row = gzr[i]
                for j in range(w):
                    row[j] = 0.0
            for i in range(h2):
                g0, ii, z0, z1 = gr[i], idxr[i], gzr[2 * i], gzr[2 * i + 1]
                for j in range(w2):
                    code = ii[j]
                    if code == 0:
                        z0[2 * j] = g0[j]
                    elif code == 1:
                        z0[2 * j + 1] = g0[j]
                    elif code == 2:
                        z1[2 * j] = g0[j]
                    elif code == 3:
                        z1[2 * j + 1] = g0[j]


class _PoolRelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z: torch.Tensor, swap: bool) -> torch.Tensor:  # noqa: D102
        zz = z.detach().contiguous()
        n_a, n_p, n_q, h, w = zz.shape
        h2, w2 = h // 2, w // 2
        if swap:
            out = torch.empty((n_a, n_q, n_p, h2, w2), dtype=z.dtype)
            out_view = out.numpy().transpose(0, 2, 1, 3, 4)
        else:
            out = torch.empty((n_a, n_p, n_q, h2, w2), dtype=z.dtype)
            out_view = out.numpy()
        idx = torch.empty((n_a, n_p, n_q, h2, w2), dtype=torch.uint8)
        _pool_relu_fwd(zz.numpy(), out_view, idx.numpy())
        ctx.save_for_backward(idx)
        ctx.swap, ctx.in_shape = swap, zz.shape
        return out

    @staticmethod
    def backward(ctx, g: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: D102
        (idx,) = ctx.saved_tensors
        gg = g.detach().contiguous().numpy()
        if ctx.swap:
            gg = gg.transpose(0, 2, 1, 3, 4)
        gz = torch.empty(ctx.in_shape, dtype=g.dtype)
        _pool_relu_bwd(gg, idx.numpy(), gz.numpy())
        return gz, None


def pool_relu(z: torch.Tensor, swap: bool = False) -> torch.Tensor:
    """``relu(max_pool2d(., 2))`` of the planes of ``z`` (A, P, Q, H, W), a CPU float32/float64
    tensor, with the fused kernels above: shape (A, P, Q, H//2, W//2), or (A, Q, P, H//2, W//2)
    with ``swap`` (written in that layout directly: no transpose copy)."""
    if z.device.type != "cpu" or z.dtype not in (torch.float32, torch.float64) or z.dim() != 5:
        raise TypeError("pool_relu: 5-d CPU float32/float64 tensors only")
    return _PoolRelu.apply(z, swap)


# --- first convolution + pooling + ReLU of many models, blocked so activations stay in cache ---

_BLOCK_BYTES = 1 << 21  # conv output block of one group: about 2 MB (L2/L3 resident)


def _blocks(g: int, k: int, b: int, nb: int, plane: int):
    """The blocks of :class:`_SharedConvPoolRelu`, forward and backward alike: ``(group, number
    of images, the group's models, the block's images, its im2col columns)`` for blocks of
    ``nb`` images (the last one partial)."""
    for gi in range(g):
        for b0 in range(0, b, nb):
            n = min(nb, b - b0)
            yield (gi, n, slice(gi * k, (gi + 1) * k), slice(b0, b0 + n),
                   slice(b0 * plane, (b0 + n) * plane))


class _SharedConvPoolRelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w: torch.Tensor, cols: torch.Tensor, c: int, hw: tuple[int, int]) -> torch.Tensor:  # noqa: D102
        g, rows, _ = w.shape
        k = rows // c
        hh, ww = hw
        plane = hh * ww
        b = cols.shape[2] // plane
        h2, w2 = hh // 2, ww // 2
        nb = max(1, min(b, _BLOCK_BYTES // (rows * plane * w.element_size())))
        out = torch.empty((g * k, b, c, h2, w2), dtype=w.dtype)
        idx = torch.empty((g * k, b, c, h2, w2), dtype=torch.uint8)
        out_t = out.numpy().transpose(0, 2, 1, 3, 4)  # (M, C, B, h2, w2) view
        idx_t = idx.numpy().transpose(0, 2, 1, 3, 4)
        buf = torch.empty((rows, nb * plane), dtype=w.dtype)
        wd = w.detach()
        for gi, n, models, images, columns in _blocks(g, k, b, nb, plane):
            z = buf[:, : n * plane]
            torch.mm(wd[gi], cols[gi, :, columns], out=z)
            sl = (models, slice(None), images)
            _pool_relu_fwd(z.numpy().reshape(k, c, n, hh, ww), out_t[sl], idx_t[sl])
        ctx.save_for_backward(cols, idx)
        ctx.geometry = (g, k, c, b, nb, hh, ww)
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):  # noqa: D102
        cols, idx = ctx.saved_tensors
        g, k, c, b, nb, hh, ww = ctx.geometry
        plane = hh * ww
        go_t = grad_out.detach().contiguous().numpy().transpose(0, 2, 1, 3, 4)
        idx_t = idx.numpy().transpose(0, 2, 1, 3, 4)
        grad_w = torch.zeros((g, k * c, cols.shape[1]), dtype=grad_out.dtype)
        buf = torch.empty((k * c, nb * plane), dtype=grad_out.dtype)
        for gi, n, models, images, columns in _blocks(g, k, b, nb, plane):
            gz = buf[:, : n * plane]
            sl = (models, slice(None), images)
            _pool_relu_bwd(go_t[sl], idx_t[sl], gz.numpy().reshape(k, c, n, hh, ww))
            grad_w[gi].addmm_(gz, cols[gi, :, columns].T)
        return grad_w, None, None, None


def shared_conv_pool_relu(w: torch.Tensor, cols: torch.Tensor, channels: int,
                          hw: tuple[int, int]) -> torch.Tensor:
    """``pool_relu`` of the convolution ``w[g] @ cols[g]`` of G groups of K models, blocked over
    the images so that the full-size activation never reaches memory.

    ``w`` (G, K*C, P) weights (the bias as a last column against a row of ones in ``cols``),
    ``cols`` (G, P, B*H*W) im2col columns of each group's B images (no gradient).  Returns the
    pooled, ReLU'd activations in the layout (G*K, B, C, H//2, W//2), each model's ``(B, C, ., .)``
    contiguous for the next convolution.  Gradient: ``w`` only.
    """
    if w.device.type != "cpu" or w.dtype not in (torch.float32, torch.float64) or w.dim() != 3:
        raise TypeError("shared_conv_pool_relu: 3-d CPU float32/float64 weights only")
    if cols.requires_grad:
        raise TypeError("shared_conv_pool_relu: the columns take no gradient")
    return _SharedConvPoolRelu.apply(w, cols.contiguous(), int(channels), tuple(hw))
