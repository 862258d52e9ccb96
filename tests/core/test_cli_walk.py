"""What a new user met walking the command line: closed pipes, unwritable outputs, warnings
said twice. Each test failed before its fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from pathscaat.cli.main import main
from pathscaat.inference.slide_survey import grid_for
from pathscaat.progress import ProgressRecord
from pathscaat.slides import open_slide
from pathscaat.tiling.tissue import detect_tissue

SQUARE = {"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"name": "a", "classification": {"name": "Tumor"}},
    "geometry": {"type": "Polygon",
                 "coordinates": [[[100, 100], [400, 100], [400, 400], [100, 400], [100, 100]]]},
}]}


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_output_pipe_closed_early_is_quiet(cmu_svs: Path) -> None:
    """``pathscaat info --json SLIDE | head``: no "error: Broken pipe ()" when head exits."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pathscaat.cli.main", "info", "--json", str(cmu_svs)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the command prints
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""


def test_tiles_out_that_is_a_file_says_so_and_what_to_do(
    cmu_svs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "taken"
    out.write_text("not a folder")
    assert main(["tiles", str(cmu_svs), "--out", str(out), "--progress", "none"]) == 1
    line = _error_line(capsys)
    assert f"cannot write the tiles to {out}" in line and "--out" in line
    assert out.read_text() == "not a folder"


def test_export_to_an_unwritable_out_fails_before_any_work(
    cmu_svs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    annotations = tmp_path / "a.geojson"
    annotations.write_text(json.dumps(SQUARE))
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "export"
    argv = ["export", str(cmu_svs), "--annotations", str(annotations), "--out", str(out),
            "--csv", "--progress", "none"]
    assert main(argv) == 1
    line = _error_line(capsys)
    assert f"cannot write the export to {out}" in line and "--out" in line


def test_convert_to_a_missing_folder_names_the_output_not_a_temporary_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "a.geojson"
    src.write_text(json.dumps(SQUARE))
    dst = tmp_path / "no-such-folder" / "a.xml"
    assert main(["annotations", "convert", str(src), str(dst)]) == 1
    line = _error_line(capsys)
    assert f"cannot write {dst}" in line and ".tmp" not in line
    assert not dst.parent.exists()


def test_level0_warning_is_said_once_in_a_terminal_log(
    cmu_svs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The warning is logged; the progress record carries it for the app, not as its text."""
    records: list[ProgressRecord] = []
    meta = SimpleNamespace(mpp=None, input_px=224, patch=None)  # a checkpoint without µm/px
    with open_slide(cmu_svs) as slide:
        grid_for(slide, meta, detect_tissue(slide), records.append)
    warning = records[0].extra["warning"]
    assert "records no µm/px" in warning and "0.499 µm/px" in warning
    assert [r.getMessage() for r in caplog.records] == [warning]
    assert warning not in records[0].message


def test_train_with_an_unknown_backbone_leaves_no_run_folder(
    kather_mini: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["train", "--data", str(kather_mini), "--backbone", "resnet18x", "--out", str(out),
            "--progress", "none"]
    assert main(argv) == 1
    line = _error_line(capsys)
    assert "unknown backbone 'resnet18x'" in line and "resnet18" in line
    assert not out.exists()


def test_infer_stopped_before_any_tile_promises_no_partial_results(
    cmu_svs: Path, tmp_path: Path
) -> None:
    """Ctrl-C during the first batch: the command drops the empty partial folder, so the
    message must not say that results were kept there."""
    from pathscaat.inference.predict import predict_slide
    from pathscaat.progress import JobCancelled
    from tests.core.test_predict import make_checkpoint

    ckpt = make_checkpoint(tmp_path / "ckpt")
    with pytest.raises(JobCancelled) as info:
        predict_slide(cmu_svs, ckpt, tmp_path / "out", saliency=None, device="cpu",
                      should_stop=lambda: True)
    assert "before any tile was scored" in str(info.value)
    assert "kept" not in str(info.value)


def test_train_with_zero_epochs_names_the_bad_setting(
    kather_mini: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--data", str(kather_mini), "--backbone", "resnet10t", "--epochs", "0",
            "--out", str(tmp_path / "run"), "--progress", "none"]
    assert main(argv) == 1
    assert "epochs 0:" in _error_line(capsys)
    assert not (tmp_path / "run").exists()
