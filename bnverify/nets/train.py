"""Plain minibatch SGD for many models at once (``torch.func.vmap`` + ``grad_and_value``), and
the one-model-at-a-time reference loop it must agree with (claims F2, F3, F3.claims, L-A.9).

Methods of §4.2 / Fig. 3:

* ``gd``: the network without BN, one learning rate ``lr`` for every parameter;
* ``bngd``: the network with BN, one shared learning rate ``lr`` (weights, biases and BN
  parameters);
* ``bngd_sep``: the network with BN, ``lr`` for weights and biases, a separate fixed ``lr_a``
  for the BN scale/shift (the paper's ``eps_a``, eq. 31).

One SGD step of model m: ``p <- p - lr_w[m] * grad`` for weights/biases and
``p <- p - lr_bn[m] * grad`` for BN parameters, on minibatch ``order[m, step]`` (batch 100).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import grad_and_value, vmap

from ..errors import BNVerifyError
from .networks import (
    NetSpec,
    forward,
    glorot_init,
    is_bn_param,
    loss,
    loss_from_logits,
    loss_stacked,
)

METHODS = ("gd", "bngd", "bngd_sep")
METHOD_LABELS = {
    "gd": "GD (no BN)",
    "bngd": "BNGD, shared lr",
    "bngd_sep": "BNGD, separate lr_a",
}
BATCH = 100  # §4.2: "we use a minibatch size of 100"


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an input error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise BNVerifyError("device: cuda requested but no CUDA GPU is available")
    if device not in ("cpu", "cuda"):
        raise BNVerifyError(f"device: unknown device {device!r} (use auto, cpu or cuda)")
    return torch.device(device)


def epoch_orders(seed: int, n: int, epochs: int = 1, batch: int = BATCH) -> np.ndarray:
    """Minibatch indices ``(epochs * (n // batch), batch)``: a fresh permutation per epoch drawn
    from a generator seeded by ``seed`` (the remainder ``n % batch`` is dropped)."""
    steps = n // batch
    if steps < 1:
        raise BNVerifyError(f"n_train: need at least one minibatch of {batch}, got {n} examples")
    rng = np.random.default_rng([int(seed), 0xDA7A])
    out = [rng.permutation(n)[: steps * batch].reshape(steps, batch) for _ in range(epochs)]
    return np.concatenate(out)


def stack(params_list: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {k: torch.stack([p[k] for p in params_list]) for k in params_list[0]}


@dataclass
class TrainResult:
    """``final_loss[m]``: mean minibatch loss over the evaluation set after training (inf when
    the model diverged); ``step_loss[m, t]``: the minibatch loss at step t (before the update)."""

    final_loss: np.ndarray
    step_loss: np.ndarray


def train_batched(spec: NetSpec, x: torch.Tensor, y: torch.Tensor,
                  params: dict[str, torch.Tensor], lr_w: np.ndarray, lr_bn: np.ndarray,
                  orders: np.ndarray, eval_batches: np.ndarray | None = None) -> TrainResult:
    """Train M models at once: ``params`` stacked along dim 0, ``lr_w``/``lr_bn`` of shape (M,),
    ``orders`` of shape (M, steps, batch) (each model its own data order).

    ``eval_batches`` (K, batch) indices of the evaluation minibatches (shared by all models);
    default: the first epoch's order of model 0 sorted, i.e. the whole training set.
    """
    m = next(iter(params.values())).shape[0]
    dev, dt = x.device, x.dtype
    lw = torch.as_tensor(np.asarray(lr_w, dtype=float), dtype=dt, device=dev)
    lb = torch.as_tensor(np.asarray(lr_bn, dtype=float), dtype=dt, device=dev)
    if lw.shape != (m,) or lb.shape != (m,) or orders.shape[0] != m:
        raise BNVerifyError("train: lr_w, lr_bn and orders need one entry per model")

    def model_loss(p: dict[str, torch.Tensor], xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return loss(spec, p, xb, yb)

    groups = shared_order_groups(orders)
    if groups is None:  # every model its own minibatches: one vmap over models
        perm = np.arange(m)
        lead: tuple[int, ...] = (m,)
        idx_all = torch.as_tensor(orders, device=dev)
        step_fn = vmap(grad_and_value(model_loss))
    else:  # G groups of K models sharing minibatches: the inner vmap sees one input batch,
        # so the first layer is one wide matmul/convolution for the whole group
        perm = np.concatenate(groups)
        lead = (len(groups), len(groups[0]))
        idx_all = torch.as_tensor(orders[[g[0] for g in groups]], device=dev)
        step_fn = vmap(vmap(grad_and_value(model_loss), in_dims=(0, None, None)))
    if use_stacked(spec, dev):  # networks.loss_stacked over the flat (permuted) models;
        lead = (m,)  # idx_all (G, steps, batch): models g*K .. g*K+K-1 share minibatches g
    tperm = torch.as_tensor(perm, device=dev)
    p = {k: v[tperm].reshape(lead + v.shape[1:]).clone() for k, v in params.items()}
    lrs = {k: (lb if is_bn_param(k) else lw)[tperm].reshape(lead + (1,) * (v.dim() - 1))
           for k, v in params.items()}
    steps = orders.shape[1]
    step_loss = torch.empty(lead + (steps,), dtype=dt, device=dev)
    if use_stacked(spec, dev):
        names = list(p)
        for t in range(steps):
            idx = idx_all[:, t]  # (G, batch)
            for k in names:
                p[k].requires_grad_(True)
            val = loss_stacked(spec, p, x[idx], y[idx])
            grads = torch.autograd.grad(val.sum(), [p[k] for k in names])
            with torch.no_grad():
                step_loss[:, t] = val
                for k, gk in zip(names, grads, strict=True):
                    p[k] = p[k] - lrs[k] * gk
        p = {k: v.detach() for k, v in p.items()}
    else:
        with torch.no_grad():
            for t in range(steps):
                idx = idx_all[:, t]
                grads, val = step_fn(p, x[idx], y[idx])
                step_loss[..., t] = val
                for k in p:
                    p[k] = p[k] - lrs[k] * grads[k]
    inv = torch.as_tensor(np.argsort(perm), device=dev)
    p = {k: v.reshape((m,) + v.shape[len(lead):])[inv] for k, v in p.items()}
    step_loss = step_loss.reshape(m, steps)[inv]
    final = evaluate_batched(spec, x, y, p, eval_batches)
    return TrainResult(final, step_loss.cpu().double().numpy())


def shared_order_groups(orders: np.ndarray) -> list[np.ndarray] | None:
    """Indices of models grouped by identical minibatch order, when there are fewer orders than
    models and every group has the same size (a sweep over learning rates x seeds); else None."""
    m = orders.shape[0]
    buckets: dict[bytes, list[int]] = {}
    for i in range(m):
        buckets.setdefault(orders[i].tobytes(), []).append(i)
    sizes = {len(v) for v in buckets.values()}
    if len(buckets) == m or len(sizes) != 1:
        return None
    return [np.array(v) for v in buckets.values()]


def evaluate_batched(spec: NetSpec, x: torch.Tensor, y: torch.Tensor,
                     params: dict[str, torch.Tensor], eval_batches: np.ndarray | None = None) -> np.ndarray:
    """Mean minibatch loss of every model over ``eval_batches`` (default: consecutive minibatches
    of 100 covering the data); BN uses each minibatch's statistics.  Non-finite -> inf."""
    n = x.shape[0]
    if eval_batches is None:
        eval_batches = np.arange((n // BATCH) * BATCH).reshape(-1, BATCH)

    def model_eval(p: dict[str, torch.Tensor], xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return loss_from_logits(spec, forward(spec, p, xb), yb)

    ev = vmap(model_eval, in_dims=(0, None, None))
    stacked = use_stacked(spec, x.device)
    total = None
    with torch.no_grad():
        for b in eval_batches:
            bi = torch.as_tensor(b, device=x.device)
            if stacked:
                v = loss_stacked(spec, params, x[bi][None], y[bi][None]).double()
            else:
                v = ev(params, x[bi], y[bi]).double()
            total = v if total is None else total + v
    out = (total / len(eval_batches)).cpu().numpy()
    out[~np.isfinite(out)] = np.inf
    return out


def train_single(spec: NetSpec, x: torch.Tensor, y: torch.Tensor, params: dict[str, torch.Tensor],
                 lr_w: float, lr_bn: float, order: np.ndarray,
                 eval_batches: np.ndarray | None = None) -> TrainResult:
    """Reference: one model, a plain Python loop with ``torch.autograd`` (no vmap).  Same update
    rule as :func:`train_batched`; used by the tests and by ``benchmarks/bench_nets.py``."""
    p = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    names = list(p)
    steps = order.shape[0]
    step_loss = np.empty(steps)
    for t in range(steps):
        idx = torch.as_tensor(order[t], device=x.device)
        value = loss(spec, p, x[idx], y[idx])
        grads = torch.autograd.grad(value, [p[k] for k in names])
        step_loss[t] = float(value.detach())
        with torch.no_grad():
            for k, g in zip(names, grads, strict=True):
                rate = lr_bn if is_bn_param(k) else lr_w
                p[k] = (p[k] - rate * g).requires_grad_(True)
    final = evaluate_batched(spec, x, y, {k: v.detach()[None] for k, v in p.items()}, eval_batches)
    return TrainResult(final, step_loss[None])


def method_rates(method: str, lr: float, lr_a: float) -> tuple[float, float]:
    """``(lr for weights and biases, lr for BN parameters)`` of a method of Fig. 3."""
    if method == "gd":
        return lr, 0.0  # no BN parameters exist
    if method == "bngd":
        return lr, lr
    if method == "bngd_sep":
        return lr, lr_a
    raise BNVerifyError(f"method: unknown method {method!r} (use {', '.join(METHODS)})")


def sweep(spec: NetSpec, x: torch.Tensor, y: torch.Tensor, lrs: list[float] | np.ndarray,
          seeds: list[int], methods: tuple[str, ...] = METHODS, lr_a: float = 0.1,
          epochs: int = 1, eta: float = 1.0, lr_scale: float = 1.0,
          max_models: int = 256, strategy: str = "auto") -> dict[str, np.ndarray]:
    """Loss after ``epochs`` epochs for every (method, lr, seed): ``{method: (len(lrs), len(seeds))}``.

    All (lr, seed) models of the same network train together in batched runs of at most
    ``max_models`` models; ``gd`` uses ``spec`` without BN.  ``strategy``: ``vmap`` (batched),
    ``loop`` (one model at a time, :func:`train_single`; same results to rounding) or ``auto`` =
    :func:`pick_strategy`.  ``eta`` multiplies the initial
    weights and biases (Fig. 2); the learning rate actually used for weights is
    ``lr * lr_scale``.
    """
    lrs = [float(v) for v in lrs]
    if not lrs or not seeds:
        raise BNVerifyError("sweep: need at least one learning rate and one seed")
    n = x.shape[0]
    dt, dev = x.dtype, x.device
    inits = {(bn, s): glorot_init(spec.with_bn(bn), s, dt, eta=eta) for bn in (False, True)
             for s in seeds}
    orders = {s: epoch_orders(s, n, epochs) for s in seeds}
    out: dict[str, np.ndarray] = {}
    # group methods by network (with / without BN) so BN methods share batched runs
    jobs: dict[bool, list[tuple[str, int, int]]] = {False: [], True: []}
    for meth in methods:
        if meth not in METHODS:
            raise BNVerifyError(f"method: unknown method {meth!r} (use {', '.join(METHODS)})")
        out[meth] = np.full((len(lrs), len(seeds)), np.inf)
        for i in range(len(lrs)):
            for j in range(len(seeds)):
                jobs[meth != "gd"].append((meth, i, j))
    if strategy == "auto":
        strategy = pick_strategy(spec, dev)
    if strategy not in ("vmap", "loop"):
        raise BNVerifyError(f"strategy: unknown strategy {strategy!r} (use auto, vmap or loop)")
    for bn, job in jobs.items():
        net = spec.with_bn(bn)
        if strategy == "loop":
            for meth, i, j in job:
                lw, lb = method_rates(meth, lrs[i] * lr_scale, lr_a)
                p = {k: v.to(dev) for k, v in inits[(bn, seeds[j])].items()}
                out[meth][i, j] = train_single(net, x, y, p, lw, lb, orders[seeds[j]]).final_loss[0]
            continue
        for start in range(0, len(job), max_models):
            chunk = job[start:start + max_models]
            params = stack([inits[(bn, seeds[j])] for _, _, j in chunk])
            params = {k: v.to(dev) for k, v in params.items()}
            rates = [method_rates(meth, lrs[i] * lr_scale, lr_a) for meth, i, _ in chunk]
            res = train_batched(net, x, y, params, np.array([r[0] for r in rates]),
                                np.array([r[1] for r in rates]),
                                np.stack([orders[seeds[j]] for _, _, j in chunk]))
            for (meth, i, j), v in zip(chunk, res.final_loss, strict=True):
                out[meth][i, j] = v
    return out


def use_stacked(spec: NetSpec, device: torch.device) -> bool:
    """Whether :func:`train_batched` runs the explicit stacked forward
    (:func:`networks.loss_stacked`: the first convolution as im2col + one matmul per input group
    with BN folded into its weights, fused pooling kernels, per-model second convolution; plain
    autograd) instead of vmap: for convolutional nets on a CPU, where vmap's grouped
    convolution is slow and the pooling kernels run."""
    return device.type == "cpu" and bool(spec.convs)


def pick_strategy(spec: NetSpec, device: torch.device) -> str:
    """``vmap`` (batched) everywhere.  Conv nets on a CPU train batched through
    :func:`networks.loss_stacked` (:func:`use_stacked`), faster than one model at a time
    (``benchmarks/bench_nets.py``); before it, vmap's grouped convolution was slower there and
    such sweeps looped over models."""
    return "vmap"


def initial_loss(spec: NetSpec, x: torch.Tensor, y: torch.Tensor, seed: int, eta: float = 1.0) -> float:
    """Loss of the freshly initialised network (the 'no learning' reference level)."""
    p = glorot_init(spec, seed, x.dtype, eta=eta)
    p = {k: v.to(x.device)[None] for k, v in p.items()}
    return float(evaluate_batched(spec, x, y, p)[0])


def log_grid(lo: float, hi: float, per_decade: int) -> np.ndarray:
    """``10**k`` for k from log10(lo) to log10(hi) in steps of 1/per_decade."""
    a, b = math.log10(lo), math.log10(hi)
    num = int(round((b - a) * per_decade)) + 1
    return np.logspace(a, b, num)
