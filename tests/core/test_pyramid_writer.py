"""Pyramidal overlay TIFFs: round trip through open_slide at several levels, and OpenSlide."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from pathscaat.inference.pyramid_writer import write_pyramid


def _raster(h: int = 1300, w: int = 1100) -> np.ndarray:
    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 256, size=(h // 8 + 1, w // 8 + 1), dtype=np.uint8)
    # blocks of 8 px so every level's 2x2 mean is exact and comparable
    return np.kron(coarse, np.ones((8, 8), np.uint8))[:h, :w]


@pytest.mark.parametrize("backend", ["open_slide", "tifffile"])
def test_round_trip_through_open_slide(tmp_path: Path, backend: str) -> None:
    from pathscaat.slides import open_slide
    from pathscaat.slides.tifffile_backend import open_tifffile

    raster = _raster()
    path = write_pyramid(tmp_path / "sal.tif", raster, l0_per_px=4.0, slide_mpp=0.25)
    opener = open_slide if backend == "open_slide" else open_tifffile
    with opener(path) as slide:
        assert slide.dimensions == (1100, 1300)
        assert slide.level_count == 3  # 1300 -> 650 -> 325 (< 512 stops)
        assert slide.level_dimensions[1] == (550, 650)
        assert slide.level_downsamples[2] == pytest.approx(4.0, rel=0.01)
        assert slide.mpp is not None and slide.mpp.x == pytest.approx(1.0, rel=1e-3)
        l0 = slide.read_region((0, 0), 0, (1100, 1300))
        assert l0.shape == (1300, 1100, 3)
        assert np.array_equal(l0[..., 0], raster)
        assert np.array_equal(l0[..., 1], raster) and np.array_equal(l0[..., 2], raster)
        lvl1 = slide.read_region((0, 0), 1, (550, 650))[..., 0]
        assert np.array_equal(lvl1, raster[::2, ::2])
        lvl2 = slide.read_region((256, 512), 2, (64, 64))[..., 0]
        assert np.array_equal(lvl2, raster[512 : 512 + 256 : 4, 256 : 256 + 256 : 4])


def test_description_levels_and_tiles(tmp_path: Path) -> None:
    raster = _raster(600, 2100)
    path = write_pyramid(
        tmp_path / "p.tif", raster, l0_per_px=16.0, description={"kind": "probability"}
    )
    with tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        desc = json.loads(page.description)
        assert desc["l0_per_px"] == 16.0 and desc["kind"] == "probability"
        assert page.is_tiled and page.tilewidth == 256
        assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        # no mpp given: no physical resolution claimed (unit NONE)
        assert page.tags["ResolutionUnit"].value == tifffile.RESUNIT.NONE
        shapes = [lvl.shape for lvl in tif.series[0].levels]
    assert shapes == [(600, 2100), (300, 1050), (150, 525), (75, 263)]
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".pyramid-*"))


def test_max_reduction_keeps_sparse_peaks(tmp_path: Path) -> None:
    raster = np.zeros((1024, 1024), np.uint8)
    raster[101, 203] = 250
    path = write_pyramid(tmp_path / "s.tif", raster, l0_per_px=1.0, reduce="max")
    with tifffile.TiffFile(path) as tif:
        levels = [lvl.asarray() for lvl in tif.series[0].levels]
    assert len(levels) == 3 and levels[2].max() == 250 and levels[2][25, 50] == 250


def test_other_viewers_read_it(tmp_path: Path) -> None:
    openslide = pytest.importorskip("openslide")
    raster = _raster()
    path = write_pyramid(tmp_path / "o.tif", raster, l0_per_px=2.0, slide_mpp=0.5)
    slide = openslide.OpenSlide(str(path))
    try:
        assert slide.level_dimensions == ((1100, 1300), (550, 650), (275, 325))
        assert float(slide.properties["openslide.mpp-x"]) == pytest.approx(1.0, rel=1e-3)
        region = np.asarray(slide.read_region((64, 64), 1, (32, 32)))
        assert np.array_equal(region[..., 0], raster[64:128:2, 64:128:2])
    finally:
        slide.close()


def test_memmap_source(tmp_path: Path) -> None:
    raster = np.lib.format.open_memmap(
        tmp_path / "r.npy", mode="w+", dtype=np.uint8, shape=(2500, 700)
    )
    raster[:] = _raster(2500, 700)
    raster.flush()
    path = write_pyramid(tmp_path / "m.tif", raster, l0_per_px=4.0)
    assert np.array_equal(tifffile.imread(path), raster)


def test_rejects_wrong_dtype(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="uint8"):
        write_pyramid(tmp_path / "x.tif", np.zeros((10, 10), np.float32), l0_per_px=1.0)
