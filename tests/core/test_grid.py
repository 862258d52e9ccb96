"""Tile grids: sizes from µm/px, overlap, tissue filter, reading, save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pathscaat.slides import MissingMppError, open_slide
from pathscaat.tiling.grid import TileGrid, make_grid, read_tile, tissue_fractions
from pathscaat.tiling.tissue import TissueMask, detect_tissue


def test_cmu_grid_at_half_micron(cmu_svs: Path) -> None:
    with open_slide(cmu_svs) as slide:
        grid = make_grid(slide, tile_px=224, target_mpp=0.5, min_tissue=0.0)
        tile = read_tile(slide, grid, len(grid) // 2)
    assert grid.l0_tile_px == pytest.approx(224 * 0.5 / 0.499, abs=1e-6)  # ~224.4
    assert grid.read_level == 0 and grid.lvl_read_px == 224
    xs = np.unique(grid.l0_xy[:, 0])
    assert np.allclose(np.diff(xs), 224.449, atol=1)
    assert len(xs) == int((2220 - 224.449) // 224.449) + 1
    assert (grid.l0_xy[:, 0] + grid.l0_tile_px <= 2220 + 1e-6).all()
    assert (grid.l0_xy[:, 1] + grid.l0_tile_px <= 2967 + 1e-6).all()
    assert tile.shape == (224, 224, 3) and tile.dtype == np.uint8


def test_overlap_and_min_tissue(cmu_svs: Path) -> None:
    with open_slide(cmu_svs) as slide:
        tissue = detect_tissue(slide)
        plain = make_grid(slide, target_mpp=0.5, min_tissue=0.0, tissue=tissue)
        over = make_grid(slide, target_mpp=0.5, overlap_px=112, min_tissue=0.0, tissue=tissue)
        counts = [
            len(make_grid(slide, target_mpp=0.5, min_tissue=m, tissue=tissue))
            for m in (0.0, 0.25, 0.5, 0.75, 1.0)
        ]
        half = make_grid(slide, target_mpp=0.5, min_tissue=0.5, tissue=tissue)
    assert over.l0_stride_px == pytest.approx(112 * 0.5 / 0.499)
    assert len(over) > 3 * len(plain)
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1] > 0
    assert (half.tissue_fraction >= 0.5).all()
    assert 0.15 < counts[2] / counts[0] < 0.7  # a strip of tissue on a wide slide


def test_pyramid_level_chosen_for_the_downsample(dapi_ndpi: Path) -> None:
    with open_slide(dapi_ndpi) as slide:
        grid = make_grid(slide, tile_px=224, target_mpp=0.5, min_tissue=0.5)
        tile = read_tile(slide, grid, 0)
    ds = 0.5 / 0.2281750559
    assert grid.downsample == pytest.approx(ds, rel=1e-6)
    assert grid.read_level == 1  # level downsample 2 <= 2.19
    assert grid.lvl_read_px == round(224 * ds / 2)
    assert tile.shape == (224, 224, 3)


def test_missing_mpp_says_what_to_do(tmp_path: Path) -> None:
    png = tmp_path / "plain.png"
    Image.fromarray(np.full((600, 800, 3), 230, np.uint8)).save(png)
    with open_slide(png) as slide:
        if slide.mpp is not None:
            pytest.skip("the image backend found an mpp for a plain PNG")
        with pytest.raises(MissingMppError) as err:
            make_grid(slide, target_mpp=0.5)
        assert "--slide-mpp" in str(err.value) and "--downsample" in str(err.value)
        by_ds = make_grid(slide, tile_px=100, downsample=2.0, min_tissue=0.0)
        slide.set_mpp(0.25)
        by_mpp = make_grid(slide, tile_px=100, target_mpp=0.5, min_tissue=0.0)
    assert by_ds.l0_tile_px == by_mpp.l0_tile_px == 200.0
    assert len(by_ds) == len(by_mpp) == 4 * 3


def test_tissue_fractions_match_a_loop() -> None:
    rng = np.random.default_rng(0)
    mask = rng.random((40, 60)) < 0.4
    tm = TissueMask(mask, 10.0)
    l0_xy = np.array([[0, 0], [100, 50], [370, 250], [500, 300]], np.int64)
    got = tissue_fractions(tm, l0_xy, 100.0)
    for (x, y), f in zip(l0_xy, got, strict=True):
        assert f == pytest.approx(mask[y // 10 : y // 10 + 10, x // 10 : x // 10 + 10].mean())


def test_save_load_round_trip(cmu_svs: Path, tmp_path: Path) -> None:
    with open_slide(cmu_svs) as slide:
        grid = make_grid(slide, target_mpp=1.0, overlap_px=16, min_tissue=0.3)
    path = grid.save(tmp_path / "g")
    assert path.suffix == ".npz"
    back = TileGrid.load(path)
    assert np.array_equal(back.l0_xy, grid.l0_xy)
    assert np.array_equal(back.tissue_fraction, grid.tissue_fraction)
    assert back.params() == grid.params()
    assert back.slide_dims == (2220, 2967) and back.read_level == 0
