"""``bnverify nets ...``: the network experiments of §4.2 on the optional torch back end.

    bnverify nets figure 3 [--dataset mnist|fashion|cifar10] [--quick] [--data-dir DIR]
                           [--seed N] [--device auto|cpu|cuda] --out DIR
    bnverify nets figure 2 [--quick] [--data-dir DIR] ... --out DIR
    bnverify nets figure 2|3 --setup paper|authors|authors-fixed ...   (docs/nets.md)
    bnverify nets a9 [--quick] --out DIR        (Lemma A.9 on networks)
    bnverify nets data [--dataset NAME] [--data-dir DIR]   (which data a run would use)

Without torch, every subcommand except ``data`` prints how to install it and exits 2.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import BNVerifyError
from ..nets import INSTALL_HINT
from ..safeio import check_output_path, refuse_existing, staged_dir
from ._types import int_in_range, seed_int

#: upper bounds of the size flags (far beyond the paper's settings; they keep a typo from
#: starting a run of years)
MAX_N_TRAIN = 10**7
MAX_SEEDS = 1000
MAX_PER_DECADE = 1000


def _torch_missing() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return True
    return False


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return v


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("nets", help="network experiments of §4.2 (needs the torch extra)",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="nets_command", metavar="{figure,a9,data}",
                           parser_class=type(p))
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--quick", action="store_true",
                       help="small CPU profile (subsets, coarser grid); see docs/nets.md")
        q.add_argument("--seed", type=seed_int, default=0,
                       help="first seed (runs use seed..seed+k-1)")
        q.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
        q.add_argument("--out", type=Path, required=True,
                       help="output directory (created if missing, its parent must exist)")
        q.add_argument("--force", action="store_true",
                       help="overwrite this experiment's files already in --out")

    f = sub.add_parser("figure", help="reproduce Fig. 2 or Fig. 3 (PNG + npz + JSON)")
    f.add_argument("number", choices=("2", "3"))
    f.add_argument("--dataset", choices=("mnist", "fashion", "cifar10"), default=None,
                   help="Fig. 3 panel (default: mnist and fashion); Fig. 2 uses mnist")
    f.add_argument("--data-dir", default=None,
                   help="directory with the standard files (IDX or CIFAR-10 python batches)")
    f.add_argument("--net", choices=("1fc", "2cnn2fc", "2cnn3fc"), default=None,
                   help="override the panel's network (default: as in the paper)")
    f.add_argument("--n-train", type=int_in_range(1, MAX_N_TRAIN, "a positive integer"),
                   default=None, help="use the first N training images (default: profile)")
    f.add_argument("--seeds", type=int_in_range(1, MAX_SEEDS, "a positive integer"),
                   default=None, help=f"number of seeds (at most {MAX_SEEDS})")
    f.add_argument("--per-decade", type=int_in_range(1, MAX_PER_DECADE, "a positive integer"),
                   default=None, help="learning-rate grid points per decade")
    f.add_argument("--lr-a", type=_positive_float, default=None,
                   help="learning rate of the BN parameters in the separate-lr method "
                        "(default: 0.1 for --setup paper, the setup's choice otherwise)")
    f.add_argument("--setup", default="paper",
                   help="paper (as printed, default), authors (the authors' scripts, "
                        "Lightmann/BatchNormGD) or authors-fixed (their BN model with its "
                        "second convolution used); bnverify/nets/setups.py")
    f.add_argument("--plot-step", type=int_in_range(0, 10**6, "a step number"), default=None,
                   help="authors setups: the logged step whose loss is plotted (default 550)")
    f.add_argument("--grid-stride", type=int_in_range(1, 40, "a positive integer"),
                   default=None, help="authors setups: use every k-th point of their grids")
    common(f)
    f.set_defaults(func=_figure)

    a = sub.add_parser("a9", help="Lemma A.9 on networks: scaling weights by r and lr by r^2")
    common(a)
    a.set_defaults(func=_a9)

    d = sub.add_parser("data", help="show which data a run would load (no torch needed)")
    d.add_argument("--dataset", choices=("mnist", "fashion", "cifar10"), default="mnist")
    d.add_argument("--data-dir", default=None)
    d.set_defaults(func=_data)


def _data(args: argparse.Namespace) -> int:
    from ..nets.data import load_dataset

    ds = load_dataset(args.dataset, args.data_dir)
    counts = [int((ds.y == k).sum()) for k in range(10)]
    print(json.dumps({"dataset": ds.name, "source": ds.source, "n": len(ds),
                      "shape": list(ds.x.shape[1:]), "per_class": counts}))
    return 0


def _setup(args: argparse.Namespace, stem: str) -> Any:
    """Check torch, the output directory and the files ``<stem>.png/.npz/.json`` (refused when
    present, unless --force) before any work; return the torch device, or None without torch."""
    if _torch_missing():
        sys.stderr.write(f"error: {INSTALL_HINT}\n")
        return None
    check_output_path(args.out, force=args.force, is_dir=True, name="out")
    refuse_existing(args.out, [f"{stem}.{ext}" for ext in ("png", "npz", "json")],
                    force=args.force)
    data_dir = getattr(args, "data_dir", None)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise BNVerifyError(f"data-dir: not a directory: {data_dir}")
    from ..nets.train import resolve_device

    return resolve_device(args.device)


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    from ..claims import to_jsonable

    path.write_text(json.dumps(to_jsonable(obj), indent=1) + "\n")


def _command_line() -> str:
    return "bnverify " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _check_setup_args(args: argparse.Namespace) -> None:
    """Refuse, before any work, what a setup cannot run (one ``error:`` line, exit 2)."""
    from ..nets import setups as su

    su.check_setup(args.setup)
    if args.setup == "paper":
        for flag, v in (("--plot-step", args.plot_step), ("--grid-stride", args.grid_stride)):
            if v is not None:
                raise BNVerifyError(f"setup: {flag} applies to the authors' setups only")
        return
    if args.per_decade is not None:
        raise BNVerifyError("setup: the authors' setups use their scripts' grids "
                            "(use --grid-stride, not --per-decade)")
    if args.net is not None:
        raise BNVerifyError("setup: the authors' setups use their scripts' networks (omit --net)")
    if args.number == "3":
        for d in [args.dataset] if args.dataset else ["mnist", "fashion"]:
            su.authors_panel(d)


def _figure(args: argparse.Namespace) -> int:
    tag = "_quick" if args.quick else ""
    _check_setup_args(args)
    setup_tag = "" if args.setup == "paper" else f"_{args.setup}"
    name = f"nets_fig{args.number}{setup_tag}{tag}"
    if args.number == "3" and args.data_dir and not args.dataset:
        raise BNVerifyError("data-dir: name the data set it holds with --dataset")
    if args.number == "2" and args.dataset not in (None, "mnist"):
        raise BNVerifyError("dataset: Fig. 2 is the MNIST experiment (omit --dataset)")
    device = _setup(args, name)
    if device is None:
        return 2
    # the files are written into a temporary directory beside --out and moved in at the end
    with staged_dir(args.out) as tmp:
        _figure_files(args, device, tmp / name)
    stem = args.out / name
    print(f"wrote {stem}.png, {stem}.npz, {stem}.json")
    return 0


def _figure_files(args: argparse.Namespace, device: Any, stem: Path) -> None:
    import numpy as np

    from ..nets import experiments as ex
    from ..nets import plots

    key = "quick" if args.quick else "full"
    if args.setup != "paper":
        _authors_files(args, device, stem, key)
        return
    from ..nets.setups import setup_record

    lr_a = 0.1 if args.lr_a is None else args.lr_a
    if args.number == "3":
        names = [args.dataset] if args.dataset else ["mnist", "fashion"]
        panels = []
        for name in names:
            prof = ex.FIG3_PROFILES[key][name]
            prof = _override(prof, args)
            t0 = time.perf_counter()
            panel = ex.run_fig3_panel(name, prof, device, args.seed, args.data_dir, args.net,
                                      lr_a)
            print(f"fig3 {name}: {len(panel.seeds)} seeds x {len(panel.lrs)} lrs x 3 methods, "
                  f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
            panels.append(panel)
        plots.plot_fig3(panels, stem.with_suffix(".png"),
                        "Fig. 3: loss after epoch 1 vs learning rate (mean, min-max band)")
        arrays = {}
        for p in panels:
            arrays[f"{p.dataset}_lrs"] = p.lrs
            for m, v in p.losses.items():
                arrays[f"{p.dataset}_{m}"] = v
        np.savez_compressed(stem.with_suffix(".npz"), **arrays)
        summary = ex.settings_json(figure="3", command=_command_line(), profile=key,
                                   device=str(device), seed=args.seed,
                                   setup=setup_record("paper", "3"),
                                   panels=[ex.panel_json(p) for p in panels])
        _write_json(stem.with_suffix(".json"), summary)
    else:
        prof = _override(ex.FIG2_PROFILES[key], args)
        res = ex.run_fig2(prof, device, seed=args.seed, data_dir=args.data_dir, lr_a=lr_a)
        plots.plot_fig2(res, stem.with_suffix(".png"))
        np.savez_compressed(stem.with_suffix(".npz"), base_lrs=res.base_lrs,
                            etas=np.array(res.etas),
                            losses=np.stack([res.losses[e] for e in res.etas]))
        ref = max(res.etas)
        summary = ex.settings_json(
            figure="2", command=_command_line(), profile=key, device=str(device),
            seed=args.seed, setup=setup_record("paper", "2"), data_source=res.source, n_train=res.n_train, seeds=res.seeds,
            lr_a=res.lr_a, power=res.power, etas=res.etas, base_lrs=res.base_lrs,
            loss_at_init=res.init_loss, seconds=round(res.seconds, 2),
            mean_loss={str(e): res.mean(e) for e in res.etas},
            deviation_from_largest_eta={str(e): res.deviation(e, ref) for e in res.etas},
        )
        _write_json(stem.with_suffix(".json"), summary)


def _authors_sizes(args: argparse.Namespace, key: str, what: str) -> dict[str, Any]:
    from ..nets import setups as su

    size = dict(su.AUTHORS_QUICK[what] if key == "quick" else su.AUTHORS_FULL)
    for k, v in (("n_train", args.n_train), ("seeds", args.seeds),
                 ("plot_step", args.plot_step), ("stride", args.grid_stride)):
        if v is not None:
            size[k] = v
    return size


def _authors_files(args: argparse.Namespace, device: Any, stem: Path, key: str) -> None:
    """``--setup authors|authors-fixed``: Fig. 3 panels or Fig. 2 in the authors' settings."""
    import numpy as np

    from ..nets import authors as au
    from ..nets import experiments as ex
    from ..nets import plots
    from ..nets import setups as su

    record = su.setup_record(args.setup, args.number)
    if args.number == "3":
        names = [args.dataset] if args.dataset else ["mnist", "fashion"]
        panels, arrays, sizes = [], {}, {}
        for name in names:
            size = _authors_sizes(args, key, name)
            sizes[name] = size
            t0 = time.perf_counter()
            p = au.run_authors_fig3(name, args.setup, device, args.seed, size["seeds"],
                                    size["n_train"], size["plot_step"], size["stride"],
                                    args.lr_a, args.data_dir)
            print(f"fig3 {name} ({args.setup}): {len(p.seeds)} seeds, "
                  f"{sum(len(v) for v in p.lrs.values())} lrs over 3 methods, "
                  f"{size['plot_step'] + 1} steps, {time.perf_counter() - t0:.1f} s",
                  file=sys.stderr)
            panels.append(p)
            arrays[f"{name}_log_steps"] = p.log_steps
            for m in p.logs:
                arrays[f"{name}_{m}_lrs"] = p.lrs[m]
                arrays[f"{name}_{m}_logs"] = p.logs[m]  # (lr, seed, logged step)
        plots.plot_authors_fig3(panels, stem.with_suffix(".png"),
                                f"Fig. 3, setup {args.setup}: post-update minibatch loss at "
                                f"the plotted step vs learning rate")
        np.savez_compressed(stem.with_suffix(".npz"), **arrays)
        summary = ex.settings_json(figure="3", command=_command_line(), profile=key,
                                   device=str(device), seed=args.seed, setup=record,
                                   sizes=sizes,
                                   panels=[au.authors_panel_json(p) for p in panels],
                                   f3_claims=au.claims_table(panels))
        _write_json(stem.with_suffix(".json"), summary)
        return
    if args.dataset not in (None, "mnist"):
        raise BNVerifyError("dataset: Fig. 2 is the MNIST experiment (omit --dataset)")
    size = _authors_sizes(args, key, "fig2")
    res, extra = au.run_authors_fig2(args.setup, device, args.seed, size["seeds"],
                                     size["n_train"], size["plot_step"], size["stride"],
                                     size.get("etas"), args.lr_a, args.data_dir)
    plots.plot_fig2(res, stem.with_suffix(".png"),
                    f"Fig. 2, setup {args.setup}: {extra['net']} on MNIST, n={res.n_train}, "
                    f"{len(res.seeds)} seeds, lr_a={res.lr_a:g}",
                    f"minibatch loss after step {extra['plot_step']}")
    np.savez_compressed(stem.with_suffix(".npz"), base_lrs=res.base_lrs, etas=np.array(res.etas),
                        losses=np.stack([res.losses[e] for e in res.etas]))
    ref = max(res.etas)
    _write_json(stem.with_suffix(".json"), ex.settings_json(
        figure="2", command=_command_line(), profile=key, device=str(device), seed=args.seed,
        setup=record, sizes=size, data_source=res.source, n_train=res.n_train,
        seeds=res.seeds, lr_a=res.lr_a, power=res.power, etas=res.etas,
        base_lrs=res.base_lrs, loss_at_init=res.init_loss, seconds=round(res.seconds, 2),
        mean_loss={str(e): res.mean(e) for e in res.etas},
        deviation_from_largest_eta={str(e): res.deviation(e, ref) for e in res.etas}, **extra))


