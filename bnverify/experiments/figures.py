"""Regenerate the paper's least-squares figures (Fig. 1, 5, 6, 7, 8) with data and findings.

:func:`make_figure` is what ``bnverify figure ID`` calls: it runs the sweep (with a progress bar
on stderr), writes for each panel a PNG, the raw data (``.npz``) and a JSON summary of the
quantified findings (seeds, settings, versions, timings recorded), and returns the summary.

Example
-------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:  # doctest: +SKIP
...     s = make_figure("7", d, quick=True, progress=False)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BNVerifyError
from ..progress import ProgressBar
from ..scheduling import check_scheduler, make_pool
from . import fig1 as f1
from . import mbngd as mb
from .common import provenance, write_json

FIGURE_IDS = ("1", "5", "6", "7", "8")
ALIASES = {
    "fig1": "1",
    "f1": "1",
    "fig5": "5",
    "f5": "5",
    "fig6": "6",
    "f6": "6",
    "fig7": "7",
    "f7": "7",
    "fig8": "8",
    "f8": "8",
}


def normalise_id(fig_id: str) -> list[str]:
    """``"1"``, ``"fig1"``, ``"F1"`` -> ``["1"]``; ``"all"`` -> every figure; else BNVerifyError."""
    key = str(fig_id).strip().lower()
    if key == "all":
        return list(FIGURE_IDS)
    key = ALIASES.get(key, key)
    if key not in FIGURE_IDS:
        raise BNVerifyError(
            f"figure: unknown figure ID {fig_id!r} (known: {', '.join(FIGURE_IDS)}, all; "
            "Fig. 2-3 are the deep-learning experiments: see `bnverify nets`)"
        )
    return [key]


def kappa_tag(kappa: float) -> str:
    """File-name tag of a condition number: ``10000`` for 1e4, ``31.6`` for 31.6."""
    return str(int(kappa)) if float(kappa).is_integer() else f"{kappa:g}"


def _out_dir(out: str | Path) -> Path:
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise BNVerifyError(f"out: {p} exists and is not a directory")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BNVerifyError(f"out: cannot create {p}: {exc.strerror}") from None
    return p


def make_figure(
    fig_id: str,
    out: str | Path,
    *,
    quick: bool = False,
    seed: int = 0,
    kappas: list[float] | None = None,
    u_file: str | None = None,
    progress: bool = True,
    write_npz: bool = True,
    prefix: str = "",
    mp_samples: int | None = None,
    command: str = "",
    recompute_all: bool = False,
    jobs: int | None = None,
    trust: bool = True,
    scheduler: str | None = None,
) -> dict[str, Any]:
    """Make one figure (or ``"all"``); returns ``{figure id: summary}``.

    ``scheduler``: a Dask scheduler address (or ``$BNVERIFY_SCHEDULER``): the high-precision
    recomputations then run on that cluster (:mod:`bnverify.scheduling`); the results are the
    same as with the local pool.

    Fig. 1: ``trust`` measures every cell's correct digits (default); untrusted cells are
    recomputed at high precision in ``jobs`` worker processes of a local Dask cluster (default: one per core): a fixed number per
    panel (``fig1.cells_for_budget(fig1.RECOMPUTE_BUDGET_S)``, about that many seconds on two
    workers; the same cells on every machine), or all of them with ``recompute_all``
    (``bnverify figure 1 --recompute-all``)."""
    ids = normalise_id(fig_id)
    if kappas is not None:
        for k in kappas:
            if not (np.isfinite(k) and k >= 1):
                raise BNVerifyError(f"kappa: condition numbers must be finite and >= 1, got {k}")
    if (kappas is not None or u_file is not None) and "1" not in ids:
        raise BNVerifyError("kappa/u: --kappa and --u apply to figure 1 only")
    if not isinstance(seed, int) or seed < 0:
        raise BNVerifyError(f"seed: must be a non-negative integer, got {seed!r}")
    if mp_samples is not None and mp_samples < 0:
        raise BNVerifyError(f"mp-samples: must be >= 0, got {mp_samples}")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise BNVerifyError(f"jobs: must be a positive integer, got {jobs!r}")
    scheduler = check_scheduler(scheduler)  # unreachable: one line, before any work
    outdir = _out_dir(out)
    result = {}
    for i in ids:
        opts = dict(
            quick=quick,
            seed=seed,
            progress=progress,
            write_npz=write_npz,
            prefix=prefix,
            command=command,
        )
        if i == "1":
            result[i] = figure1(
                outdir,
                kappas=kappas,
                u_file=u_file,
                mp_samples=mp_samples,
                recompute_all=recompute_all,
                jobs=jobs,
                trust=trust,
                scheduler=scheduler,
                **opts,
            )
        elif i in ("5", "6"):
            result[i] = figure56(i, outdir, recompute_all=recompute_all, jobs=jobs,
                                 scheduler=scheduler, **opts)
        else:
            result[i] = figure78(i, outdir, recompute_all=recompute_all, jobs=jobs,
                                 scheduler=scheduler, **opts)
    return result


# ----------------------------------------------------------------------------------------------


def figure1(
    outdir: Path,
    *,
    quick: bool,
    seed: int,
    kappas: list[float] | None,
    u_file: str | None,
    progress: bool,
    write_npz: bool,
    prefix: str,
    command: str,
    mp_samples: int | None = None,
    recompute_all: bool = False,
    jobs: int | None = None,
    trust: bool = True,
    scheduler: str | None = None,
) -> dict[str, Any]:
    """Fig. 1 at each condition number (F1, F1.claims).

    Per panel: the float64 sweep with its measured trust, the recomputation of untrusted cells
    at high precision (within the budget, or all with ``recompute_all``), a high-precision spot
    check of ``mp_samples`` trusted cells, the analysis over trusted cells, the plot (untrusted
    cells hatched), the data file and the summary's ``trust`` record."""
    from .plotting import plot_fig1

    kw: dict[str, Any] = {"seed": seed, "trust": bool(trust), "recompute_all": bool(recompute_all)}
    if kappas:
        kw["kappas"] = tuple(float(k) for k in kappas)
    if mp_samples is not None:
        kw["mp_samples"] = int(mp_samples)
    if jobs is not None:
        kw["jobs"] = int(jobs)
    s = f1.Fig1Settings.quick(**kw) if quick else f1.Fig1Settings(**kw)
    u = f1.load_u(u_file, s.d) if u_file else f1.draw_u(seed, s.d)
    s.u = u if u_file else None
    t_all = time.perf_counter()
    panels, files, timings = [], [], {}
    rng = np.random.default_rng([seed, 11])
    bar = ProgressBar(len(s.kappas) * len(s.a0), "fig1 sweep", enabled=progress)
    # the worker pool serves the recomputation (and then the spot check); without it the spot
    # check runs here, as before issue 11
    pooled = s.trust and (s.recompute_budget_s > 0 or s.recompute_all) and (
        s.jobs > 1 or scheduler is not None
    )
    with bar, make_pool(s.jobs, scheduler, progress=progress) as pool:
        if pooled:
            pool.start()  # the workers start while the first sweep runs
        for kappa in s.kappas:
            t0 = time.perf_counter()
            data = f1.compute_fig1(kappa, u, s, bar, pool=pool)
            t_sweep = time.perf_counter() - t0 - float(data.get("recompute_seconds", 0.0))
            an = f1.analyse_fig1(data)
            t1 = time.perf_counter()
            mp = f1.mp_confirm(data, s.mp_samples, rng, dps=s.mp_dps, pool=pool if pooled else None)
            t_mp = time.perf_counter() - t1
            tag = kappa_tag(kappa)
            trust_rec = f1.trust_summary(data)
            png, hatched = plot_fig1(
                data, f1.categories(data), outdir / f"{prefix}fig1_kappa{tag}.png"
            )
            trust_rec["hatched"] = hatched
            files.append(png.name)
            if write_npz:
                npz = outdir / f"{prefix}fig1_kappa{tag}.npz"
                np.savez_compressed(
                    npz, **{k: np.asarray(v) for k, v in data.items() if not k.startswith("_")}
                )
                files.append(npz.name)
            findings = {
                name: dict(zip(("holds", "evidence"), fn(an), strict=False))
                for name, fn in (
                    ("bngd_beats_optimal_gd", f1.finding_beats_gd),
                    (
                        "bngd_widens_near_optimal_band",
                        lambda a: f1.band_finding(f1.finding_widens, a),
                    ),
                    (
                        "band_shrinks_as_a0_grows",
                        lambda a: f1.band_finding(f1.finding_band_vs_a0, a),
                    ),
                    ("small_eps_a_weakens_bn", f1.finding_small_eps_a),
                    ("gd_rate_matches_closed_form", f1.finding_gd_rate),
                )
            }
            panels.append(
                {
                    "kappa": kappa,
                    "analysis": an,
                    "findings": findings,
                    "trust": trust_rec,
                    "mp_confirmation": mp,
                    "seconds": {
                        "sweep": round(t_sweep, 2),
                        "recompute": round(trust_rec["recompute_seconds"], 2),
                        "mp": round(t_mp, 2),
                        "panel": round(time.perf_counter() - t0, 2),
                    },
                }
            )
            timings[tag] = round(t_sweep, 2)
    summary = {
        "figure": "1",
        "claims": ["F1", "F1.claims"],
        "provenance": provenance(seed, {**s.to_json(), "quick": quick}, command),
        "u_source": f"file {u_file}" if u_file else f"unit sphere, default_rng([{seed}, 1])",
        "mp_sample_rng": f"default_rng([{seed}, 11])",
        "trust_note": (
            "Each cell's correct digits are measured by the engine's shadow copies (trust=True, "
            f"min_digits={s.min_digits:g} relative to the loss floor). Untrusted cells are "
            "recomputed at high precision (digits ladder "
            f"{list(s.mp_dps)}, two successive precisions must agree to "
            f"{f1.MP_STABLE_DIGITS} digits) nearest the colour boundaries first, within "
            + (
                "no time limit (recompute_all)"
                if s.recompute_all
                else f"{s.recompute_budget_s:g} s per panel"
            )
            + f" on {s.jobs} worker process(es); cells left untrusted are hatched in the plot "
            "and excluded from every statistic."
        ),
        "panels": panels,
        "seconds_total": round(time.perf_counter() - t_all, 2),
        "seconds_sweep_by_kappa": timings,
        "files": files,
        "resemblance_note": (
            "The caption does not print the panels' kappa values (the image is lost in the text "
            "extraction). The 'loss_BN < loss_GD' colour can only appear where optimal GD has "
            "not reached the float64 rounding floor within 2000 steps, i.e. kappa >= ~1000 here; "
            "panels with all four colours, as in the legend, need kappa >= 1000."
        ),
    }
    write_json(outdir / f"{prefix}fig1_summary.json", summary)
    summary["files"].append(f"{prefix}fig1_summary.json")
    return summary


