"""Tissue detection on real slides (CMU H&E, DAPI fluorescence) and on small arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from pathscaat.slides import open_slide
from pathscaat.tiling.tissue import TissueMask, detect_tissue, tissue_mask_from_rgb


def _he_like(rng: np.random.Generator) -> np.ndarray:
    """White glass with a pink square of 'tissue' dotted with purple 'nuclei'."""
    img = np.full((200, 300, 3), 245, np.uint8)
    img[50:150, 100:250] = (225, 140, 190)
    ys, xs = rng.integers(52, 148, 80), rng.integers(102, 248, 80)
    img[ys, xs] = (100, 60, 150)
    return img


def test_mask_from_rgb_finds_the_tissue_square() -> None:
    mask = tissue_mask_from_rgb(_he_like(np.random.default_rng(0)))
    assert mask[60:140, 110:240].mean() > 0.95
    assert mask[:40].sum() == 0 and mask[:, :90].sum() == 0


def test_black_border_and_green_pen_are_not_tissue() -> None:
    img = _he_like(np.random.default_rng(1))
    img[:, :20] = 5  # scanner border
    img[160:190, 20:290] = (40, 150, 60)  # green pen stroke
    mask = tissue_mask_from_rgb(img)
    assert mask[:, :20].sum() == 0
    assert mask[160:190].sum() == 0
    assert mask[60:140, 110:240].mean() > 0.95


def test_blank_glass_has_no_tissue() -> None:
    img = np.full((100, 100, 3), 240, np.uint8) + np.random.default_rng(2).integers(
        0, 5, (100, 100, 3), dtype=np.uint8
    )
    assert tissue_mask_from_rgb(img).sum() == 0


def test_cmu_tissue_where_the_thumbnail_shows_it(cmu_svs: Path, tmp_path: Path) -> None:
    with open_slide(cmu_svs) as slide:
        tm = detect_tissue(slide)
        thumb = slide.thumbnail(max(tm.mask.shape))
    assert tm.method == "brightfield"
    assert max(tm.mask.shape) == round(2967 / 2)  # small slide: 2 level-0 px per mask px
    assert abs(tm.l0_per_px * tm.mask.shape[1] - 2220) < 2
    assert 0.2 < tm.fraction < 0.6  # a strip of skin on a mostly white slide
    grey = thumb[: tm.mask.shape[0], : tm.mask.shape[1]].mean(axis=2)
    assert grey[tm.mask].mean() < grey[~tm.mask].mean() - 40  # mask is on the stained part
    assert tm.mask[:, :150].mean() < 0.05  # the left margin is glass (apart from one strand)
    assert not tm.mask[: int(60 / tm.l0_per_px), :].any()  # the top 60 level-0 rows are glass
    png = tm.save_png(tmp_path / "m.png")
    assert np.array_equal(np.asarray(Image.open(png)) > 0, tm.mask)


def test_dapi_fluorescence_is_detected_as_darkfield(dapi_ndpi: Path) -> None:
    """DAPI: tissue = where stained nuclei are dense; the black glass is not tissue."""
    with open_slide(dapi_ndpi) as slide:
        tm = detect_tissue(slide, mask_l0_per_px=8.0)
        thumb = slide.thumbnail(max(tm.mask.shape))
    assert tm.method == "darkfield"
    assert 0.2 < tm.fraction < 0.9
    bright = thumb.max(axis=2)[: tm.mask.shape[0], : tm.mask.shape[1]]
    assert bright[tm.mask].mean() > 3 * bright[~tm.mask].mean()


def test_l0_mapping_round_trip() -> None:
    mask = np.zeros((10, 20), bool)
    mask[2:4, 5:8] = True
    tm = TissueMask(mask, 16.0)
    assert np.allclose(tm.from_l0(tm.to_l0(np.array([[3.0, 2.5]]))), [[3.0, 2.5]])
    assert tm.at_l0(6 * 16 + 1, 3 * 16 + 1) and not tm.at_l0(0, 0)
