"""The network experiments of §4.2: Fig. 3 (claims F3, F3.claims), Fig. 2 (claim F2) and the
scaling property of Lemma A.9 on networks (claim L-A.9).

Everything returns plain data (numpy arrays and JSON-able dicts); :mod:`bnverify.nets.plots`
draws them and ``bnverify nets ...`` writes PNG + ``.npz`` + JSON.

Quantities (defined once here and used by the figures and by ``proofs/sec4_2_networks.py``):

* *loss after epoch 1*: mean minibatch loss over the training subset after one epoch of SGD with
  minibatch 100 (BN with minibatch statistics); ``inf`` when the run overflowed.
* *stable* learning rate: every seed ends with a finite loss below the loss at initialisation.
* *largest stable learning rate*: the largest grid value that is stable.
* *near-optimal range*: grid values whose mean loss is within 25% of the best achieved loss
  reduction, ``L <= L_best + 0.25 (L_init - L_best)``; its width is counted in decades
  (grid points / points per decade).
* *BN gain*: how much more of the initial loss BN removes in epoch 1,
  ``(L_init - L_best(BNGD)) / (L_init - L_best(GD))`` (best over both BN methods and over the
  grid); scale-free, so the mean-square net (1) and the cross-entropy nets compare.
"""

from __future__ import annotations

import math
import platform
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from .. import __version__
from ..errors import BNVerifyError
from .data import Dataset, load_dataset
from .networks import NETWORKS, NetSpec, glorot_init, two_cnn_two_fc
from .train import (
    METHODS,
    epoch_orders,
    initial_loss,
    log_grid,
    pick_strategy,
    resolve_device,
    stack,
    sweep,
    train_batched,
)

DATASET_NET = {"mnist": "1fc", "fashion": "2cnn2fc", "cifar10": "2cnn3fc"}  # Fig. 3 panels
NEAR_OPTIMAL_FRACTION = 0.25


@dataclass
class Profile:
    """Sizes of one run.  ``n_train`` None = the whole training set that was loaded."""

    n_train: int | None
    lr_lo: float
    lr_hi: float
    per_decade: int
    seeds: int
    channels: tuple[int, int] = (6, 16)
    hidden: int = 120
    downsample: int = 1  # average-pool the images k x k first (quick checks only)

    def lrs(self) -> np.ndarray:
        return log_grid(self.lr_lo, self.lr_hi, self.per_decade)


# Fig. 3: the paper's grid is not printed; 1e-4 .. 1e4 covers each method's largest stable rate.
FIG3_PROFILES: dict[str, dict[str, Profile]] = {
    "quick": {
        "mnist": Profile(5000, 1e-3, 1e4, 2, 5),
        "fashion": Profile(1000, 1e-3, 1e3, 2, 3),
        "cifar10": Profile(1000, 1e-3, 1e3, 2, 3),
    },
    "full": {
        "mnist": Profile(None, 1e-4, 1e4, 2, 5),
        "fashion": Profile(None, 1e-4, 1e4, 2, 5),
        "cifar10": Profile(None, 1e-4, 1e4, 2, 5),
    },
}
# Fig. 2: grid in lr / eta^2 (the scaling variable of Lemma A.9)
FIG2_PROFILES = {
    "quick": Profile(1000, 1e-3, 1e2, 2, 2),
    "full": Profile(None, 1e-4, 1e3, 2, 5),
}
FIG2_ETAS = (0.01, 0.1, 1.0, 10.0, 100.0)


