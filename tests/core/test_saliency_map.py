"""The slide-level saliency map: overlapping tiles blended without seams, one percentile
scale for the slide, and regions thresholded in that unit.

The rasters are written by the real stitching step (``write_rasters``) from a real
``PartialStore`` filled with known per-tile maps, so every number is known in advance.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tifffile

from pathscaat.annotations.class_map import apply_class_map, suggest_class_map
from pathscaat.annotations.model import Annotation, PathClass
from pathscaat.annotations.regions import RegionDefaults, load_layer, regions_from_overlay
from pathscaat.inference.overlays import UNIT_PERCENTILE, OverlaySet
from pathscaat.inference.resume import PartialStore
from pathscaat.inference.slide_map import (
    PercentileScale,
    hann_window,
    lattice_contrast,
    positional_bias,
    seam_step_ratio,
)
from pathscaat.inference.stitch import Layout, RasterJob, write_rasters

TILE_PX = 128  # level-0 px per tile (downsample 1); saliency maps of 32 px
SLIDE = (1024, 768)
MPP = 0.5


def grid_xy(overlap: float) -> tuple[np.ndarray, int]:
    stride = round(TILE_PX * (1 - overlap))
    xs = np.arange(0, SLIDE[0] - TILE_PX + 1, stride)
    ys = np.arange(0, SLIDE[1] - TILE_PX + 1, stride)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.int64), stride


def write_set(folder: Path, overlap: float, tile_map) -> tuple[OverlaySet, np.ndarray, int]:
    """Stitch ``tile_map(i, l0_xy, side)`` (a side x side map per tile) into an overlay set."""
    l0_xy, stride = grid_xy(overlap)
    grid = SimpleNamespace(tile_px=TILE_PX, l0_tile_px=float(TILE_PX),
                           overlap_px=TILE_PX - stride)  # fmt: skip
    layout = Layout.for_grid(grid)
    store = PartialStore.open(folder, "test", len(l0_xy), 2, layout.sal_px)
    maps = np.stack([tile_map(i, xy, layout.sal_px) for i, xy in enumerate(l0_xy)])
    store.record(np.arange(len(l0_xy)), np.full((len(l0_xy), 2), 0.5, np.float32),
                 maps.astype(np.float32))  # fmt: skip
    store.commit()
    job = RasterJob(store, l0_xy, layout, SLIDE, ["a", "b"], MPP)
    infos = write_rasters(job, folder, None, lambda _: None)
    overlays = OverlaySet(folder, "slide", SLIDE, ["a", "b"], infos)
    overlays.save()
    return overlays, l0_xy, stride


def level0(overlays: OverlaySet, name: str) -> np.ndarray:
    return tifffile.imread(overlays.path_of(overlays.get(name)), key=0)


def gains(seed: int = 0):
    """Each tile a different constant: the worst case for seams."""
    rng = np.random.default_rng(seed)
    table = rng.uniform(0.2, 1.0, 1000)
    return lambda i, xy, side: np.full((side, side), table[i], np.float32)


def ratio(overlays: OverlaySet, name: str, l0_xy: np.ndarray, stride: int) -> float:
    info = overlays.get(name)
    codes = level0(overlays, name)
    return seam_step_ratio(codes, info.l0_per_px, l0_xy[:, 0], l0_xy[:, 1], stride,
                           codes > 0)  # fmt: skip


def test_constant_saliency_slide_has_no_seams(tmp_path: Path) -> None:
    overlays, _, _ = write_set(tmp_path, 0.5, lambda i, xy, side: np.ones((side, side)))
    for name in ("saliency", "saliency_tile", "saliency_abs"):
        codes = level0(overlays, name)
        covered = codes[: 736 // 4, : 1024 // 4]  # the area the tiles cover
        assert covered.min() > 0 and int(covered.max()) - int(covered.min()) <= 1, name


def test_overlapping_tiles_blend_away_the_steps_of_unequal_tiles(tmp_path: Path) -> None:
    before, xy0, stride0 = write_set(tmp_path / "ov0", 0.0, gains())
    after, xy5, stride5 = write_set(tmp_path / "ov5", 0.5, gains())
    assert ratio(before, "saliency_abs", xy0, stride0) > 5  # steps at every tile border
    assert ratio(after, "saliency_abs", xy5, stride5) <= 1.2
    assert ratio(after, "saliency", xy5, stride5) <= 1.2
    # and at the borders of the non-overlapping grid, where the old seams were
    assert ratio(after, "saliency", xy0, stride0) <= 1.2


def test_hann_weights_of_half_overlapping_tiles_sum_to_a_constant() -> None:
    w = hann_window(32)[16]  # one row through the centre
    summed = w[:16] + w[16:]  # a tile and its neighbour half a tile on
    assert np.ptp(summed) < 0.01 * summed.mean()
    assert w.min() > 0  # a lone tile at a slide edge keeps its values


def test_slide_map_is_a_percentile_of_the_slides_tissue(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    overlays, _, _ = write_set(
        tmp_path, 0.5, lambda i, xy, side: rng.gamma(2.0, 1.0, (side, side)) * (1 + i % 3)
    )
    info = overlays.get("saliency")
    assert (info.unit, info.value_min, info.value_max) == (UNIT_PERCENTILE, 0.0, 1.0)
    assert "where in this slide" in info.meaning and "8 µm" in info.meaning
    assert overlays.get("saliency_tile").meaning.startswith("where the model looks inside")
    assert overlays.get("saliency_abs").meaning.startswith("how strongly")
    codes = level0(overlays, "saliency")
    tissue = codes[codes > 0]
    for p in (0.5, 0.9):  # the share of tissue at or above percentile p is 1 - p
        assert np.mean(tissue >= round(p * 255)) == pytest.approx(1 - p, abs=0.02)


def test_a_pattern_every_tile_repeats_leaves_no_lattice(tmp_path: Path) -> None:
    """A strided network stamps one checkerboard on every tile; half-overlapping tiles
    shift it against itself. Divided by the positional bias, the map shows the tissue."""
    rng = np.random.default_rng(7)
    tissue = np.kron(rng.gamma(2.0, 1.0, (96, 128)), np.ones((2, 2)))  # 8 l0 px cells
    checker = 0.1 + (np.indices((32, 32)).sum(axis=0) // 5 % 2) * 2.0  # period 10 map px

    def tile_map(i: int, xy: np.ndarray, side: int) -> np.ndarray:
        r, c = xy[1] // 4, xy[0] // 4  # the tissue under the tile, in map px
        return tissue[r : r + side, c : c + side] * checker

    overlays, _, stride = write_set(tmp_path, 0.5, tile_map)
    codes = level0(overlays, "saliency")
    raw = level0(overlays, "saliency_abs")
    inside = codes > 0
    origin = (0.0, 0.0)
    assert lattice_contrast(raw, 4.0, origin, TILE_PX, inside) > 1.0  # the raw blend has it
    assert lattice_contrast(raw, 4.0, origin, stride, inside) > 1.0
    assert lattice_contrast(codes, 4.0, origin, stride, inside) < 0.1  # 0.15 uncorrected
    # 48 tile periods on this small slide: 0.3 is the sampling noise of the tissue itself
    assert lattice_contrast(codes, 4.0, origin, TILE_PX, inside) < 0.3


def test_positional_bias_is_the_shared_pattern_shrunk_for_few_tiles() -> None:
    pattern = np.array([[1.0, 3.0], [3.0, 1.0]], np.float32)
    many = positional_bias(pattern * g for g in np.linspace(0.5, 2.0, 1000))
    np.testing.assert_allclose(many, pattern / 2.0, rtol=0.02)  # scaled to mean 1
    few = positional_bias(pattern * g for g in (1.0, 2.0))
    assert np.all(np.abs(few - 1) < np.abs(many - 1))  # two tiles: barely corrected


def test_percentile_scale_ranks_ties_together() -> None:
    scale = PercentileScale.from_samples(np.array([0, 0, 1, 2, 3, 4, 5, 6, 7, 8], np.float32))
    np.testing.assert_allclose(scale.rank(np.array([0, 8, 100, -1], np.float32)),
                               [0.1, 0.95, 1.0, 0.0])  # fmt: skip


def test_regions_threshold_is_a_percentile_whatever_the_smoothing(tmp_path: Path) -> None:
    """0.9 on the slide map keeps a tenth of the tissue, smoothed or not."""
    rng = np.random.default_rng(5)
    overlays, _, _ = write_set(tmp_path, 0.5, lambda i, xy, side: rng.gamma(2.0, 1.0, (side, side)))
    layer = load_layer(overlays.root, "saliency")
    defaults = RegionDefaults.for_layer(layer.info)
    assert (defaults.threshold, defaults.unit) == (0.9, UNIT_PERCENTILE)
    assert "most salient 15 %" in defaults.describe(0.85)
    tissue_um2 = np.count_nonzero(layer.codes) * (layer.l0_per_px * MPP) ** 2
    for smooth in (0.0, 20.0):
        regions = regions_from_overlay(layer, 0.9, 0.0, mpp=MPP, smooth_um=smooth)
        area = sum(r.measurements["Area µm^2"] for r in regions)
        assert area == pytest.approx(0.1 * tissue_um2, rel=0.25), smooth
    fewer = regions_from_overlay(layer, 0.9, 0.0, mpp=MPP, smooth_um=20.0)
    assert len(fewer) < len(regions_from_overlay(layer, 0.9, 0.0, mpp=MPP))


def test_model_classes_map_to_the_projects() -> None:
    model = ["01_TUMOR", "02_STROMA", "04_LYMPHO", "08_EMPTY"]
    project = ["Tumour", "Stroma", "Lymphocytes", "Other"]
    start = suggest_class_map(model, project, {})
    assert start == {"01_TUMOR": "Tumour", "02_STROMA": "Stroma", "04_LYMPHO": "Lymphocytes"}
    remembered = suggest_class_map(model, project, {"08_EMPTY": "Other", "02_STROMA": "gone"})
    assert remembered["08_EMPTY"] == "Other" and remembered["02_STROMA"] == "Stroma"
    from shapely.geometry import box

    region = Annotation(geometry=box(0, 0, 1, 1), path_class=PathClass.named("01_TUMOR"))
    (mapped,) = apply_class_map([region], start)
    assert mapped.class_name == "Tumour" and mapped.id == region.id
