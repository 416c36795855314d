"""Whether the optional torch back end is available, for the network checks (§4.2, §A.2)."""

from __future__ import annotations

NO_TORCH = ("torch not installed: skipped (the network experiments need the torch extra: "
            "pip install 'bnverify[torch]')")


def torch_ok() -> bool:
    """Whether the optional torch back end can be imported."""
    from bnverify.nets import torch_available

    return torch_available()