def figure56(
    fig: str,
    outdir: Path,
    *,
    quick: bool,
    seed: int,
    progress: bool,
    write_npz: bool,
    prefix: str,
    command: str,
    recompute_all: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
) -> dict[str, Any]:
    """Fig. 5 (d = 5) or Fig. 6 (d = 100): MBNGD versus GD over eps (F5, F6, E81, T-B.1).
    Untrusted MBNGD runs are recomputed at high precision within ``mb.RECOMPUTE_BUDGET_S``
    (all with ``recompute_all``) in ``jobs`` workers of a local Dask cluster (default: one per core)."""
    from .plotting import plot_fig56

    s = mb.fig5_settings(quick, seed) if fig == "5" else mb.fig6_settings(quick, seed)
    s.recompute_all = bool(recompute_all)
    if quick:
        s.recompute_budget_s = f1.RECOMPUTE_BUDGET_QUICK_S
    chunks = 10
    t0 = time.perf_counter()
    with (
        ProgressBar(chunks, f"fig{fig} sweep", enabled=progress) as bar,
        make_pool(jobs or f1.default_jobs(), scheduler, progress=progress) as pool,
    ):
        pool.start()
        data = mb.compute_sweep(s, bar, chunks=chunks, pool=pool)
    secs = time.perf_counter() - t0
    rec = data.pop("_recompute", {})
    res = mb.analyse_sweep(data)
    summ = res["summary"]
    title = (
        f"Fig. {fig}: {s.tests} random tests, H = diag("
        + ("logspace(0, log10 2000, 5)" if fig == "5" else "linspace(1, 2000, 100)")
        + f"), {s.steps} steps"
    )
    files = [plot_fig56(data, res["stats"], outdir / f"{prefix}fig{fig}.png", title).name]
    if write_npz:
        npz = outdir / f"{prefix}fig{fig}.npz"
        extra = {f"stat_{k}": np.asarray(v) for k, v in res["stats"].items()}
        np.savez_compressed(npz, **{k: np.asarray(v) for k, v in data.items()}, **extra)
        files.append(npz.name)
    findings = {
        name: dict(zip(("holds", "evidence"), fn(summ), strict=False))
        for name, fn in (
            ("optimal_mbngd_rate_better_than_gd", mb.finding_mbngd_better),
            ("figure_level_loss_better_than_gd", mb.finding_figure_level_better),
            ("gmean_more_reliable_than_amean", mb.finding_gmean_reliable),
            ("mbngd_converges_for_every_eps", mb.finding_converges),
        )
    }
    summary = {
        "figure": fig,
        "claims": ["F5", "E81", "T-B.1"] if fig == "5" else ["F6", "E81", "T-B.1"],
        "provenance": provenance(seed, {**s.to_json(), "quick": quick}, command),
        "tests_rng": f"default_rng([{seed}, 5]): u then w0, unit sphere",
        "summary": summ,
        "findings": findings,
        "trust": {
            "min_digits": s.min_digits,
            "runs": summ["untrusted_excluded"]["runs"],
            **rec,
            "excluded": summ["untrusted_excluded"],
        },
        "seconds": round(secs, 2),
        "files": files,
    }
    write_json(outdir / f"{prefix}fig{fig}_summary.json", summary)
    files.append(f"{prefix}fig{fig}_summary.json")
    return summary


