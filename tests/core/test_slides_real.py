"""open_slide on the real slides in ../shared/data/slides: metadata, levels, reads, thumbnails."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import openslide
import pytest

from pathscaat.slides import Mpp, SlideClosedError, open_slide


def _block_mean(img: np.ndarray, factor: int) -> np.ndarray:
    h, w = img.shape[0] // factor, img.shape[1] // factor
    return img[: h * factor, : w * factor].astype(float).reshape(h, factor, w, factor, 3).mean(
        axis=(1, 3))


def test_every_real_slide_opens_and_reads(real_slides: list[Path]) -> None:
    assert real_slides, "no slides in the shared data folder"
    for path in real_slides:
        with open_slide(path) as slide:
            assert slide.level_count >= 1
            assert slide.level_downsamples[0] == 1.0
            assert slide.mpp is not None, f"{path.name} has mpp in its metadata"
            last = slide.level_count - 1
            region = slide.read_region((0, 0), last, (32, 24))
            assert region.shape == (24, 32, 3) and region.dtype == np.uint8


def test_cmu_svs_metadata(cmu_svs: Path) -> None:
    with open_slide(cmu_svs) as slide:
        assert slide.backend_name == "openslide"
        assert slide.vendor == "aperio"
        assert slide.level_dimensions == ((2220, 2967),)
        assert slide.level_downsamples == (1.0,)
        assert slide.mpp == Mpp(0.499, 0.499, "openslide")
        assert slide.objective_power == 20
        images = slide.associated_images
        assert {name: img.shape for name, img in images.items()} == {
            "label": (463, 387, 3), "macro": (431, 1280, 3), "thumbnail": (768, 574, 3)}
        assert all(img.dtype == np.uint8 for img in images.values())


def test_dapi_ndpi_metadata(dapi_ndpi: Path) -> None:
    with open_slide(dapi_ndpi) as slide:
        assert slide.vendor == "hamamatsu"
        assert slide.level_count == 7
        assert slide.dimensions == (3968, 4864)
        assert slide.level_dimensions[-1] == (62, 76)
        assert slide.level_downsamples == pytest.approx((1, 2, 4, 8, 16, 32, 64))
        assert slide.mpp is not None and slide.mpp.source == "openslide"
        assert slide.mpp.x == pytest.approx(0.228, abs=5e-4)
        assert slide.objective_power == 40
        assert set(slide.associated_images) == {"macro"}
        assert slide.best_level_for(5.0) == 2 and slide.best_level_for(0.5) == 0


@pytest.mark.parametrize("level", [1, 2, 3])
def test_ndpi_level_matches_downsampled_level0(dapi_ndpi: Path, level: int) -> None:
    """A region read at level k shows the same tissue as level 0 averaged down by 2**k."""
    with open_slide(dapi_ndpi) as slide:
        ds = round(slide.level_downsamples[level])
        l0_xy, (w, h) = (1024, 1536), (128, 96)
        lvl = slide.read_region(l0_xy, level, (w, h)).astype(float)
        ref = _block_mean(slide.read_region(l0_xy, 0, (w * ds, h * ds)), ds)
    assert lvl[..., 2].std() > 20, "the region should hold nuclei, not just background"
    assert np.abs(lvl - ref).mean() < 4
    assert np.corrcoef(lvl[..., 2].ravel(), ref[..., 2].ravel())[0, 1] > 0.98


def test_reads_equal_openslide_directly(dapi_ndpi: Path) -> None:
    ref_osr = openslide.OpenSlide(str(dapi_ndpi))
    try:
        with open_slide(dapi_ndpi) as slide:
            for level, l0_xy in ((0, (700, 900)), (2, (2000, 64)), (4, (0, 0))):
                ours = slide.read_region(l0_xy, level, (90, 70))
                theirs = np.asarray(ref_osr.read_region(l0_xy, level, (90, 70)))
                assert (theirs[..., 3] == 255).all()
                np.testing.assert_array_equal(ours, theirs[..., :3])
    finally:
        ref_osr.close()


def test_out_of_bounds_reads_are_white(cmu_svs: Path) -> None:
    with open_slide(cmu_svs) as slide:
        inside = slide.read_region((0, 0), 0, (100, 100))
        straddle = slide.read_region((-100, -100), 0, (200, 200))
        assert (straddle[:100, :] == 255).all() and (straddle[:, :100] == 255).all()
        np.testing.assert_array_equal(straddle[100:, 100:], inside)
        w, h = slide.dimensions
        assert (slide.read_region((w + 10, h + 10), 0, (50, 40)) == 255).all()


def test_thumbnail_is_the_slide_scaled(cmu_svs: Path) -> None:
    with open_slide(cmu_svs) as slide:
        thumb = slide.thumbnail(256)
        full = slide.read_region((0, 0), 0, slide.dimensions)
    assert thumb.shape == (256, 192, 3) and thumb.dtype == np.uint8
    assert np.abs(thumb.reshape(-1, 3).mean(0) - full.reshape(-1, 3).mean(0)).max() < 1.0
    small = _block_mean(full[:2944, :2208], 46)  # 64 x 48 blocks of the slide
    coarse = _block_mean(thumb[:248, :184].copy(), 4)  # ~ the same 62 x 46 grid
    assert np.corrcoef(small[:62, :46, 1].ravel(), coarse[..., 1].ravel())[0, 1] > 0.9


def test_thumbnail_in_blocks_matches_one_read(cmu_svs: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounded-memory reads (as for a giant single-level slide) give the same picture."""
    from pathscaat.slides import thumbnail

    with open_slide(cmu_svs) as slide:
        whole = slide.thumbnail(256).astype(int)
        monkeypatch.setattr(thumbnail, "MAX_READ_PX", 300)  # 10 x 13 blocks
        blocks = slide.thumbnail(256).astype(int)
    assert blocks.shape == whole.shape
    assert np.abs(blocks - whole).mean() < 2


