"""Patch extraction: files and manifest, parallel readers, resume, cancel."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pathscaat.progress import JobCancelled
from pathscaat.slides import open_slide
from pathscaat.tiling.extract import extract_patches
from pathscaat.tiling.grid import TileGrid, make_grid, read_tile


@pytest.fixture(scope="module")
def cmu_grid(cmu_svs: Path) -> TileGrid:
    with open_slide(cmu_svs) as slide:
        return make_grid(slide, tile_px=112, target_mpp=1.0, min_tissue=0.5)


def _rows(manifest: Path) -> list[dict[str, str]]:
    with manifest.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_writes_imagefolder_and_manifest(cmu_svs: Path, cmu_grid: TileGrid, tmp_path: Path) -> None:
    manifest = extract_patches(cmu_svs, cmu_grid, tmp_path, label="skin")
    rows = _rows(manifest)
    assert len(rows) == len(cmu_grid) > 10
    files = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "skin").glob("*.png"))
    assert files == sorted(r["file"] for r in rows)
    r = rows[0]
    assert r["file"] == f"skin/CMU-1-Small-Region_{r['l0_x']}_{r['l0_y']}.png"
    assert r["mpp"] == "1" and r["level"] == "0" and r["label"] == "skin"
    assert int(r["lvl_read_px"]) == cmu_grid.lvl_read_px
    i = next(
        k for k, xy in enumerate(cmu_grid.l0_xy) if list(xy) == [int(r["l0_x"]), int(r["l0_y"])]
    )
    with open_slide(cmu_svs) as slide:
        expected = read_tile(slide, cmu_grid, i)
    assert np.array_equal(np.asarray(Image.open(tmp_path / r["file"])), expected)


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_parallel_matches_serial(
    cmu_svs: Path, cmu_grid: TileGrid, tmp_path: Path, executor: str
) -> None:
    serial = _rows(extract_patches(cmu_svs, cmu_grid, tmp_path / "a", workers=1))
    par = _rows(extract_patches(cmu_svs, cmu_grid, tmp_path / "b", workers=2, executor=executor))
    assert sorted(r["file"] for r in par) == sorted(r["file"] for r in serial)
    f = serial[3]["file"]
    assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_resume_writes_nothing_new(cmu_svs: Path, cmu_grid: TileGrid, tmp_path: Path) -> None:
    manifest = extract_patches(cmu_svs, cmu_grid, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.png")}
    text = manifest.read_text()
    seen: list[int] = []
    extract_patches(cmu_svs, cmu_grid, tmp_path, on_progress=lambda r: seen.append(r.total))
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.png")} == before
    assert manifest.read_text() == text
    assert seen and set(seen) == {0}


def test_cancel_keeps_partial_results_then_resumes(
    cmu_svs: Path, cmu_grid: TileGrid, tmp_path: Path
) -> None:
    calls = [0]

    def stop_after_two_batches() -> bool:
        calls[0] += 1
        return calls[0] > 2

    with pytest.raises(JobCancelled):
        extract_patches(cmu_svs, cmu_grid, tmp_path, should_stop=stop_after_two_batches)
    partial = _rows(tmp_path / "manifest.csv")
    assert 0 < len(partial) < len(cmu_grid)
    assert all((tmp_path / r["file"]).exists() for r in partial)
    rows = _rows(extract_patches(cmu_svs, cmu_grid, tmp_path))
    assert len(rows) == len({r["file"] for r in rows}) == len(cmu_grid)


def test_torn_manifest_line_is_repaired(cmu_svs: Path, cmu_grid: TileGrid, tmp_path: Path) -> None:
    manifest = extract_patches(cmu_svs, cmu_grid, tmp_path)
    lines = manifest.read_text().splitlines(keepends=True)
    manifest.write_text("".join(lines[:-1]) + lines[-1][:20])  # crash mid-write
    rows = _rows(extract_patches(cmu_svs, cmu_grid, tmp_path))
    assert len(rows) == len({r["file"] for r in rows}) == len(cmu_grid)


def test_label_function_sorts_tiles(cmu_svs: Path, cmu_grid: TileGrid, tmp_path: Path) -> None:
    mid = 1400

    def by_half(_i: int, l0_x: int, _l0_y: int) -> str | None:
        return "left" if l0_x < mid else None  # right half skipped

    rows = _rows(extract_patches(cmu_svs, cmu_grid, tmp_path, label=by_half, fmt="jpg"))
    assert rows and all(r["label"] == "left" and int(r["l0_x"]) < mid for r in rows)
    assert len(rows) == int((cmu_grid.l0_xy[:, 0] < mid).sum())
    assert all(r["file"].endswith(".jpg") for r in rows)