def versions() -> dict[str, str]:
    return {"bnverify": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def make_net(name: str, ds: Dataset, prof: Profile) -> NetSpec:
    if name not in NETWORKS:
        raise BNVerifyError(f"net: unknown network {name!r} (use {', '.join(NETWORKS)})")
    in_shape = tuple(int(v) for v in ds.x.shape[1:])
    if name == "1fc":
        spec = NETWORKS[name]()
        spec = NetSpec(spec.name, in_shape, (), spec.fcs, spec.loss, spec.bn, spec.bn_eps)
        if in_shape[0] != 1:
            raise BNVerifyError(f"net: 1fc needs 28x28 grey images, {ds.name} has {in_shape}")
        return spec
    if name == "2cnn2fc":
        return two_cnn_two_fc(in_shape=in_shape, channels=prof.channels, hidden=prof.hidden)
    return NETWORKS[name](in_shape=in_shape, channels=prof.channels)


def to_tensors(ds: Dataset, device: torch.device, dtype: torch.dtype = torch.float32
               ) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = ds.as_float()
    return torch.as_tensor(x, dtype=dtype, device=device), torch.as_tensor(y, device=device)


# ---------------------------------------------------------------------------------------------
# summaries
# ---------------------------------------------------------------------------------------------


def summarise_curve(lrs: np.ndarray, losses: np.ndarray, init: float, per_decade: int) -> dict[str, Any]:
    """Statistics of one method's ``losses[lr, seed]`` (definitions in the module docstring)."""
    finite = np.isfinite(losses).all(axis=1)
    with np.errstate(invalid="ignore", over="ignore"):  # rows with inf are masked just below
        mean = np.where(finite, losses.mean(axis=1), np.inf)
        std = np.where(finite, losses.std(axis=1), np.nan)
    stable = finite & (losses < init).all(axis=1)
    out: dict[str, Any] = {
        "mean": mean, "std": std,
        "stable": stable,
        "largest_stable_lr": float(lrs[stable].max()) if stable.any() else None,
        "unstable_above": bool(stable.any() and not stable[-1]),
    }
    if np.isfinite(mean).any():
        b = int(np.argmin(mean))
        best = float(mean[b])
        thresh = best + NEAR_OPTIMAL_FRACTION * (init - best)
        near = np.isfinite(mean) & (mean <= thresh)
        out.update(best_lr=float(lrs[b]), best_loss=best,
                   near_optimal_lrs=[float(v) for v in lrs[near]],
                   near_optimal_width_decades=float(near.sum()) / per_decade)
    else:
        out.update(best_lr=None, best_loss=math.inf, near_optimal_lrs=[],
                   near_optimal_width_decades=0.0)
    return out


@dataclass
class Fig3Panel:
    dataset: str
    net: str
    source: str
    n_train: int
    lrs: np.ndarray
    seeds: list[int]
    losses: dict[str, np.ndarray]  # method -> (lr, seed)
    init_loss: float
    per_decade: int
    lr_a: float
    seconds: float
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)
    init_spread: float = 0.0  # std over seeds of the loss at initialisation
    profile: Profile | None = None
    strategy: str = "vmap"  # how the sweep trained its models (train.pick_strategy)

    def bn_gain(self) -> float:
        """``(L_init - L_best(BNGD)) / (L_init - L_best(GD))`` (module docstring)."""
        gd = self.summary["gd"]["best_loss"]
        bn = min(self.summary[m]["best_loss"] for m in ("bngd", "bngd_sep") if m in self.summary)
        gd_drop = self.init_loss - gd
        return float((self.init_loss - bn) / gd_drop) if gd_drop > 0 else math.inf


