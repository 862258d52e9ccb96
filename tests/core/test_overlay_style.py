"""Overlay display maths: alpha by value, class maps, peaks, outlines, compositing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from shapely.geometry import Polygon

from pathscaat.inference.display_sources import ClassMapSlide, PeakPyramid, read_codes
from pathscaat.inference.outlines import read_tile_boxes, tissue_outline
from pathscaat.inference.overlay_style import (
    ALPHA_FLOOR,
    apply_lut,
    class_map_lut,
    class_palette,
    composite,
    decode_class_code,
    dilate_max,
    encode_class_map,
    value_alpha,
)
from pathscaat.inference.pyramid_writer import write_pyramid
from pathscaat.inference.render import LayerPaint, fit_size, render_in_bands, render_region
from pathscaat.inference.tiles_csv import write_tiles_csv
from pathscaat.progress import JobCancelled, ProgressRecord
from pathscaat.slides import open_slide


def test_value_alpha_is_zero_below_threshold_then_rises() -> None:
    alpha = value_alpha(100)
    assert alpha[0] == 0 and alpha[99] == 0
    assert alpha[100] == round(255 * ALPHA_FLOOR) and alpha[255] == 255
    assert np.all(np.diff(alpha[100:].astype(int)) >= 0)
    assert value_alpha(0)[0] == 0  # code 0 is "no data" even with no threshold
    assert not value_alpha(256).any()


def test_class_map_codes_carry_argmax_and_probability() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(5), size=(40, 30)).transpose(2, 0, 1)
    prob_codes = np.round(probs * 255).astype(np.uint8)
    prob_codes[:, :3, :3] = 0  # no tile here
    codes = encode_class_map(prob_codes)
    assert (codes[:3, :3] == 0).all()
    want = prob_codes.argmax(axis=0)
    for (r, c), code in np.ndenumerate(codes):
        if (r, c) < (3, 3) and r < 3 and c < 3:
            continue
        cls, prob = decode_class_code(int(code), 5)  # type: ignore[misc]
        assert cls == want[r, c]
        assert abs(prob - prob_codes[:, r, c].max() / 255) <= 1 / (255 // 5)


def test_class_map_lut_colours_and_alpha() -> None:
    colours = class_palette(["a", "b", "c"])
    lut = class_map_lut(colours, min_prob=0.5)
    prob_codes = np.zeros((3, 1, 3), dtype=np.uint8)
    prob_codes[:, 0, 0] = (20, 215, 20)  # class 1, sure
    prob_codes[:, 0, 1] = (150, 60, 45)  # class 0, 0.59
    prob_codes[:, 0, 2] = (100, 90, 65)  # class 0, 0.39: below min_prob
    rgba = apply_lut(encode_class_map(prob_codes), lut)[0]
    assert tuple(rgba[0, :3]) == colours[1] and tuple(rgba[1, :3]) == colours[0]
    assert rgba[0, 3] > rgba[1, 3] > 0 and rgba[2, 3] == 0
    assert len(set(class_palette([f"class {i}" for i in range(12)]))) == 12
    kather = ["01_TUMOR", "02_STROMA", "03_COMPLEX", "04_LYMPHO", "05_DEBRIS", "06_MUCOSA",
              "07_ADIPOSE", "08_EMPTY"]  # fmt: skip
    palette = class_palette(kather)
    assert len(set(palette)) == len(kather)  # named ones conventional, all distinct
    assert palette[0] == (213, 94, 0) and palette[3] == (0, 114, 178)


def test_composite_is_alpha_blending() -> None:
    white = np.full((1, 1, 3), 255, np.uint8)
    red = np.array([[[255, 0, 0, 255]]], np.uint8)
    assert composite(white, [(red, 0.5)])[0, 0].tolist() == [255, 128, 128]
    assert composite(white, [(red, 0.0)])[0, 0].tolist() == [255, 255, 255]


def test_dilate_max_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    raster = (rng.random((37, 53)) > 0.97).astype(np.uint8) * rng.integers(1, 255, (37, 53))
    raster = raster.astype(np.uint8)
    want = ndimage.grey_dilation(raster, size=(3, 3), mode="constant", cval=0)
    np.testing.assert_array_equal(dilate_max(raster, 1), want)


def test_peak_pyramid_keeps_a_lone_peak_visible_when_zoomed_out(tmp_path: Path) -> None:
    raster = np.zeros((2048, 2048), np.uint8)
    raster[1001, 1502] = 240
    path = write_pyramid(tmp_path / "sal.tif", raster, l0_per_px=4.0, reduce="max")
    with PeakPyramid(open_slide(path)) as peaks:
        assert peaks.level_count >= 3
        lvl0 = read_codes(peaks, (1400, 900), 0, (200, 200))
        assert (lvl0 > 0).sum() == 1  # the finest level is drawn as stored
        top = peaks.level_count - 1
        w, h = peaks.level_dimensions[top]
        lvl = peaks.read_region((0, 0), top, (w, h))[..., 0]
        assert (lvl == 240).sum() == 9  # 3 x 3 at the coarsest level
        assert read_codes(peaks, (-4000, -4000), top, (8, 8)).max() == 0  # off-raster


def _prob_rasters(tmp_path: Path, probs: np.ndarray) -> list[Path]:
    return [
        write_pyramid(tmp_path / f"p{c}.tif", np.round(p * 255).astype(np.uint8), l0_per_px=8.0)
        for c, p in enumerate(probs)
    ]


def test_class_map_slide_reads_argmax_codes(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    probs = rng.dirichlet(np.ones(3), size=(300, 700)).transpose(2, 0, 1)
    paths = _prob_rasters(tmp_path, probs)
    with ClassMapSlide([open_slide(p) for p in paths]) as cmap:
        codes = cmap.read_region((0, 0), 0, (700, 300))[..., 0]
    stack = np.stack([np.round(p * 255).astype(np.uint8) for p in probs])
    np.testing.assert_array_equal(codes, encode_class_map(stack))


def test_tissue_outline_encloses_the_mask() -> None:
    yy, xx = np.mgrid[:200, :300]
    mask = (xx - 120) ** 2 + (yy - 90) ** 2 < 60**2
    mask[150:180, 240:280] = True  # a second piece
    rings = tissue_outline(mask, 4.0)
    assert len(rings) == 2
    area_l0 = sum(Polygon(r).area for r in rings)
    assert area_l0 == pytest.approx(mask.sum() * 16.0, rel=0.03)


def test_tile_boxes_round_trip(tmp_path: Path) -> None:
    l0_xy = np.array([[0, 0], [448, 0], [448, 896]], np.int64)
    probs = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]], np.float32)
    path = write_tiles_csv(tmp_path / "tiles.csv", l0_xy, 448.0, probs, ["a", "b"])
    got_xy, side = read_tile_boxes(path)
    np.testing.assert_array_equal(got_xy, l0_xy)
    assert side == 448.0


def test_render_region_lays_overlay_over_real_tissue(cmu_svs: Path, tmp_path: Path) -> None:
    with open_slide(cmu_svs) as slide:
        w, h = slide.dimensions
        raster = np.zeros((h // 8 + 1, w // 8 + 1), np.uint8)
        raster[: raster.shape[0] // 2] = 255  # the top half of the slide is "hot"
        path = write_pyramid(tmp_path / "o.tif", raster, l0_per_px=8.0)
        lut = np.zeros((256, 4), np.uint8)
        lut[255] = (0, 255, 0, 255)
        with open_slide(path) as overlay:
            size = fit_size(w, h, 400)
            out = render_region(slide, (0, 0, w, h), size, [LayerPaint(overlay, 8.0, lut, 0.5)])
            plain = render_region(slide, (0, 0, w, h), size, [])
    assert out.shape == (size[1], size[0], 3) and max(size) == 400
    top, bottom = out[: size[1] // 3], out[-size[1] // 3 :]
    want = plain[: size[1] // 3] * 0.5 + np.array([0, 255, 0]) * 0.5  # 50 % green over it
    inner = (slice(2, -2), slice(2, -2))  # the raster's own edge is smoothed into "no data"
    assert np.abs(top.astype(float) - want)[inner].max() <= 1.0
    np.testing.assert_array_equal(bottom, plain[-size[1] // 3 :])  # untouched tissue


def test_rendering_in_bands_joins_without_seams_and_stops(cmu_svs: Path, tmp_path: Path) -> None:
    with open_slide(cmu_svs) as slide:
        raster = np.random.default_rng(2).integers(0, 256, (380, 280), dtype=np.uint8)
        path = write_pyramid(tmp_path / "o.tif", raster, l0_per_px=8.0)
        lut = np.zeros((256, 4), np.uint8)
        lut[:, 1], lut[:, 3] = 255, np.arange(256)
        with open_slide(path) as overlay:
            paint = [LayerPaint(overlay, 8.0, lut, 0.6)]
            rect, size = (123.4, 456.7, 1500.3, 1800.9), (700, 840)
            whole = render_region(slide, rect, size, paint).astype(int)
            records: list[ProgressRecord] = []
            bands = render_in_bands(slide, rect, size, paint, band_px=97,
                                    on_progress=records.append)  # fmt: skip
            with pytest.raises(JobCancelled):
                render_in_bands(slide, rect, size, paint, should_stop=lambda: True)
    diff = np.abs(bands - whole)
    assert bands.shape == whole.shape and (diff == 0).mean() > 0.999 and diff.mean() < 0.05
    assert [r.done for r in records] == list(range(10)) and records[-1].total == 9


def test_a_saved_manifest_keeps_each_layers_unit_and_meaning(tmp_path) -> None:
    """The manifest check on load must not drop the fields that say what a value means
    (``pathscaat regions`` read the percentile map as a raw one and found 99 regions, not 13)."""
    from pathscaat.inference.overlays import OverlayInfo, OverlaySet

    unit = "percentile of this slide's tissue"
    info = OverlayInfo("saliency", "saliency", "saliency.tif", 4.0, None, 0.0, 1.0,
                       unit=unit, meaning="where it looks")  # fmt: skip
    OverlaySet(root=tmp_path, slide="s.svs", slide_dims=(100, 80), classes=["a"],
               overlays=[info]).save()  # fmt: skip
    loaded = OverlaySet.load(tmp_path).overlays[0]
    assert (loaded.unit, loaded.meaning) == (info.unit, info.meaning)
