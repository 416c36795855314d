"""Plots of the network experiments (Fig. 2, Fig. 3, Lemma A.9 on networks).  Matplotlib with
the Agg back end; diverged runs (loss inf) are drawn as crosses on the top edge of the axes."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .experiments import A9Result, Fig2Result, Fig3Panel  # noqa: E402
from .train import METHOD_LABELS  # noqa: E402

COLOURS = {"gd": "tab:blue", "bngd": "tab:orange", "bngd_sep": "tab:green"}


def _curve(ax, lrs, losses, label, colour, top):
    finite = np.isfinite(losses).all(axis=1)
    mean = np.where(finite, losses.mean(axis=1), np.nan)
    ax.plot(lrs, mean, "o-", color=colour, label=label, ms=3)
    if losses.shape[1] > 1:
        lo = np.where(finite, losses.min(axis=1), np.nan)
        hi = np.where(finite, losses.max(axis=1), np.nan)
        ax.fill_between(lrs, lo, hi, color=colour, alpha=0.2, lw=0)
    if (~finite).any():
        ax.plot(lrs[~finite], np.full((~finite).sum(), top), "x", color=colour, ms=6)


def plot_fig3(panels: list[Fig3Panel], path: Path, title: str = "") -> None:
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.8), squeeze=False)
    for ax, p in zip(axes[0], panels, strict=True):
        top = 1.6 * p.init_loss
        for m, v in p.losses.items():
            _curve(ax, p.lrs, np.minimum(v, top), METHOD_LABELS[m], COLOURS[m], top)
        ax.axhline(p.init_loss, color="grey", lw=0.8, ls=":", label="loss at init")
        ax.set_xscale("log")
        ax.set_ylim(0, top * 1.05)
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss after epoch 1")
        ax.set_title(f"{p.dataset} ({p.net}), n={p.n_train}, {len(p.seeds)} seeds", fontsize=9)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_authors_fig3(panels: list, path: Path, title: str = "") -> None:
    """Fig. 3 in an authors' setup (``nets.authors.AuthorsPanelResult``): each method on its own
    grid, the post-update minibatch loss at the plotted step."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.8), squeeze=False)
    for ax, p in zip(axes[0], panels, strict=True):
        top = 1.6 * max(p.init.values())
        for m in p.logs:
            _curve(ax, p.lrs[m], np.minimum(p.plotted(m), top), METHOD_LABELS[m], COLOURS[m], top)
        ax.axhline(p.init["gd"], color="grey", lw=0.8, ls=":", label="loss at init (GD net)")
        ax.set_xscale("log")
        ax.set_ylim(0, top * 1.05)
        ax.set_xlabel("learning rate")
        ax.set_ylabel(f"minibatch loss after step {p.plot_step}")
        ax.set_title(f"{p.dataset} ({p.net}), n={p.n_train}, {len(p.seeds)} seeds", fontsize=9)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_fig2(res: Fig2Result, path: Path, title: str | None = None,
              ylabel: str = "loss after epoch 1") -> None:
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8))
    top = 1.6 * res.init_loss
    cmap = plt.get_cmap("viridis")
    for i, eta in enumerate(res.etas):
        colour = cmap(i / max(1, len(res.etas) - 1))
        v = np.minimum(res.losses[eta], top)
        _curve(axes[0], res.base_lrs * eta ** res.power, v, f"eta={eta:g}", colour, top)
        _curve(axes[1], res.base_lrs, v, f"eta={eta:g}", colour, top)
    axes[0].set_xlabel("learning rate (weights and biases)")
    axes[1].set_xlabel(f"learning rate / eta^{res.power:g}")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_ylim(0, top * 1.05)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7)
    fig.suptitle(title or f"Fig. 2: 2CNN+2FC with BN (eps=1e-3) on MNIST, n={res.n_train}, "
                 f"{len(res.seeds)} seeds, lr_a={res.lr_a:g}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_a9(results: list[A9Result], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(5.6, 3.9))
    floor = 1e-17  # exact agreement (deviation 0) is drawn at the floor of the log axis
    for res in results:
        dev = res.max_abs_deviation()
        rs = np.array(res.rs)
        keep = np.arange(len(rs)) != res.ref_index
        order = np.argsort(rs[keep])
        ax.plot(rs[keep][order], np.maximum(dev[keep][order], floor), "o-",
                label=f"BN eps={res.bn_eps:g} ({res.dtype}), vs r={rs[res.ref_index]:g}")
    ax.axhline(floor, color="grey", lw=0.6, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("r (pre-BN weights and biases x r, their lr x r^2)")
    ax.set_ylabel("max over steps |L_t(r) - L_t(r_ref)|")
    ax.set_title("Lemma A.9 on network (2): loss-trajectory deviation\n"
                 "(exact 0 drawn at 1e-17)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
