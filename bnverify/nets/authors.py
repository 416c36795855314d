"""Fig. 2 and Fig. 3 as the authors' scripts ran them (``--setup authors``) and with their BN
model's second convolution used (``--setup authors-fixed``); settings, sources and choices in
:mod:`bnverify.nets.setups`.  Imports torch.

The plotted quantity differs from the ``paper`` setup: the *post-update* loss of the minibatch
of step ``plot_step`` (BN with batch statistics), logged every 10 steps as in the authors'
``Model_mnist.train`` (script/ModelAndTest.py:173-196), mean over seeds.  The F3.claims parts
are evaluated on it with the toolkit's definitions (:func:`bnverify.nets.f3claims.f3_claims_parts`, the same logic as
``verdict_f3_claims`` in ``proofs/sec4_2_networks.py``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.func import grad_and_value, vmap

from ..errors import BNVerifyError
from . import setups as su
from .data import Dataset, load_dataset
from .experiments import Fig2Result, summarise_curve, to_tensors
from .f3claims import f3_claims_parts
from .networks import ConvLayer, NetSpec, glorot_init, is_bn_param, loss, loss_stacked
from .train import (
    METHODS,
    epoch_orders,
    evaluate_batched,
    method_rates,
    shared_order_groups,
    stack,
    use_stacked,
)

INIT_EVAL_BATCHES = 10  # the loss at initialisation: mean over the first 10 minibatches


def authors_spec(dataset: str, setup: str, in_shape: tuple[int, int, int],
                 channels: tuple[int, int] = su.CNN_CHANNELS,
                 hidden: int = su.CNN_HIDDEN) -> NetSpec:
    """The authors' network of a panel.  ``spec.with_bn(False)`` is their GD model,
    ``spec.with_bn(True)`` their BN model: under ``authors`` its second convolution exists but is
    not used (``layer2 = tf.nn.relu(bn1)``, script/ModelAndTest.py:269); under
    ``authors-fixed`` it is.  Smaller ``channels``/``hidden`` only for tests."""
    su.check_setup(setup)
    panel = su.authors_panel(dataset) if dataset != "fig2" else None
    if panel is not None and panel.net == "1fc":
        return NetSpec("1fc-authors", in_shape, (), (10,), panel.loss, True)
    convs = (ConvLayer(channels[0], su.CNN_KERNEL, 2), ConvLayer(channels[1], su.CNN_KERNEL, 2))
    unused = () if setup == "authors-fixed" else (1,)
    name = "cnn-authors" + ("-fixed" if setup == "authors-fixed" else "")
    return NetSpec(name, in_shape, convs, (hidden, 10), "cross_entropy", True,
                   bn_unused_convs=unused)


def authors_data(dataset: str, data_dir: str | None = None, n_train: int | None = None,
                 ds: Dataset | None = None) -> tuple[Dataset, str]:
    """The authors' training images (:func:`setups.authors_train_indices`), the first
    ``n_train`` of them when given; and a sentence saying which."""
    ds = ds or load_dataset(dataset, data_dir)
    sl, note = su.authors_train_indices(len(ds))
    ds = Dataset(ds.name, ds.x[sl], ds.y[sl], ds.source, dict(ds.info, authors_split=note))
    if n_train is not None and n_train < len(ds):
        note += f"; first {n_train} of them"
        ds = ds.subset(n_train)
    return ds, note


@dataclass
class LoggedResult:
    """``logs[m, k]``: post-update loss of model m on its minibatch of step ``steps[k]``
    (non-finite -> inf)."""

    steps: np.ndarray
    logs: np.ndarray


def train_logged(spec: NetSpec, x: torch.Tensor, y: torch.Tensor,
                 params: dict[str, torch.Tensor], lr_w: np.ndarray, lr_bn: np.ndarray,
                 orders: np.ndarray, log_every: int = su.LOG_EVERY) -> LoggedResult:
    """Train M models (``params`` stacked along dim 0) by minibatch SGD on ``orders`` (M,
    steps, batch); after the update of every step ``t`` with ``t % log_every == 0`` record the
    loss of step t's own minibatch (the authors' ``train_loss``, ModelAndTest.py:190).  Same
    batching as :func:`train.train_batched`; parameters off the forward path (the authors' unused
    convolution) get gradient 0 and stay at their initial values, as in TF."""
    m = next(iter(params.values())).shape[0]
    dev, dt = x.device, x.dtype
    lw = torch.as_tensor(np.asarray(lr_w, dtype=float), dtype=dt, device=dev)
    lb = torch.as_tensor(np.asarray(lr_bn, dtype=float), dtype=dt, device=dev)
    if lw.shape != (m,) or lb.shape != (m,) or orders.shape[0] != m:
        raise BNVerifyError("train: lr_w, lr_bn and orders need one entry per model")

    def model_loss(p: dict[str, torch.Tensor], xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return loss(spec, p, xb, yb)

    stacked = use_stacked(spec, dev)
    groups = shared_order_groups(orders)
    if groups is None:
        perm = np.arange(m)
        lead: tuple[int, ...] = (m,)
        idx_all = torch.as_tensor(orders, device=dev)
        step_fn = vmap(grad_and_value(model_loss))
        eval_fn = vmap(model_loss)
    else:
        perm = np.concatenate(groups)
        lead = (len(groups), len(groups[0]))
        idx_all = torch.as_tensor(orders[[g[0] for g in groups]], device=dev)
        step_fn = vmap(vmap(grad_and_value(model_loss), in_dims=(0, None, None)))
        eval_fn = vmap(vmap(model_loss, in_dims=(0, None, None)))
    if stacked:
        if groups is None:  # every model its own minibatches: groups of one
            groups = [np.array([i]) for i in range(m)]
            perm = np.arange(m)
            idx_all = torch.as_tensor(orders, device=dev)
        lead = (m,)
    tperm = torch.as_tensor(perm, device=dev)
    p = {k: v[tperm].reshape(lead + v.shape[1:]).clone() for k, v in params.items()}
    lrs = {k: (lb if is_bn_param(k) else lw)[tperm].reshape(lead + (1,) * (v.dim() - 1))
           for k, v in params.items()}
    n_steps = orders.shape[1]
    log_steps = np.arange(0, n_steps, log_every)
    logs = torch.full(lead + (len(log_steps),), math.nan, dtype=dt, device=dev)
    names = list(p)
    for t in range(n_steps):
        idx = idx_all[:, t]
        if stacked:
            for k in names:
                p[k].requires_grad_(True)
            val = loss_stacked(spec, p, x[idx], y[idx])
            grads = torch.autograd.grad(val.sum(), [p[k] for k in names], allow_unused=True,
                                        materialize_grads=True)
            with torch.no_grad():
                for k, gk in zip(names, grads, strict=True):
                    p[k] = p[k] - lrs[k] * gk
        else:
            with torch.no_grad():
                grads_d, _ = step_fn(p, x[idx], y[idx])
                for k in names:
                    p[k] = p[k] - lrs[k] * grads_d[k]
        if t % log_every == 0:
            with torch.no_grad():
                pd = {k: v.detach() for k, v in p.items()}
                v = loss_stacked(spec, pd, x[idx], y[idx]) if stacked else eval_fn(pd, x[idx], y[idx])
                logs[..., t // log_every] = v
    inv = torch.as_tensor(np.argsort(perm), device=dev)
    out = logs.reshape(m, len(log_steps))[inv].cpu().double().numpy()
    out[~np.isfinite(out)] = np.inf
    return LoggedResult(log_steps, out)


def init_loss(spec: NetSpec, x: torch.Tensor, y: torch.Tensor, seeds: list[int],
              eta: float = 1.0) -> list[float]:
    """Loss of the freshly initialised network per seed: mean over the first
    ``INIT_EVAL_BATCHES`` consecutive minibatches (BN batch statistics)."""
    k = max(1, min(INIT_EVAL_BATCHES, x.shape[0] // 100))
    batches = np.arange(k * 100).reshape(k, 100)
    params = stack([glorot_init(spec, s, x.dtype, eta=eta) for s in seeds])
    params = {kk: v.to(x.device) for kk, v in params.items()}
    return [float(v) for v in evaluate_batched(spec, x, y, params, batches)]


def sweep_logged(spec: NetSpec, x: torch.Tensor, y: torch.Tensor,
                 grids: dict[str, np.ndarray], seeds: list[int], lr_a: float, plot_step: int,
                 eta: float = 1.0, lr_scale: float = 1.0,
                 max_models: int = 16) -> dict[str, np.ndarray]:
    """``{method: logs (len(grid), len(seeds), n_logs)}``: each method on its own grid;
    updates 0..plot_step; common random numbers (one init and data order per seed)."""
    n = x.shape[0]
    per_epoch = n // 100
    if per_epoch < 1:
        raise BNVerifyError(f"n_train: need at least one minibatch of 100, got {n} examples")
    epochs = -(-(plot_step + 1) // per_epoch)
    orders = {s: epoch_orders(s, n, epochs)[: plot_step + 1] for s in seeds}
    inits = {(bn, s): glorot_init(spec.with_bn(bn), s, x.dtype, eta=eta)
             for bn in (False, True) for s in seeds}
    out: dict[str, np.ndarray] = {}
    n_logs = len(range(0, plot_step + 1, su.LOG_EVERY))
    for meth, lrs in grids.items():
        if meth not in METHODS:
            raise BNVerifyError(f"method: unknown method {meth!r}")
        bn = meth != "gd"
        net = spec.with_bn(bn)
        res = np.full((len(lrs), len(seeds), n_logs), np.inf)
        # one seed per chunk: the chunk's models share minibatches (fast first layer)
        chunks = [[(i, j) for i in range(a, min(a + max_models, len(lrs)))]
                  for j in range(len(seeds)) for a in range(0, len(lrs), max_models)]
        for chunk in chunks:
            params = stack([inits[(bn, seeds[j])] for _, j in chunk])
            params = {k: v.to(x.device) for k, v in params.items()}
            rates = [method_rates(meth, float(lrs[i]) * lr_scale, lr_a) for i, _ in chunk]
            r = train_logged(net, x, y, params, np.array([a for a, _ in rates]),
                             np.array([b for _, b in rates]),
                             np.stack([orders[seeds[j]] for _, j in chunk]))
            for (i, j), row in zip(chunk, r.logs, strict=True):
                res[i, j] = row
        out[meth] = res
    return out


@dataclass
class AuthorsPanelResult:
    dataset: str
    setup: str
    net: str
    source: str
    data_note: str
    n_train: int
    seeds: list[int]
    lrs: dict[str, np.ndarray]
    per_decade: dict[str, float]
    logs: dict[str, np.ndarray]  # method -> (lr, seed, n_logs)
    log_steps: np.ndarray
    plot_step: int
    init: dict[str, float]  # "gd" / "bn": loss at initialisation (mean over seeds)
    lr_a: float
    seconds: float
    cpu_seconds: float
    stride: int
    widths: dict[str, Any]
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def init_loss(self) -> float:
        return self.init["gd"]

    def plotted(self, meth: str) -> np.ndarray:
        """The plotted quantity (lr, seed): the logged loss at ``plot_step``."""
        k = int(np.searchsorted(self.log_steps, self.plot_step))
        return self.logs[meth][:, :, k]

    def bn_gain(self) -> float:
        """``(L0_BN - best BN) / (L0_GD - best GD)``, each network's own loss at
        initialisation (the authors' BN and GD nets differ)."""
        gd = self.init["gd"] - self.summary["gd"]["best_loss"]
        bn = max(self.init["bn"] - self.summary[m]["best_loss"]
                 for m in ("bngd", "bngd_sep") if m in self.summary)
        return float(bn / gd) if gd > 0 else math.inf


def run_authors_fig3(dataset: str, setup: str, device: torch.device, seed: int = 0,
                     n_seeds: int = 5, n_train: int | None = None,
                     plot_step: int = su.PLOT_STEP, stride: int = 1, lr_a: float | None = None,
                     data_dir: str | None = None, ds: Dataset | None = None,
                     channels: tuple[int, int] = su.CNN_CHANNELS, hidden: int = su.CNN_HIDDEN,
                     methods: tuple[str, ...] = METHODS) -> AuthorsPanelResult:
    """One Fig. 3 panel in the authors' settings (:mod:`setups`)."""
    if setup == "paper":
        raise BNVerifyError("setup: run_authors_fig3 runs the authors' setups only")
    panel = su.authors_panel(dataset)
    t0, c0 = time.perf_counter(), time.process_time()
    data, note = authors_data(dataset, data_dir, n_train, ds)
    spec = authors_spec(dataset, setup, tuple(int(v) for v in data.x.shape[1:]), channels, hidden)
    x, y = to_tensors(data, device)
    seeds = list(range(seed, seed + n_seeds))
    lr_a = panel.lr_a if lr_a is None else lr_a
    grids = {m: panel.grids[m].values(stride) for m in methods}
    logs = sweep_logged(spec, x, y, grids, seeds, lr_a, plot_step)
    init = {"gd": float(np.mean(init_loss(spec.with_bn(False), x, y, seeds))),
            "bn": float(np.mean(init_loss(spec.with_bn(True), x, y, seeds)))}
    res = AuthorsPanelResult(
        dataset, setup, spec.name, data.source, note, len(data), seeds, grids,
        {m: panel.grids[m].per_decade(stride) for m in methods}, logs,
        np.arange(0, plot_step + 1, su.LOG_EVERY), plot_step, init, lr_a,
        time.perf_counter() - t0, time.process_time() - c0, stride,
        {"convs": [[c.out_channels, c.kernel, c.padding] for c in spec.convs],
         "fcs": list(spec.fcs), "bn_unused_convs": list(spec.bn_unused_convs),
         "loss": spec.loss})
    for m in methods:
        ref = init["gd" if m == "gd" else "bn"]
        res.summary[m] = summarise_curve(grids[m], res.plotted(m), ref, res.per_decade[m])
    return res


def authors_panel_json(p: AuthorsPanelResult) -> dict[str, Any]:
    panel = su.AUTHORS_FIG3[p.dataset]
    return {
        "dataset": p.dataset, "setup": p.setup, "net": p.net, "network": p.widths,
        "data_source": p.source, "data_used": p.data_note, "n_train": p.n_train,
        "seeds": p.seeds, "lr_a": p.lr_a, "loss_at_init": p.init,
        "plot_step": p.plot_step, "authors_max_step": panel.max_step,
        "log_every": su.LOG_EVERY, "grid_stride": p.stride,
        "grids": {m: {"values": v, "authors": f"np.logspace({panel.grids[m].lo:g}, "
                      f"{panel.grids[m].hi:g}, {panel.grids[m].num}) ({panel.grids[m].where})"}
                  for m, v in p.lrs.items()},
        "scripts": list(panel.scripts), "seconds": round(p.seconds, 2),
        "cpu_seconds": round(p.cpu_seconds, 2), "bn_gain": p.bn_gain(),
        "methods": {m: dict(s) for m, s in p.summary.items()},
    }


def claims_table(panels: list[Any]) -> dict[str, Any]:
    """Numbers behind each F3.claims part, per panel (for the data file and docs/nets.md)."""
    rows = {}
    for p in panels:
        s = p.summary
        rows[p.dataset] = {
            "largest_stable_lr": {m: s[m]["largest_stable_lr"] for m in s},
            "unstable_above": {m: s[m]["unstable_above"] for m in s},
            "near_optimal_width_decades": {m: s[m]["near_optimal_width_decades"] for m in s},
            "best": {m: [s[m]["best_loss"], s[m]["best_lr"]] for m in s},
            "bn_gain": p.bn_gain(),
        }
    return {"panels": rows, "parts": f3_claims_parts(panels)}


def run_authors_fig2(setup: str, device: torch.device, seed: int = 0, n_seeds: int = 5,
                     n_train: int | None = None, plot_step: int = su.PLOT_STEP,
                     stride: int = 1, etas: tuple[float, ...] | None = None,
                     lr_a: float | None = None, data_dir: str | None = None,
                     ds: Dataset | None = None, channels: tuple[int, int] = su.CNN_CHANNELS,
                     hidden: int = su.CNN_HIDDEN) -> tuple[Fig2Result, dict[str, Any]]:
    """Fig. 2 as mnist_sca_bnsplr.py ran it: the BN model (one conv under ``authors``) on MNIST,
    weights and biases x eta, weight rate base * eta^2, BN parameters at lr_a = 1.0; plotted:
    post-update minibatch loss of step ``plot_step``."""
    if setup == "paper":
        raise BNVerifyError("setup: run_authors_fig2 runs the authors' setups only")
    t0, c0 = time.perf_counter(), time.process_time()
    cfg = su.AUTHORS_FIG2
    data, note = authors_data("mnist", data_dir, n_train, ds)
    spec = authors_spec("fig2", setup, tuple(int(v) for v in data.x.shape[1:]), channels, hidden)
    x, y = to_tensors(data, device)
    seeds = list(range(seed, seed + n_seeds))
    etas = cfg["etas"] if etas is None else etas
    lr_a = cfg["lr_a"] if lr_a is None else lr_a
    base = cfg["base"].values(stride)
    k = plot_step // su.LOG_EVERY
    losses = {}
    for eta in etas:
        logs = sweep_logged(spec, x, y, {"bngd_sep": base}, seeds, lr_a, plot_step, eta=eta,
                            lr_scale=eta ** 2)
        losses[float(eta)] = logs["bngd_sep"][:, :, k]
    init = float(np.mean(init_loss(spec.with_bn(True), x, y, seeds)))
    res = Fig2Result([float(e) for e in etas], base, losses, 2.0, init, data.source, len(data),
                     seeds, lr_a, time.perf_counter() - t0)
    extra = {"data_used": note, "plot_step": plot_step, "authors_max_step": cfg["max_step"],
             "grid_stride": stride, "cpu_seconds": round(time.process_time() - c0, 2),
             "grid_authors": f"np.logspace(-4, 4, 20) * eta^2 ({cfg['base'].where})",
             "etas_authors": "np.logspace(-2, 2, 9) (mnist_sca_bnsplr.py:8)",
             "script": cfg["script"], "net": spec.name,
             "network": {"convs": [[c.out_channels, c.kernel, c.padding] for c in spec.convs],
                         "fcs": list(spec.fcs), "bn_unused_convs": list(spec.bn_unused_convs)}}
    return res, extra