def run_fig3_panel(dataset: str, prof: Profile, device: torch.device, seed: int = 0,
                   data_dir: str | None = None, net: str | None = None, lr_a: float = 0.1,
                   methods: tuple[str, ...] = METHODS, ds: Dataset | None = None) -> Fig3Panel:
    """One panel of Fig. 3: loss after epoch 1 vs learning rate for GD, BNGD (shared lr) and
    BNGD (separate ``lr_a``), seeds ``seed .. seed + prof.seeds - 1``."""
    t0 = time.perf_counter()
    ds = (ds or load_dataset(dataset, data_dir)).subset(prof.n_train).downsample(prof.downsample)
    net_name = net or DATASET_NET[dataset]
    spec = make_net(net_name, ds, prof)
    x, y = to_tensors(ds, device)
    seeds = list(range(seed, seed + prof.seeds))
    lrs = prof.lrs()
    strategy = pick_strategy(spec, device)
    losses = sweep(spec, x, y, lrs, seeds, methods, lr_a=lr_a, strategy=strategy)
    inits = [initial_loss(spec.with_bn(False), x, y, s) for s in seeds]
    init = float(np.mean(inits))
    panel = Fig3Panel(dataset, net_name, ds.source, len(ds), lrs, seeds, losses, init,
                      prof.per_decade, lr_a, time.perf_counter() - t0)
    panel.init_spread = float(np.std(inits))
    panel.profile = prof
    panel.strategy = strategy
    panel.summary = {m: summarise_curve(lrs, losses[m], init, prof.per_decade) for m in methods}
    return panel


def panel_json(p: Fig3Panel) -> dict[str, Any]:
    return {
        "dataset": p.dataset, "net": p.net, "data_source": p.source, "n_train": p.n_train,
        "seeds": p.seeds, "lr_a": p.lr_a, "loss_at_init": p.init_loss,
        "lrs": p.lrs, "seconds": round(p.seconds, 2), "bn_gain": p.bn_gain(),
        "training": p.strategy,
        "methods": {m: {k: v for k, v in s.items()} for m, s in p.summary.items()},
    }


# ---------------------------------------------------------------------------------------------
# Fig. 2: scaling by eta
# ---------------------------------------------------------------------------------------------


@dataclass
class Fig2Result:
    etas: list[float]
    base_lrs: np.ndarray  # lr / eta^power
    losses: dict[float, np.ndarray]  # eta -> (lr, seed)
    power: float
    init_loss: float
    source: str
    n_train: int
    seeds: list[int]
    lr_a: float
    seconds: float

    def mean(self, eta: float) -> np.ndarray:
        v = self.losses[eta]
        return np.where(np.isfinite(v).all(axis=1), v.mean(axis=1), np.inf)

    def deviation(self, eta: float, ref: float) -> float:
        """Mean over the lr/eta^2 grid of |L_eta - L_ref| / L_init (seed-averaged curves; a
        diverged point on either curve counts as deviation 1)."""
        a, b = self.mean(eta), self.mean(ref)
        both = np.isfinite(a) & np.isfinite(b)
        d = np.where(both, np.abs(a - b) / self.init_loss, 1.0)
        d = np.where(~np.isfinite(a) & ~np.isfinite(b), 0.0, d)
        return float(d.mean())


def run_fig2(prof: Profile, device: torch.device, etas: tuple[float, ...] = FIG2_ETAS,
             seed: int = 0, data_dir: str | None = None, lr_a: float = 0.1,
             power: float = 2.0, dataset: str = "mnist", ds: Dataset | None = None,
             bn_eps: float | None = None) -> Fig2Result:
    """Fig. 2: the BN network (2) on MNIST, weights and biases multiplied by eta after Glorot
    init, BNGD with weight learning rate ``lr = base * eta^power`` (Lemma A.9: power 2) and the
    BN parameters at the fixed rate ``lr_a``; loss after epoch 1 for each eta and base rate."""
    t0 = time.perf_counter()
    ds = (ds or load_dataset(dataset, data_dir)).subset(prof.n_train)
    spec = make_net("2cnn2fc", ds, prof)
    if bn_eps is not None:
        spec = spec.with_bn(True, bn_eps)
    x, y = to_tensors(ds, device)
    seeds = list(range(seed, seed + prof.seeds))
    base = prof.lrs()
    losses = {}
    for eta in etas:
        res = sweep(spec, x, y, base, seeds, ("bngd_sep",), lr_a=lr_a, eta=eta,
                    lr_scale=eta ** power)
        losses[float(eta)] = res["bngd_sep"]
    init = float(np.mean([initial_loss(spec.with_bn(True), x, y, s) for s in seeds]))
    return Fig2Result([float(e) for e in etas], base, losses, power, init, ds.source, len(ds),
                      seeds, lr_a, time.perf_counter() - t0)