def _override(prof: Any, args: argparse.Namespace) -> Any:
    from dataclasses import replace

    kw: dict[str, Any] = {}
    if args.n_train is not None:
        kw["n_train"] = args.n_train
    if args.seeds is not None:
        kw["seeds"] = args.seeds
    if args.per_decade is not None:
        kw["per_decade"] = args.per_decade
    return replace(prof, **kw)


def _a9(args: argparse.Namespace) -> int:
    tag = "_quick" if args.quick else ""
    name = f"nets_a9{tag}"
    device = _setup(args, name)
    if device is None:
        return 2
    with staged_dir(args.out) as tmp:
        _a9_files(args, device, tmp / name)
    stem = args.out / name
    print(f"wrote {stem}.png, {stem}.npz, {stem}.json")
    return 0


def _a9_files(args: argparse.Namespace, device: Any, stem: Path) -> None:
    import numpy as np

    from ..nets import experiments as ex
    from ..nets import plots

    steps = 10 if args.quick else 50
    rs = [1.0, 1e2, 1e1, 2.0 ** 3, 2.0 ** -3, 1e-1, 1e-2, 1e-3]
    exact = ex.run_a9(rs, 0.0, steps=steps, seed=args.seed, device=device)
    rs_eps = [1e2] + [r for r in rs if r != 1e2]
    with_eps = ex.run_a9(rs_eps, 1e-3, steps=steps, seed=args.seed, device=device)
    plots.plot_a9([exact, with_eps], stem.with_suffix(".png"))
    np.savez_compressed(stem.with_suffix(".npz"), rs=np.array(exact.rs),
                        step_loss_eps0=exact.step_loss, rs_eps=np.array(with_eps.rs),
                        step_loss_eps1e_3=with_eps.step_loss)
    _write_json(stem.with_suffix(".json"), ex.settings_json(
        command=_command_line(), device=str(device), seed=args.seed, steps=steps,
        lr_w=exact.lr_w, lr_a=exact.lr_a, dtype=exact.dtype, setup=exact.details,
        network="2cnn2fc", channels=exact.details.get("channels"),
        eps0={"rs": exact.rs, "reference_r": exact.rs[exact.ref_index],
              "max_abs_deviation": exact.max_abs_deviation()},
        eps1e_3={"rs": with_eps.rs, "reference_r": with_eps.rs[with_eps.ref_index],
                 "max_abs_deviation": with_eps.max_abs_deviation()}))