def test_thumbnail_uses_a_small_level(dapi_ndpi: Path) -> None:
    with open_slide(dapi_ndpi) as slide:
        thumb = slide.thumbnail(300)
        assert thumb.shape == (300, 245, 3)
        assert slide.best_level_for(4864 / 300) == 4


def test_mpp_override_keeps_native(cmu_svs: Path) -> None:
    with open_slide(cmu_svs, mpp_override=0.25) as slide:
        assert slide.mpp == Mpp(0.25, 0.25, "user")
        assert slide.native_mpp is not None and slide.native_mpp.x == pytest.approx(0.499)
        with pytest.raises(ValueError):
            slide.set_mpp(-1.0)


def test_parallel_reads_match_serial(dapi_ndpi: Path) -> None:
    with open_slide(dapi_ndpi) as slide:
        spots = [((i * 301) % 3500, (i * 457) % 4400) for i in range(16)]
        serial = [slide.read_region(xy, 1, (64, 64)) for xy in spots]
        results: list[np.ndarray | None] = [None] * len(spots)

        def work(i: int) -> None:
            results[i] = slide.read_region(spots[i], 1, (64, 64))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(spots))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for a, b in zip(serial, results, strict=True):
        assert b is not None
        np.testing.assert_array_equal(a, b)


def test_closed_slide_refuses_reads(cmu_svs: Path) -> None:
    slide = open_slide(cmu_svs)
    slide.close()
    slide.close()  # idempotent
    assert slide.closed
    with pytest.raises(SlideClosedError):
        slide.read_region((0, 0), 0, (10, 10))


@pytest.mark.parametrize("level_xy", [(0, (0, 0)), (0, (2100, 2900)), (0, (-50, -30))])
def test_openslide_fast_read_equals_public_api(cmu_svs, level_xy) -> None:
    """The numpy fast path gives exactly openslide's RGBA composited on white."""
    import openslide

    from pathscaat.slides.openslide_fastread import read_rgb
    from pathscaat.slides.pixels import composite_on_white

    level, l0_xy = level_xy
    with openslide.OpenSlide(str(cmu_svs)) as osr:
        fast = read_rgb(osr, l0_xy, level, (300, 200))
        public = composite_on_white(np.asarray(osr.read_region(l0_xy, level, (300, 200))))
    assert fast.shape == (200, 300, 3) and fast.dtype == np.uint8
    np.testing.assert_array_equal(fast, public)
    if l0_xy[0] < 0 or l0_xy[0] > 2000:  # part of the region lies off the slide: white there
        assert (fast[-5:, -5:] == 255).all() if l0_xy[0] > 0 else (fast[:5, :5] == 255).all()
