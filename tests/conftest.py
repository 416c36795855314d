"""Test configuration: Hypothesis profiles and an isolated bnverify cache."""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "quick", max_examples=40, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "thorough", max_examples=500, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("BNVERIFY_PROFILE", "quick"))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Never read or write the user's example database from tests."""
    monkeypatch.setenv("BNVERIFY_CACHE", str(tmp_path / "bnverify-cache"))
