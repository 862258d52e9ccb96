"""ruff and mypy stay clean: CI fails on a lint or type error, not only on a test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_is_clean() -> None:
    out = _run("ruff", "check", ".")
    assert out.returncode == 0, out.stdout[-4000:]


@pytest.mark.slow
def test_mypy_is_clean(tmp_path: Path) -> None:
    out = _run("mypy", "--cache-dir", str(tmp_path / "mypy-cache"))
    assert out.returncode == 0, out.stdout[-4000:]
