"""Speed of the batched network trainer (``torch.func.vmap``) against training one model at a
time, in the same process: models-epochs per second and their ratio (issue 6 target: >= 5x on
CPU, >= 20x on a GPU).

    python benchmarks/bench_nets.py [--models 64] [--n-train 500] [--single 4] [--device auto]
                                    [--nets 1fc,2cnn2fc-narrow,2cnn2fc]

Each network trains ``--models`` models (a Fig. 3 sweep: learning rates x seeds, with BN and
shared lr) for one epoch on the first ``--n-train`` embedded MNIST images with minibatch 100,
then evaluates the epoch-1 loss: once batched (all models in one vmap run) and ``--single``
models one at a time (plain autograd loop, same update rule), after one warm-up of each.
Timings are wall-clock; on a shared machine rerun and compare ratios, not absolute rates.

``floor`` is the time the batched run spends inside the dense kernels that batching cannot
shrink (convolutions and matrix products: oneDNN / BLAS work proportional to the FLOPs of the
models), measured with ``torch.profiler`` on one more batched run; ``bound`` = one-at-a-time
time per model / floor per model is the largest ratio any batching of these kernels could
reach (everything else free).  On a CPU with few cores this bounds the conv nets' ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bnverify.nets.data import load_embedded  # noqa: E402
from bnverify.nets.networks import glorot_init, one_fc, two_cnn_two_fc  # noqa: E402
from bnverify.nets.train import (  # noqa: E402
    epoch_orders,
    resolve_device,
    stack,
    train_batched,
    train_single,
)

NETS = {
    "1fc": lambda: one_fc(),
    "2cnn2fc-narrow": lambda: two_cnn_two_fc(channels=(2, 4), hidden=16),
    "2cnn2fc": lambda: two_cnn_two_fc(),
}


def bench(name: str, m: int, n_train: int, n_single: int, device: torch.device) -> dict:
    spec = NETS[name]()
    xs, ys = load_embedded("mnist").subset(n_train).as_float()
    x, y = torch.as_tensor(xs, device=device), torch.as_tensor(ys, device=device)
    lrs = np.logspace(-3, 3, m)
    seeds = 4  # a sweep: m / 4 learning rates x 4 seeds; models of a seed share minibatches
    inits = [glorot_init(spec, s % seeds) for s in range(m)]
    orders = np.stack([epoch_orders(s % seeds, n_train) for s in range(m)])
    params = {k: v.to(device) for k, v in stack(inits).items()}

    def batched() -> float:
        t0 = time.perf_counter()
        train_batched(spec, x, y, params, lrs, lrs, orders)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    def single() -> float:
        t0 = time.perf_counter()
        for i in range(n_single):
            p = {k: v.to(device) for k, v in inits[i].items()}
            train_single(spec, x, y, p, lrs[i], lrs[i], orders[i])
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    # warm-up (allocator, kernels), then the timed runs
    # (8 models in 4 seed groups: the shared first-layer path too, so that numba compiles or
    # loads every kernel specialisation before the timed runs)
    train_batched(spec, x, y, {k: v[:8] for k, v in params.items()}, lrs[:8], lrs[:8],
                  orders[:8])
    train_single(spec, x, y, {k: v.to(device) for k, v in inits[0].items()}, 0.1, 0.1,
                 orders[0])
    tb, ts = batched(), single()
    rate_b, rate_s = m / tb, n_single / ts
    floor = dense_kernel_seconds(batched) if device.type == "cpu" else float("nan")
    return {"net": name, "models": m, "n_train": n_train, "batched_s": tb, "single_s": ts,
            "batched_rate": rate_b, "single_rate": rate_s, "ratio": rate_b / rate_s,
            "floor_s": floor, "bound": (ts / n_single) / (floor / m)}


DENSE_OPS = {"aten::mkldnn_convolution", "aten::convolution_backward", "aten::mm", "aten::addmm",
             "aten::addmm_", "aten::bmm", "aten::baddbmm"}


def dense_kernel_seconds(run) -> float:
    """Seconds of one ``run()`` spent in convolution and matrix-product kernels (self CPU time
    of those ops, wall-clock on their threads)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    return sum(e.self_cpu_time_total for e in prof.key_averages() if e.key in DENSE_OPS) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=64)
    ap.add_argument("--n-train", type=int, default=500)
    ap.add_argument("--single", type=int, default=4)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--nets", default="1fc,2cnn2fc-narrow,2cnn2fc")
    a = ap.parse_args()
    device = resolve_device(a.device)
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{a.models} models batched vs {a.single} one at a time, 1 epoch of {a.n_train} "
          "images, batch 100")
    for name in a.nets.split(","):
        r = bench(name, a.models, a.n_train, a.single, device)
        print(f"{name:15s} batched {r['batched_rate']:8.2f} models-epochs/s "
              f"({r['batched_s']:.2f} s for {a.models})   one at a time "
              f"{r['single_rate']:8.2f} models-epochs/s   ratio {r['ratio']:6.1f}x   "
              f"(floor {r['floor_s']:.2f} s, bound {r['bound']:.1f}x)", flush=True)


if __name__ == "__main__":
    main()
