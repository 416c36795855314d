"""Data loaders for the network experiments of §4.2 (Fig. 2, Fig. 3; claims F2, F3, F3.claims).

Numpy only (no torch here), so loaders can be used and tested without the torch extra.

Sources, in the order :func:`load_dataset` tries them:

1. ``data_dir`` given by the user (``--data-dir``): the standard distribution files

   * MNIST / Fashion-MNIST: ``train-images-idx3-ubyte(.gz)``, ``train-labels-idx1-ubyte(.gz)``
     (and ``t10k-*``), the IDX format of LeCun et al. (magic 2051 for images, 2049 for labels);
   * CIFAR-10: the python batches ``data_batch_1`` .. ``data_batch_5`` and ``test_batch``
     (pickled dicts with ``b"data"`` uint8 (N, 3072) and ``b"labels"``), optionally inside a
     ``cifar-10-batches-py/`` subfolder.

2. Fashion-MNIST only: the Debian package ``dataset-fashion-mnist``
   (``/usr/share/datasets/fashion-mnist``) when it is installed.

3. The small real subset embedded in the package (``bnverify/data/embedded.npz``; see
   ``bnverify/data/PROVENANCE.md``): 10,000 real MNIST digits and the first 10,000 Fashion-MNIST
   training images.  No CIFAR-10 is embedded (none is reachable offline): CIFAR-10 needs
   ``--data-dir``.

Every malformed file gives a one-line :class:`~bnverify.errors.BNVerifyError` naming the file
(wrong magic number, truncated file, label/image count mismatch, missing file).
"""

from __future__ import annotations

import gzip
import os
import pickle
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BNVerifyError

DATASETS = ("mnist", "fashion", "cifar10")
IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned byte, 3 dimensions
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned byte, 1 dimension
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
EMBEDDED_FILE = "embedded.npz"


@dataclass
class Dataset:
    """Images as uint8 ``(N, C, H, W)`` and labels as int64 ``(N,)``, plus where they came from."""

    name: str
    x: np.ndarray
    y: np.ndarray
    source: str
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.x.shape[0] != self.y.shape[0]:
            raise BNVerifyError(
                f"{self.name}: {self.x.shape[0]} images but {self.y.shape[0]} labels"
            )

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def subset(self, n: int | None) -> Dataset:
        """The first ``n`` examples (all when ``n`` is None or larger than the set)."""
        if n is None or n >= len(self):
            return self
        if n < 1:
            raise BNVerifyError(f"n_train: must be at least 1, got {n}")
        info = dict(self.info, subset=f"first {n} of {len(self)}")
        return Dataset(self.name, self.x[:n], self.y[:n], self.source, info)

    def downsample(self, k: int) -> Dataset:
        """Average ``k x k`` blocks (rounded to uint8): a cheaper input for the quick checks."""
        if k == 1:
            return self
        n, c, h, w = self.x.shape
        h2, w2 = h // k, w // k
        x = self.x[:, :, : h2 * k, : w2 * k].reshape(n, c, h2, k, w2, k).astype(np.float32)
        x = np.rint(x.mean(axis=(3, 5))).astype(np.uint8)
        return Dataset(self.name, x, self.y, self.source, dict(self.info, downsample=k))

    def as_float(self) -> tuple[np.ndarray, np.ndarray]:
        """Images scaled to [0, 1] (float32) and labels (int64)."""
        return self.x.astype(np.float32) / np.float32(255.0), self.y.astype(np.int64)


# ---------------------------------------------------------------------------------------------
# IDX (MNIST, Fashion-MNIST)
# ---------------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise BNVerifyError(f"{path}: file not found") from None
    except (OSError, EOFError) as exc:
        raise BNVerifyError(f"{path}: cannot read ({exc})") from None


