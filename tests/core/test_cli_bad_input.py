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
