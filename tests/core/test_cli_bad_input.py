"""Bad inputs to ``regions``, ``train --resume``, ``infer``, ``evaluate`` and ``export``:
one line and exit 1, never a traceback, and nothing half-written left behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pathscaat.cli.main import main
from tests.core.test_regions import ring_raster, write_set


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.strip()]
    assert "Traceback" not in err
    assert lines and lines[-1].startswith("pathscaat: error:"), lines
    errors = [x for x in lines if x.startswith("pathscaat: error:")]
    assert len(errors) == 1 and len(errors[0]) < 600, errors
    return errors[0]


@pytest.fixture
def overlay_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A plain-image slide and an overlay set for it (8 level-0 px per raster px)."""
    slide = tmp_path / "slide.png"
    Image.new("RGB", (1280, 960), (230, 200, 220)).save(slide)
    folder = tmp_path / "overlays"
    write_set(folder, {"tumour": ring_raster()}, None)
    manifest = json.loads((folder / "overlays.json").read_text())
    manifest["slide_dims"] = [1280, 960]
    (folder / "overlays.json").write_text(json.dumps(manifest))
    return slide, folder


def _regions(slide: Path, folder: Path, out: Path) -> int:
    return main(["regions", str(slide), "--overlays", str(folder), "--layer", "tumour",
                 "--threshold", "0.5", "--min-area-um2", "10", "--out", str(out),
                 "--slide-mpp", "0.5", "--progress", "none"])  # fmt: skip


@pytest.mark.parametrize("value", ["four", 1e300, -4, 0, None, True])
def test_regions_with_a_bad_l0_per_px_is_one_line(
    overlay_folder: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    value: Any,
) -> None:
    slide, folder = overlay_folder
    manifest = json.loads((folder / "overlays.json").read_text())
    manifest["overlays"][0]["l0_per_px"] = value
    (folder / "overlays.json").write_text(json.dumps(manifest))
    out = tmp_path / "r.geojson"
    assert _regions(slide, folder, out) == 1
    assert "l0_per_px" in one_error_line(capsys)
    assert not out.exists()


def test_regions_with_a_truncated_raster_is_one_line(
    overlay_folder: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slide, folder = overlay_folder
    assert _regions(slide, folder, tmp_path / "good.geojson") == 0  # the set as written
    assert "3 regions" in capsys.readouterr().out
    tif = folder / "prob_tumour.tif"
    data = tif.read_bytes()
    tif.write_bytes(data[: len(data) // 2])
    out = tmp_path / "r.geojson"
    assert _regions(slide, folder, out) == 1
    assert "truncated or damaged" in one_error_line(capsys)
    assert not out.exists()


def test_regions_on_a_manifest_that_is_a_list_is_one_line(
    overlay_folder: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slide, folder = overlay_folder
    (folder / "overlays.json").write_text("[1, 2]")
    assert _regions(slide, folder, tmp_path / "r.geojson") == 1
    assert "not an overlay manifest" in one_error_line(capsys)


@pytest.fixture(scope="module")
def trained(kather_mini: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(patch folder, run folder) of one epoch of a tiny model on real Kather tiles."""
    from tests.core.tiny_kather import write_tiny_kather

    root = tmp_path_factory.mktemp("trained")
    data = write_tiny_kather(kather_mini, root / "data", per_class=4, px=32)
    assert main(_train(data, root / "run", 1)) == 0
    return data, root / "run"


def _train(data: Path, out: Path, epochs: int, *extra: str) -> list[str]:
    return ["train", "--data", str(data), "--backbone", "test_resnet", "--objective", "erm",
            "--epochs", str(epochs), "--batch-size", "4", "--img-size", "32", "--device", "cpu",
            "--workers", "0", "--out", str(out), "--progress", "none", "--lr", "1e-3",
            *extra]  # fmt: skip


def _copy_run(run: Path, to: Path) -> Path:
    import shutil

    shutil.copytree(run, to, symlinks=True)
    return to


def test_resume_from_a_truncated_state_is_one_line_and_writes_nothing(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, run = trained
    old = _copy_run(run, tmp_path / "old")
    state = old / "last.state.safetensors"
    state.write_bytes(state.read_bytes()[:100])  # an interrupted copy
    capsys.readouterr()
    out = tmp_path / "new"
    assert main(_train(data, out, 2, "--resume", str(old / "last"))) == 1
    line = one_error_line(capsys)
    assert "truncated or damaged" in line and "last.state.safetensors" in line
    assert not out.exists()  # no run_config.json, split.json or dataset/ of a run that never ran


def test_resume_from_truncated_weights_is_one_line(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, run = trained
    old = _copy_run(run, tmp_path / "old")
    weights = old / "last.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    capsys.readouterr()
    out = tmp_path / "new"
    assert main(_train(data, out, 2, "--resume", str(old / "last"))) == 1
    assert "truncated or damaged" in one_error_line(capsys)
    assert not out.exists()


def _swap_weights(ckpt_json: Path, backbone: str) -> None:
    """Put the weights of another backbone beside a checkpoint's JSON."""
    from safetensors.torch import save_file

    from pathscaat.models import create_model

    other = create_model(backbone, 3)
    save_file({k: v.contiguous() for k, v in other.state_dict().items()},
              str(ckpt_json.with_suffix(".safetensors")))  # fmt: skip


def test_infer_with_weights_of_another_backbone_is_one_short_line(
    trained: tuple[Path, Path], tmp_path: Path, cmu_svs: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _, run = trained
    old = _copy_run(run, tmp_path / "old")
    _swap_weights(old / "best.json", "resnet10t")
    capsys.readouterr()
    out = tmp_path / "infer"
    assert main(["infer", str(cmu_svs), "--model", str(old / "best.json"), "--out", str(out),
                 "--device", "cpu", "--progress", "none"]) == 1  # fmt: skip
    line = one_error_line(capsys)
    assert "does not fit" in line and "another backbone" in line and len(line) < 600
    assert not out.exists()


def test_failed_evaluate_leaves_no_report(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, run = trained
    old = _copy_run(run, tmp_path / "old")
    weights = old / "best.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    capsys.readouterr()
    out = tmp_path / "evaluation"
    assert main(["evaluate", "--data", str(data), "--models", str(old / "best.json"),
                 "--out", str(out), "--methods", "vanilla", "--device", "cpu",
                 "--max-images", "6", "--progress", "none"]) == 1  # fmt: skip
    assert "truncated or damaged" in one_error_line(capsys)
    assert not out.exists()  # no report.md with an empty table


def test_failed_export_leaves_no_folder(
    tmp_path: Path, cmu_svs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                   '"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [NaN, 1], '
                   "[1, 1], [0, 0]]]}}]}")  # fmt: skip
    out = tmp_path / "export" / "here"
    assert main(["export", str(cmu_svs), "--annotations", str(bad), "--out", str(out),
                 "--progress", "none"]) == 1  # fmt: skip
    assert "not a finite number" in one_error_line(capsys)
    assert not (tmp_path / "export").exists()
