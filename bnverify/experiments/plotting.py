"""Matplotlib drawing of the OLS figures, styled close to the paper (MATLAB-like defaults:
``imagesc`` panels with a parula-like palette for Fig. 1, log-log line plots with the GD curve
in black for Fig. 5-8).  Imported lazily (Agg back end), so that computing never needs a display.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: Fig. 1 colours, from MATLAB's parula at 0, 1/3, 2/3, 1: (far, worse), (far, better),
#: (near, worse), (near, better); diverged cells are drawn in light grey.
FIG1_COLOURS = ("#352a87", "#0d93d2", "#a5be6a", "#f9fb0e")
FIG1_LABELS = (
    "not close, loss_BN >= loss_GD",
    "not close, loss_BN < loss_GD",
    "close to optimal, loss_BN >= loss_GD",
    "close to optimal, loss_BN < loss_GD",
)
DIVERGED_COLOUR = "#d0d0d0"
#: untrusted cells (float64 lost its digits, no high-precision value): hatched over their colour
UNTRUSTED_HATCH = "xxxx"
UNTRUSTED_EDGE = "#e8001c"
UNTRUSTED_GID = "untrusted-cell"
#: test-mean colours: MATLAB's default line order
LINE_COLOURS = ("#0072bd", "#d95319", "#edb120", "#7e2f8e", "#77ac30", "#4dbeee", "#a2142f")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 8, "axes.titlesize": 9, "savefig.dpi": 110})
    return plt


def hatched_patches(fig) -> int:
    """Number of hatched cell patches drawn on the axes of ``fig`` (the untrusted cells of Fig. 1;
    the legend's sample patch is not on an axes)."""
    return sum(
        1 for ax in fig.axes for p in ax.patches if p.get_hatch() and p.get_gid() == UNTRUSTED_GID
    )


def draw_fig1(data: dict[str, Any], categories: dict[str, np.ndarray]):
    """The Fig. 1 image for one kappa (see :func:`plot_fig1`); returns ``(figure, hatched)``,
    ``hatched`` counted from the patches actually drawn."""
    plt = _plt()
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch, Rectangle

    near, better, div = categories["near"], categories["better"], categories["diverged"]
    trusted = categories.get("trusted")
    if trusted is None:
        trusted = np.ones(near.shape, dtype=bool)
    code = 2 * near.astype(int) + better.astype(int)
    code = np.where(div, 4, code)
    cmap = ListedColormap(list(FIG1_COLOURS) + [DIVERGED_COLOUR])
    a0 = np.asarray(data["a0"])
    lea, le = np.log10(data["eps_a"]), np.log10(data["eps"])
    n = len(a0)
    fig, axes = plt.subplots(
        1, n + 1, figsize=(2.1 * (n + 1) + 0.5, 3.1), gridspec_kw={"width_ratios": [1] * n + [1.25]}
    )
    dx = (lea[1] - lea[0]) / 2 if lea.size > 1 else 0.5
    dy = (le[1] - le[0]) / 2 if le.size > 1 else 0.5
    extent = (lea[0] - dx, lea[-1] + dx, le[0] - dy, le[-1] + dy)
    for j in range(n):
        ax = axes[j]
        ax.imshow(
            code[:, :, j].T,
            origin="lower",
            aspect="auto",
            extent=extent,
            cmap=cmap,
            vmin=-0.5,
            vmax=4.5,
            interpolation="nearest",
        )
        # untrusted cells: the stored (float64) colour under a hatch
        for i, k in np.argwhere(~trusted[:, :, j]):
            ax.add_patch(
                Rectangle(
                    (lea[i] - dx, le[k] - dy),
                    2 * dx,
                    2 * dy,
                    fill=False,
                    hatch=UNTRUSTED_HATCH,
                    edgecolor=UNTRUSTED_EDGE,
                    lw=0.0,
                    gid=UNTRUSTED_GID,
                )
            )
        ax.axhline(np.log10(data["eps_opt"]), color="w", lw=0.6, ls=":")
        ax.set_title(f"a0 = {a0[j]:g}")
        ax.set_xlabel("log10 eps_a")
        if j == 0:
            ax.set_ylabel("log10 eps")
        else:
            ax.set_yticklabels([])
    ax = axes[-1]
    steps = np.arange(len(data["gd_loss_history"]))
    ax.semilogy(steps, np.maximum(data["gd_loss_history"], 1e-40), "k-", lw=1.4, label="GD(opt)")
    for c, (e, curve) in enumerate(zip(data["curve_eps"], data["curve_loss"], strict=False)):
        ax.semilogy(
            data["curve_steps"],
            np.maximum(curve, 1e-40),
            color=LINE_COLOURS[c],
            lw=1,
            label=f"BNGD eps={e:.3g}",
        )
    ax.set_xlabel("step k")
    ax.set_ylabel("loss")
    ax.set_title("a0 = 1, eps_a = 1")
    ax.legend(fontsize=6, loc="lower left")
    handles = [Patch(color=c, label=l) for c, l in zip(FIG1_COLOURS, FIG1_LABELS, strict=False)]
    handles.append(Patch(color=DIVERGED_COLOUR, label="diverged"))
    n_untrusted = int((~trusted).sum())
    if n_untrusted:
        handles.append(
            Patch(
                facecolor="none",
                edgecolor=UNTRUSTED_EDGE,
                hatch=UNTRUSTED_HATCH,
                label=f"untrusted float64 ({n_untrusted} cells, excluded)",
            )
        )
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=6.5, frameon=False)
    n_rec = int(np.asarray(data.get("recomputed", False)).sum())
    fig.suptitle(
        f"Fig. 1: BNGD vs GD(opt), H = diag(logspace(0, log10 {data['kappa']:g}, "
        f"{len(data['h'])})), {int(data['steps'])} steps (dotted: eps_opt)"
        + (
            f"; {n_rec} cells recomputed at high precision, {n_untrusted} hatched"
            if "trusted" in data
            else ""
        ),
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    return fig, hatched_patches(fig)


def plot_fig1(
    data: dict[str, Any], categories: dict[str, np.ndarray], path: Path
) -> tuple[Path, int]:
    """One Fig. 1 image for one kappa: five panels (a0 = 10 ... 1e-8), x = log10 eps_a,
    y = log10 eps, four colours (close to eps_opt?) x (loss_BN < loss_GD?), plus the loss curves
    of GD(opt) and of BNGD at a0 = 1, eps_a = 1 for three eps.  Cells that are not trusted
    (``categories["trusted"]`` False) are drawn hatched over their stored colour.  Returns the
    path and the number of hatched cells."""
    plt = _plt()
    fig, hatched = draw_fig1(data, categories)
    fig.savefig(path)
    plt.close(fig)
    return path, hatched


def plot_fig56(data: dict[str, Any], stats: dict[str, Any], path: Path, title: str) -> Path:
    """Fig. 5/6: effective step, loss ||e_k||_H^2 and error ||e_k|| versus eps for MBNGD, with
    every test (thin grey), the G-mean and A-mean over the tests, and GD (black; the GD(opt)
    level dashed)."""
    plt = _plt()
    eps = np.asarray(data["eps"])
    fig, axes = plt.subplots(1, 4, figsize=(12.5, 3.2))
    panels = (
        ("eff_step", "effective step size"),
        ("loss", "loss ||e_k||_H^2"),
        ("err", "error ||e_k||"),
    )
    for ax, (key, label) in zip(axes[:3], panels, strict=False):
        mb = np.asarray(data[f"mb_{key}"])
        show = mb[: min(40, mb.shape[0])]
        for row in show:
            ax.loglog(eps, np.abs(row), color="0.8", lw=0.4)
        ax.loglog(
            eps, stats[f"mb_{key}_gmean"], color=LINE_COLOURS[0], lw=1.6, label="MBNGD G-mean"
        )
        ax.loglog(
            eps,
            stats[f"mb_{key}_amean"],
            color=LINE_COLOURS[1],
            lw=1.2,
            ls="--",
            label="MBNGD A-mean",
        )
        if key == "eff_step":
            ax.loglog(eps, eps, "k-", lw=1, label="GD (eps^ = eps)")
            ax.axhline(data["eps_opt"], color="k", ls=":", lw=0.8, label="eps_opt")
        else:
            ax.loglog(eps, stats[f"gd_{key}_gmean"], "k-", lw=1.2, label="GD G-mean")
            ax.axhline(
                stats[f"gd_opt_{key}_gmean"], color="k", ls="--", lw=0.8, label="GD(eps_opt) G-mean"
            )
        ax.set_xlabel("eps")
        ax.set_title(label)
    axes[0].legend(fontsize=6)
    axes[1].legend(fontsize=6)
    ax = axes[3]
    n = np.arange(1, len(stats["running_gmean"]) + 1)
    ax.semilogy(n, stats["running_gmean"], color=LINE_COLOURS[0], label="G-mean")
    ax.semilogy(n, stats["running_amean"], color=LINE_COLOURS[1], ls="--", label="A-mean")
    ax.set_xlabel("number of tests")
    ax.set_title(f"running means of the loss at eps={stats['running_eps']:.3g}")
    ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_interval(
    xs: np.ndarray,
    curves: list[tuple[np.ndarray, np.ndarray]],
    widths: np.ndarray,
    fit: dict[str, Any],
    xlabel: str,
    path: Path,
    title: str,
    labels: list[str],
) -> Path:
    """Fig. 7/8: left, G-mean MBNGD loss exponent relative to optimal GD versus eps for each d
    (or cond), with the near-optimal threshold; right, the width of the near-optimal interval
    versus d (or cond) with the fitted trend."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4))
    ax = axes[0]
    for c, ((eps, ratio), lab) in enumerate(zip(curves, labels, strict=False)):
        ax.semilogx(eps, ratio, color=LINE_COLOURS[c % len(LINE_COLOURS)], lw=1.1, label=lab)
    ax.axhline(fit["threshold"], color="k", ls=":", lw=0.8, label="near-optimal threshold")
    ax.set_xlabel("eps")
    ax.set_ylabel("MBNGD rate exponent / GD(opt) exponent")
    ax.set_ylim(bottom=-0.1)
    ax.legend(fontsize=6)
    ax = axes[1]
    ax.semilogx(xs, widths, "o-", color=LINE_COLOURS[0], label="measured")
    xx = np.logspace(np.log10(xs.min()), np.log10(xs.max()), 50)
    ax.semilogx(
        xx,
        fit["intercept"] + fit["slope"] * np.log10(xx),
        "k--",
        lw=0.8,
        label=f"fit: {fit['slope']:+.2f} decades per decade",
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("width of near-optimal eps interval (decades)")
    ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    fig.savefig(path)
    plt.close(fig)
    return path