def figure78(
    fig: str,
    outdir: Path,
    *,
    quick: bool,
    seed: int,
    progress: bool,
    write_npz: bool,
    prefix: str,
    command: str,
    recompute_all: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
) -> dict[str, Any]:
    """Fig. 7 (width of the near-optimal eps interval versus d) or Fig. 8 (versus cond).
    Untrusted MBNGD runs are recomputed at high precision within ``mb.RECOMPUTE_BUDGET_S`` for
    the figure (all with ``recompute_all``) in ``jobs`` workers of a local Dask cluster (default: one per core)."""
    from .plotting import plot_interval

    if fig == "7":
        xs = np.array(mb.FIG7_DIMS_QUICK if quick else mb.FIG7_DIMS, dtype=float)
        spectra = [np.linspace(1, 2000, int(d)) for d in xs]
        labels = [f"d={int(d)}" for d in xs]
        xlabel, what = "dimension d", "H = diag(linspace(1, 2000, d))"
        finding = mb.finding_width_grows
        claim = "F7"
    else:
        xs = np.array(mb.FIG8_CONDS_QUICK if quick else mb.FIG8_CONDS, dtype=float)
        spectra = [np.linspace(1, c, 100) for c in xs]
        labels = [f"cond={c:g}" for c in xs]
        xlabel, what = "condition number", "H = diag(linspace(1, cond, 100))"
        finding = mb.finding_cond_little_effect
        claim = "F8"
    t0 = time.perf_counter()
    budget = f1.RECOMPUTE_BUDGET_QUICK_S if quick else mb.RECOMPUTE_BUDGET_S
    with (
        ProgressBar(len(xs), f"fig{fig} sweep", enabled=progress) as bar,
        make_pool(jobs or f1.default_jobs(), scheduler, progress=progress) as pool,
    ):
        pool.start()
        res = mb.compute_interval_sweep(
            spectra, labels, quick, seed, bar, pool, budget, bool(recompute_all)
        )
    secs = time.perf_counter() - t0
    fit = mb.fit_trend(xs, res["widths"])
    fit_late = mb.fit_trend(xs, res["widths_late"])
    curves = [(res["eps"], r) for r in res["exponent_ratio"]]
    title = (
        f"Fig. {fig}: {what}; MBNGD, {res['tests']} tests per point, steps where GD(opt) "
        f"reduces its loss bound {1 / mb.HORIZON_REDUCTION:.0e}x"
    )
    files = [
        plot_interval(
            xs, curves, res["widths"], fit, xlabel, outdir / f"{prefix}fig{fig}.png", title, labels
        ).name
    ]
    if write_npz:
        npz = outdir / f"{prefix}fig{fig}.npz"
        np.savez_compressed(
            npz,
            x=xs,
            eps=res["eps"],
            widths=res["widths"],
            widths_late=res["widths_late"],
            widths_upper=res["widths_upper"],
            widths_late_upper=res["widths_late_upper"],
            exponent_ratio=res["exponent_ratio"],
            late_rate_ratio=res["late_rate_ratio"],
            steps=res["steps"],
            trusted=res["trusted"],
            digits=res["digits"],
            untrusted=res["untrusted"],
            untrusted_float64=res["untrusted_float64"],
            recomputed=res["recomputed"],
        )
        files.append(npz.name)
    holds, ev = mb.interval_finding(finding, xs, res["widths"], res["widths_upper"])
    holds_late, ev_late = mb.interval_finding(
        finding, xs, res["widths_late"], res["widths_late_upper"]
    )
    n_out = int(np.sum(res["untrusted"]))
    if n_out:
        note = f"; {n_out} untrusted float64 MBNGD runs excluded"
        ev, ev_late = ev + note, ev_late + note
    summary = {
        "figure": fig,
        "claims": [claim],
        "provenance": provenance(
            seed,
            {
                "x": xs.tolist(),
                "tests": res["tests"],
                "steps": res["steps"].tolist(),
                "eps": {
                    "n": len(res["eps"]),
                    "min": float(res["eps"][0]),
                    "max": float(res["eps"][-1]),
                },
                "horizon_reduction": mb.HORIZON_REDUCTION,
                "near_ratio": mb.NEAR_RATIO,
                "quick": quick,
            },
            command,
        ),
        "tests_rng": f"point i: default_rng([{seed} + 1000 i, 5])",
        "x": xs,
        "widths_decades": res["widths"],
        "widths_late_rate_decades": res["widths_late"],
        "best_exponent_ratio": res["best_exponent_ratio"],
        "edges_log10_eps": [p["near_optimal_edges_log10_eps"] for p in res["per_point"]],
        "fit": fit,
        "fit_late_rate": fit_late,
        "findings": {
            "as_printed": {"holds": holds, "evidence": ev},
            "late_rate_reading": {"holds": holds_late, "evidence": ev_late},
        },
        "per_point": res["per_point"],
        "untrusted_excluded": n_out,
        "untrusted_by_point": res["untrusted"].sum(axis=1),
        "untrusted_float64_by_point": res["untrusted_float64"],
        "recomputed_by_point": res["recomputed"],
        "seconds": round(secs, 2),
        "files": files,
    }
    write_json(outdir / f"{prefix}fig{fig}_summary.json", summary)
    files.append(f"{prefix}fig{fig}_summary.json")
    return summary


