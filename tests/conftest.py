"""Shared fixtures: the real data in ../shared/data (skipped with a reason where absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PATHSCAAT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (a user's clone has no ../shared)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return _need(SHARED_DATA)


@pytest.fixture(scope="session")
def cmu_svs() -> Path:
    return _need(SHARED_DATA / "slides" / "CMU-1-Small-Region.svs")


@pytest.fixture(scope="session")
def dapi_ndpi() -> Path:
    return _need(SHARED_DATA / "slides" / "test3-DAPI-2-(387).ndpi")


@pytest.fixture(scope="session")
def kather_mini() -> Path:
    return _need(SHARED_DATA / "patches" / "kather-crc-mini")


@pytest.fixture(scope="session")
def kather2016() -> Path:
    return _need(SHARED_DATA / "patches" / "kather2016-crc-texture")


@pytest.fixture(scope="session")
def real_slides() -> list[Path]:
    return sorted(_need(SHARED_DATA / "slides").iterdir())
