"""``pathscaat train`` as the app runs it: a child process emitting JSON lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pathscaat.cli.main import main
from pathscaat.models import load_checkpoint
from tests.core.tiny_kather import write_tiny_kather

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny(kather_mini: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_kather(kather_mini, tmp_path_factory.mktemp("tiny"), per_class=6, px=32)


def _cmd(data: Path, out: Path, epochs: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "pathscaat.cli.main", "train", "--data", str(data),
        "--backbone", "test_resnet", "--objective", "scaat", "--epochs", str(epochs),
        "--batch-size", "6", "--img-size", "32", "--device", "cpu", "--workers", "0",
        "--out", str(out), "--progress", "json", "--eps", "8/255", "--mask", "adaptive",
        "--tau", "0.3", *extra,
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}


@pytest.mark.slow
def test_json_lines_parse_and_result_names_checkpoints(tiny: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        _cmd(tiny, tmp_path, 1), capture_output=True, text=True, env=_env(), cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[-1]["type"] == "result"
    progress = [x for x in lines if x["type"] == "progress"]
    assert progress and {"stage", "done", "total", "message", "extra"} <= progress[0].keys()
    _, meta = load_checkpoint(lines[-1]["best"])
    assert meta.knobs["mask"] == "adaptive" and meta.knobs["tau"] == 0.3
    assert meta.knobs["eps"] == pytest.approx(8 / 255)


def test_bad_data_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = _cmd(tmp_path / "absent", tmp_path / "o", 1)[3:]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("pathscaat: error: patch folder not found") and err.count("\n") == 1


@pytest.mark.slow
def test_sigterm_cancels_and_keeps_a_checkpoint(tiny: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        _cmd(tiny, tmp_path, 500), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_env(), cwd=REPO,
    )  # fmt: skip
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())  # training has started
    assert first["type"] == "progress"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "cancelled" in err
    _, meta = load_checkpoint(tmp_path / "last")
    assert meta.metrics.get("cancelled_in_epoch", 0) >= 1


def _with_workers(cmd: list[str], n: int) -> list[str]:
    i = cmd.index("--workers")
    return [*cmd[: i + 1], str(n), *cmd[i + 2 :]]


@pytest.mark.slow
def test_run_with_loader_workers_ends_without_leaked_semaphores(tiny: Path, tmp_path: Path) -> None:
    """Issue 11: workers left to the garbage collector at exit made resource_tracker warn."""
    proc = subprocess.run(
        _with_workers(_cmd(tiny, tmp_path, 1), 1), capture_output=True, text=True, env=_env(),
        cwd=REPO, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "resource_tracker" not in proc.stderr and "leaked" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.slow
def test_ctrl_c_to_the_process_group_stops_cleanly(tiny: Path, tmp_path: Path) -> None:
    """Ctrl-C reaches the workers too; they leave the stop to the main process (was: crash)."""
    proc = subprocess.Popen(
        _with_workers(_cmd(tiny, tmp_path, 500), 1), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=_env(), cwd=REPO, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    while json.loads(proc.stdout.readline())["stage"] != "train":
        pass  # the workers are up once a batch has trained
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "leaked" not in err, err