def _word(holds: bool | None) -> str:
    return "undecided" if holds is None else ("holds" if holds else "FAILS")


def format_summary(result: dict[str, Any]) -> str:
    """Short human-readable report of :func:`make_figure`'s result."""
    lines = []
    for fig, s in result.items():
        if fig == "1":
            lines.append(f"Fig. 1 ({s['seconds_total']:.1f} s)")
            for p in s["panels"]:
                mp = p["mp_confirmation"]
                lines.append(
                    f"  kappa={p['kappa']:g}: sweep {p['seconds']['sweep']:.1f} s, "
                    f"high-precision check of {mp['n']} trusted cells: {mp['disagree']} differ, "
                    f"{mp['unresolved']} unresolved"
                )
                t = p.get("trust")
                if t and t["measured"]:
                    lines.append(
                        f"    trust: {t['untrusted_float64']} of {t['cells']} cells untrusted in "
                        f"float64 (< {t['min_digits']:g} digits), {t['recomputed']} recomputed "
                        f"at high precision in {t['recompute_seconds']:.1f} s "
                        f"({t['colour_changed_by_recompute']} changed colour), "
                        f"{t['left_untrusted']} left untrusted (hatched, excluded from the "
                        "statistics)"
                    )
                for name, f in p["findings"].items():
                    lines.append(f"    [{_word(f['holds'])}] {name}: {f['evidence']}")
        else:
            lines.append(f"Fig. {fig} ({s['seconds']:.1f} s)")
            for name, f in s["findings"].items():
                lines.append(f"    [{_word(f['holds'])}] {name}: {f['evidence']}")
        lines.append("  files: " + ", ".join(s["files"]))
    return "\n".join(lines)
