"""Whether the optional torch back end is available, for the network checks (§4.2, §A.2)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

NO_TORCH = ("torch not installed: skipped (the network experiments need the torch extra: "
            "pip install 'bnverify[torch]')")


def torch_ok() -> bool:
    """Whether the optional torch back end can be imported."""
    from bnverify.nets import torch_available

    return torch_available()


#: torch intra-op threads of the network checks: a fixed number, so that the reduction order,
#: hence the last digits, do not depend on the machine's cores or on the worker that ran the
#: claim (a Dask worker has one thread; a plain process as many as cores)
TORCH_THREADS = 1


@contextlib.contextmanager
def torch_threads(n: int = TORCH_THREADS) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (restored afterwards)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)