# ---------------------------------------------------------------------------------------------
# Lemma A.9 on networks
# ---------------------------------------------------------------------------------------------


@dataclass
class A9Result:
    rs: list[float]
    bn_eps: float
    lr_w: float
    lr_a: float
    lr_power: float
    step_loss: np.ndarray  # (len(rs), steps)
    ref_index: int
    dtype: str
    details: dict[str, Any] = field(default_factory=dict)

    def max_abs_deviation(self) -> np.ndarray:
        """max_t |L_t(r) - L_t(r_ref)| per r."""
        ref = self.step_loss[self.ref_index]
        return np.abs(self.step_loss - ref[None]).max(axis=1)


def run_a9(rs: list[float], bn_eps: float, steps: int = 10, seed: int = 0,
           lr_w: float = 0.5, lr_a: float = 0.1, lr_power: float = 2.0, n_train: int = 500,
           dtype: torch.dtype = torch.float64, device: torch.device | None = None,
           channels: tuple[int, int] = (4, 8), hidden: int = 32,
           ds: Dataset | None = None, net: str = "2cnn2fc",
           flip_scale_for_negative_r: bool = False) -> A9Result:
    """Lemma A.9 (eq. 29-33) on network (2) (or ``net``) with BN on all layers: train from
    ``{r w0, r^lr_power * lr_w, lr_a}`` for each r (same data order and init direction) and
    record the minibatch loss of every step.  Lemma A.9 (BN without eps) predicts identical
    trajectories for ``lr_power = 2`` and r > 0; ``rs[0]`` is the reference.  For r < 0 BN
    flips the sign of its output (BN(r z) = -BN(z)); ``flip_scale_for_negative_r`` negates every
    BN scale at r < 0 (the network analogue of ``a0 -> -a0``)."""
    device = device or torch.device("cpu")
    ds = (ds or load_dataset("mnist")).subset(n_train)
    prof = Profile(n_train, 1, 1, 1, 1, channels, hidden)
    spec = make_net(net, ds, prof).with_bn(True, bn_eps)
    x, y = to_tensors(ds, device, dtype)
    order = epoch_orders(seed, len(ds), epochs=max(1, -(-steps * 100 // len(ds))))[:steps]
    inits = []
    for r in rs:
        p = glorot_init(spec, seed, dtype, r=r)
        if flip_scale_for_negative_r and r < 0:
            p = {k: -v if k.endswith(".bn_scale") else v for k, v in p.items()}
        inits.append(p)
    params = stack(inits)
    params = {k: v.to(device) for k, v in params.items()}
    lw = np.array([lr_w * r ** lr_power for r in rs])
    res = train_batched(spec, x, y, params, lw, np.full(len(rs), lr_a),
                        np.stack([order] * len(rs)), eval_batches=order[:1])
    return A9Result([float(r) for r in rs], bn_eps, lr_w, lr_a, lr_power, res.step_loss, 0,
                    str(dtype).replace("torch.", ""),
                    {"n_train": len(ds), "steps": steps, "seed": seed, "net": spec.name,
                     **({} if net == "1fc" else {"channels": list(channels), "hidden": hidden}),
                     "source": ds.source})


def settings_json(**kw: Any) -> dict[str, Any]:
    out = dict(kw)
    out["versions"] = versions()
    return out


def profile_json(p: Profile) -> dict[str, Any]:
    return asdict(p)


__all__ = [
    "DATASET_NET", "FIG2_ETAS", "FIG2_PROFILES", "FIG3_PROFILES", "A9Result", "Fig2Result",
    "Fig3Panel", "Profile", "make_net", "panel_json", "profile_json", "resolve_device",
    "run_a9", "run_fig2", "run_fig3_panel", "settings_json", "summarise_curve", "versions",
]
