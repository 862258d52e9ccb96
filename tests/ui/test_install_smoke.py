"""``pathscaat-gui --smoke``: one line and exit 0 when the start works, exit 1 when not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _smoke(args: list[str], tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    full_env = {
        **os.environ, "PYTHONPATH": str(ROOT), "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
        "QT_QPA_PLATFORM": "offscreen", **env,
    }  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "ui.app", *args], cwd=tmp, capture_output=True, text=True,
        env=full_env, timeout=120,
    )  # fmt: skip


def _last_line(out: subprocess.CompletedProcess[str]) -> str:
    lines = out.stdout.strip().splitlines()
    assert lines, out.stderr
    return lines[-1]


@pytest.mark.slow  # a Qt start in a child process: a few seconds each
def test_env_var_smoke_start_without_a_slide(tmp_path: Path) -> None:
    out = _smoke([], tmp_path, PATHSCAAT_SMOKE="60")
    assert out.returncode == 0, out.stdout + out.stderr
    assert _last_line(out).startswith("pathscaat-gui smoke: ok in ")
    assert "started" in _last_line(out)


@pytest.mark.slow  # a Qt start in a child process: a few seconds each
def test_smoke_start_fails_with_one_line_on_a_missing_slide(tmp_path: Path) -> None:
    out = _smoke([str(tmp_path / "no such slide.svs"), "--smoke", "60"], tmp_path)
    assert out.returncode == 1
    line = _last_line(out)
    assert line.startswith("pathscaat-gui smoke: FAILED in "), line
    assert "Cannot open slide" in line and "no such slide.svs" in line
    assert "Traceback" not in out.stdout + out.stderr


@pytest.mark.slow  # a Qt start in a child process: a few seconds each
def test_smoke_start_fails_on_overlays_that_are_not_there(cmu_svs: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-overlays"
    out = _smoke([str(cmu_svs), "--overlays", str(missing), "--smoke", "60"], tmp_path)
    assert out.returncode == 1, out.stdout
    line = _last_line(out)
    assert "FAILED" in line and "first frame" in line and "overlays" in line.lower(), line
