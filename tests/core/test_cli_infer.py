"""``pathscaat infer`` as the app runs it: a child process speaking JSON lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pathscaat.inference.overlays import OverlaySet
from tests.core.test_predict import make_checkpoint


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("cli-ckpt"))


def infer_cmd(slide: Path, ckpt: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "pathscaat.cli.main", "infer", str(slide), "--model", str(ckpt),
        "--out", str(out), "--device", "cpu", "--progress", "json", *extra,
    ]  # fmt: skip


def env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def check_json_lines(stdout: str, out: Path) -> list[dict]:
    """Every line one JSON object: progress events, then one result naming the manifest."""
    events = [json.loads(line) for line in stdout.splitlines()]
    assert {e["type"] for e in events[:-1]} == {"progress"}
    infer = [e for e in events if e.get("stage") == "infer"]
    assert infer and infer[-1]["done"] == infer[-1]["total"] > 0
    assert set(infer[-1]) == {"type", "stage", "done", "total", "message", "extra"}
    result = events[-1]
    assert result["type"] == "result"
    assert Path(result["overlays"]) == out / "overlays.json"
    loaded = OverlaySet.load(result["overlays"])
    assert all(loaded.path_of(o).is_file() for o in loaded.overlays)
    assert Path(result["tiles_csv"]).is_file()
    return infer


def test_bad_checkpoint_exit_1_one_line(
    cmu_svs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathscaat.cli.main import main

    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    assert main(infer_cmd(cmu_svs, bad, tmp_path / "out")[3:]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pathscaat: error:") and "checkpoint" in lines[0]


def test_sigterm_cancels_with_130_then_rerun_resumes_to_a_result(
    cmu_svs: Path, ckpt: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = infer_cmd(cmu_svs, ckpt, out, "--batch-size", "1", "--workers", "1")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env())  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        if event.get("stage") == "infer" and event["done"] > 0:
            proc.send_signal(signal.SIGTERM)
            break
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "cancelled" in err and (out / ".partial").is_dir()
    assert not (out / "overlays.json").exists()

    rerun = subprocess.run(args, capture_output=True, text=True, env=env(), timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    infer = check_json_lines(rerun.stdout, out)
    assert infer[0]["extra"]["resumed"] > 0
    assert infer[-1]["extra"]["computed"] == infer[-1]["total"] - infer[0]["extra"]["resumed"]
    assert not (out / ".partial").exists()
