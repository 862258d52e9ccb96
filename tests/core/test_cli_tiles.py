"""``pathscaat tiles`` end to end (in-process); the demo is in test_demo.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pathscaat.cli.main import main
from pathscaat.tiling.grid import TileGrid


def test_tiles_writes_mask_picture_grid_and_patches(
    cmu_svs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    rc = main(
        [
            "tiles",
            str(cmu_svs),
            "--mpp",
            "1.0",
            "--size",
            "112",
            "--min-tissue",
            "0.6",
            "--out",
            str(out),
            "--extract",
            "--workers",
            "1",
            "--label",
            "skin",
            "--progress",
            "none",
        ]
    )
    assert rc == 0
    stem = "CMU-1-Small-Region"
    mask = np.asarray(Image.open(out / f"{stem}.tissue.png"))
    assert mask.ndim == 2 and 0.2 < (mask > 0).mean() < 0.6
    assert Image.open(out / f"{stem}.grid.png").size[0] > 500
    grid = TileGrid.load(out / f"{stem}.grid.npz")
    assert grid.tile_px == 112 and grid.target_mpp == 1.0 and grid.min_tissue == 0.6
    with (out / "patches" / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(grid) and {r["label"] for r in rows} == {"skin"}
    summary = json.loads((out / f"{stem}.tiling.json").read_text())
    assert summary["tiles"] == len(grid)
    assert f"{len(grid)} tiles of 112 px" in capsys.readouterr().out


def test_tiles_json_progress_ends_with_result(
    cmu_svs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        ["tiles", str(cmu_svs), "--downsample", "4", "--out", str(tmp_path), "--progress", "json"]
    )
    assert rc == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0]["type"] == "progress" and events[-1]["type"] == "result"
    assert events[-1]["tiles"] > 0


def test_tiles_without_mpp_is_a_clear_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "no-mpp.png"
    Image.fromarray(np.full((500, 500, 3), 235, np.uint8)).save(png)
    rc = main(
        ["tiles", str(png), "--mpp", "0.5", "--out", str(tmp_path / "o"), "--progress", "none"]
    )
    err = capsys.readouterr().err
    if rc == 0:
        pytest.skip("the image backend found an mpp for a plain PNG")
    assert rc == 1 and "--slide-mpp" in err and "Traceback" not in err
    rc = main(
        [
            "tiles",
            str(png),
            "--mpp",
            "0.5",
            "--slide-mpp",
            "0.25",
            "--min-tissue",
            "0",
            "--out",
            str(tmp_path / "o"),
            "--progress",
            "none",
        ]
    )
    assert rc == 0


def test_bad_overlap_is_rejected(cmu_svs: Path, tmp_path: Path) -> None:
    rc = main(
        [
            "tiles",
            str(cmu_svs),
            "--size",
            "64",
            "--overlap",
            "64",
            "--out",
            str(tmp_path),
            "--progress",
            "none",
        ]
    )
    assert rc == 1