def read_idx(path: str | os.PathLike[str], expect_magic: int) -> np.ndarray:
    """Read one IDX file (optionally gzipped) as a uint8 array.

    ``expect_magic`` is 2051 (images, shape (N, rows, cols)) or 2049 (labels, shape (N,)).
    Raises BNVerifyError on a wrong magic number or a file shorter than its header says.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 8:
        raise BNVerifyError(f"{path}: truncated IDX file ({len(raw)} bytes, no header)")
    (magic,) = struct.unpack(">i", raw[:4])
    if magic != expect_magic:
        raise BNVerifyError(
            f"{path}: wrong magic number {magic} (expected {expect_magic} for an IDX "
            f"{'image' if expect_magic == IDX_IMAGES_MAGIC else 'label'} file)"
        )
    ndim = expect_magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise BNVerifyError(f"{path}: truncated IDX header ({len(raw)} bytes)")
    dims = struct.unpack(">" + "i" * ndim, raw[4:header])
    if any(d < 0 for d in dims):
        raise BNVerifyError(f"{path}: negative dimension in IDX header {dims}")
    need = int(np.prod(dims, dtype=np.int64))
    have = len(raw) - header
    if have < need:
        raise BNVerifyError(
            f"{path}: truncated IDX file: header promises {need} bytes of data, found {have}"
        )
    if have > need:
        raise BNVerifyError(f"{path}: {have - need} unexpected trailing bytes after IDX data")
    return np.frombuffer(raw, dtype=np.uint8, count=need, offset=header).reshape(dims)


def _find(data_dir: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        p = data_dir / name
        if p.exists():
            return p
    # some distributions use a dot instead of the dash before "idx"
    alt = stem.replace("-idx", ".idx")
    for name in (alt, alt + ".gz"):
        p = data_dir / name
        if p.exists():
            return p
    raise BNVerifyError(f"data-dir: {data_dir} has no {stem} (or {stem}.gz)")


def load_idx_pair(data_dir: str | os.PathLike[str], split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 1, 28, 28)`` uint8 and labels ``(N,)`` from ``{split}-images-idx3-ubyte``
    and ``{split}-labels-idx1-ubyte`` (``split`` is ``train`` or ``t10k``)."""
    d = Path(data_dir)
    if not d.is_dir():
        raise BNVerifyError(f"data-dir: {d} is not a directory")
    ip = _find(d, f"{split}-images-idx3-ubyte")
    lp = _find(d, f"{split}-labels-idx1-ubyte")
    images = read_idx(ip, IDX_IMAGES_MAGIC)
    labels = read_idx(lp, IDX_LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise BNVerifyError(
            f"{ip.name}/{lp.name}: image/label count mismatch ({images.shape[0]} images, "
            f"{labels.shape[0]} labels)"
        )
    if labels.size and labels.max() > 9:
        raise BNVerifyError(f"{lp}: label {int(labels.max())} out of range 0..9")
    return images[:, None, :, :].copy(), labels.astype(np.int64)


# ---------------------------------------------------------------------------------------------
# CIFAR-10 python batches
# ---------------------------------------------------------------------------------------------


def read_cifar_batch(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch: images ``(N, 3, 32, 32)`` uint8 and labels ``(N,)``."""
    path = Path(path)
    raw = _read_bytes(path)
    try:
        obj = pickle.loads(raw, encoding="bytes")
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a malformed file
        raise BNVerifyError(f"{path}: not a CIFAR-10 python batch (truncated or corrupt: "
                            f"{type(exc).__name__})") from None
    if not isinstance(obj, dict):
        raise BNVerifyError(f"{path}: not a CIFAR-10 python batch (no dict inside)")
    data = obj.get(b"data", obj.get("data"))
    labels = obj.get(b"labels", obj.get("labels"))
    if data is None or labels is None:
        raise BNVerifyError(f"{path}: CIFAR-10 batch lacks 'data' or 'labels'")
    data = np.asarray(data)
    labels = np.asarray(labels, dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise BNVerifyError(
            f"{path}: CIFAR-10 'data' must be uint8 (N, 3072), got {data.dtype} {data.shape}"
        )
    if data.shape[0] != labels.shape[0]:
        raise BNVerifyError(
            f"{path}: image/label count mismatch ({data.shape[0]} images, {labels.shape[0]} labels)"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise BNVerifyError(f"{path}: label out of range 0..9")
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(data_dir: str | os.PathLike[str], split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 training set (``data_batch_1..5``) or ``test_batch`` from ``data_dir``
    (or its ``cifar-10-batches-py`` subfolder)."""
    d = Path(data_dir)
    if not d.is_dir():
        raise BNVerifyError(f"data-dir: {d} is not a directory")
    if not (d / "data_batch_1").exists() and (d / "cifar-10-batches-py").is_dir():
        d = d / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    missing = [n for n in names if not (d / n).exists()]
    if missing:
        raise BNVerifyError(f"data-dir: {d} lacks CIFAR-10 file(s) {', '.join(missing)}")
    parts = [read_cifar_batch(d / n) for n in names]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


# ---------------------------------------------------------------------------------------------
# Embedded subset and the front door
# ---------------------------------------------------------------------------------------------


def embedded_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / EMBEDDED_FILE


def load_embedded(name: str) -> Dataset:
    """The real subset shipped in ``bnverify/data/embedded.npz`` (see PROVENANCE.md)."""
    path = embedded_path()
    if not path.exists():
        raise BNVerifyError(f"embedded data: {path} missing (reinstall bnverify)")
    with np.load(path) as z:
        key = {"mnist": "mnist", "fashion": "fashion"}.get(name)
        if key is None:
            raise BNVerifyError(
                f"dataset: no embedded copy of {name!r}; pass --data-dir with the CIFAR-10 "
                "python batches (data_batch_1..5)"
            )
        x = z[f"{key}_x"]
        y = z[f"{key}_y"].astype(np.int64)
    return Dataset(name, x[:, None, :, :], y, f"embedded:{path.name}",
                   {"file": str(path), "n": int(x.shape[0])})


def load_dataset(name: str, data_dir: str | os.PathLike[str] | None = None) -> Dataset:
    """Training images of ``name`` (``mnist``, ``fashion`` or ``cifar10``) from ``data_dir``,
    else (Fashion-MNIST) the Debian package path, else the embedded real subset."""
    if name not in DATASETS:
        raise BNVerifyError(f"dataset: unknown data set {name!r} (use {', '.join(DATASETS)})")
    if data_dir is not None:
        if name == "cifar10":
            x, y = load_cifar10(data_dir)
        else:
            x, y = load_idx_pair(data_dir, "train")
        return Dataset(name, x, y, f"data-dir:{Path(data_dir).resolve()}", {"n": int(len(y))})
    if name == "fashion" and DEBIAN_FASHION_DIR.is_dir():
        x, y = load_idx_pair(DEBIAN_FASHION_DIR, "train")
        return Dataset(name, x, y, f"debian:{DEBIAN_FASHION_DIR}", {"n": int(len(y))})
    return load_embedded(name)


# ---------------------------------------------------------------------------------------------
# Writers (used by tests to make tiny files, and by scripts/build_embedded_data.py)
# ---------------------------------------------------------------------------------------------


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file (gzipped when the name ends in ``.gz``)."""
    a = np.ascontiguousarray(array, dtype=np.uint8)
    magic = 0x0800 | a.ndim
    raw = struct.pack(">i", magic) + struct.pack(">" + "i" * a.ndim, *a.shape) + a.tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as fh:
            fh.write(raw)
    else:
        path.write_bytes(raw)


def write_cifar_batch(path: str | os.PathLike[str], images: np.ndarray, labels: np.ndarray) -> None:
    """Write a CIFAR-10 style python batch (``images`` uint8 (N, 3, 32, 32))."""
    obj = {
        b"batch_label": b"generated",
        b"labels": [int(v) for v in labels],
        b"data": np.ascontiguousarray(images, dtype=np.uint8).reshape(-1, 3072),
        b"filenames": [f"{i}.png".encode() for i in range(len(images))],
    }
    Path(path).write_bytes(pickle.dumps(obj, protocol=2))
