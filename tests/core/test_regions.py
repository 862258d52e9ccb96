"""Regions from overlays: polygons that match the thresholded raster, holes kept, measured.

Two kinds of input: small overlay sets written here with known shapes (a ring with a hole
and an island in it, a blob under the minimum area, rasters at two scales), checked
against numbers worked out by hand; and the overlays the real ``predict_slide`` writes
with a tiny model for a generated synthetic slide and for CMU-1-Small-Region.svs, checked
against an independent labelling of the same raster (skimage.measure.label).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from skimage.measure import label

from pathscaat.annotations.model import ToolShape
from pathscaat.annotations.regions import (
    AREA,
    SALIENCY_SHARE,
    OverlayRasters,
    regions_from_overlay,
)
from pathscaat.inference.overlays import OverlayInfo, OverlaySet
from pathscaat.inference.predict import predict_slide
from pathscaat.inference.pyramid_writer import write_pyramid
from pathscaat.progress import PathscaatError
from tests.core.test_predict import make_checkpoint

MPP = 0.5
PROB_L0 = 8.0  # level-0 px per probability px
SAL_L0 = 4.0
CMU_MPP = 0.499


def write_set(folder: Path, probs: dict[str, np.ndarray], sal: np.ndarray | None) -> OverlaySet:
    """An overlay set as ``pathscaat infer`` lays it out, from the given code rasters."""
    infos = []
    for name, codes in probs.items():
        write_pyramid(folder / f"prob_{name}.tif", codes, l0_per_px=PROB_L0, slide_mpp=MPP)
        infos.append(OverlayInfo(f"prob_{name}", "probability", f"prob_{name}.tif", PROB_L0, name))
    if sal is not None:
        write_pyramid(folder / "saliency.tif", sal, l0_per_px=SAL_L0, slide_mpp=MPP)
        infos.append(OverlayInfo("saliency", "saliency", "saliency.tif", SAL_L0, None, 0.0, 3.0))
    shape = next(iter(probs.values())).shape
    dims = (int(shape[1] * PROB_L0), int(shape[0] * PROB_L0))
    overlay_set = OverlaySet(folder, "slide.svs", dims, list(probs), infos)
    overlay_set.save()
    return overlay_set


def ring_raster() -> np.ndarray:
    """A 60 x 80 px block (code 230) with a 20 x 20 hole holding a 5 x 5 island, and a
    3 x 3 blob far away."""
    codes = np.zeros((120, 160), np.uint8)
    codes[20:80, 20:100] = 230
    codes[40:60, 50:70] = 0  # the hole
    codes[47:52, 57:62] = 240  # island inside the hole
    codes[100:103, 130:133] = 250  # blob of 9 px: 144 µm², under the minimum
    return codes


@pytest.fixture
def ring_set(tmp_path: Path) -> OverlayRasters:
    sal = np.kron(ring_raster() > 0, np.ones((2, 2), np.uint8)).astype(np.uint8) * 90
    sal[0:4, 0:4] = 200  # saliency outside every region
    return OverlayRasters(write_set(tmp_path, {"tumour": ring_raster()}, sal))


def test_ring_keeps_its_hole_and_the_island_is_its_own_region(ring_set: OverlayRasters) -> None:
    regions = regions_from_overlay(ring_set.layer("prob_tumour"), 0.5, 200.0, mpp=MPP)
    assert len(regions) == 2  # the ring and the island; the 144 µm² blob is dropped
    ring, island = sorted(regions, key=lambda r: -r.geometry.area)
    px = PROB_L0 * PROB_L0
    assert ring.geometry.is_valid and len(ring.geometry.interiors) == 1
    assert ring.geometry.area == pytest.approx((60 * 80 - 20 * 20) * px, rel=1e-3)
    assert shapely.Polygon(ring.geometry.interiors[0]).area == pytest.approx(400 * px, rel=1e-2)
    assert ring.geometry.bounds == pytest.approx((160, 160, 800, 640), abs=0.1)
    assert island.geometry.area == pytest.approx((25 - 4 / 8) * px, rel=1e-3)  # corners cut
    assert ring.geometry.interiors[0].convex_hull.contains(island.geometry)
    for r in regions:
        assert r.tool is ToolShape.REGION and r.class_name == "tumour"
        assert r.measurements[AREA] == pytest.approx(r.geometry.area * MPP * MPP)
        assert r.metadata["layer"] == "prob_tumour"
    assert len(ring.geometry.exterior.coords) == 9  # 4 corners, each cut: no staircase left


def test_small_holes_filled_on_request_and_all_kept_with_zero(ring_set: OverlayRasters) -> None:
    layer = ring_set.layer("prob_tumour")
    hole_um2 = 400 * (PROB_L0 * MPP) ** 2
    filled = regions_from_overlay(layer, 0.5, 200.0, mpp=MPP, min_hole_um2=hole_um2 + 1)
    ring = max(filled, key=lambda r: r.geometry.area)
    assert len(ring.geometry.interiors) == 0
    assert ring.geometry.area == pytest.approx(60 * 80 * PROB_L0**2, rel=1e-3)
    kept = regions_from_overlay(layer, 0.5, 0.0, mpp=MPP, min_hole_um2=0.0)
    assert len(kept) == 3  # the blob is back with a zero minimum area


def test_measurements_are_the_raster_inside_each_region(ring_set: OverlayRasters) -> None:
    codes = ring_raster()
    regions = regions_from_overlay(ring_set.layer("prob_tumour"), 0.5, 200.0, mpp=MPP)
    ring, island = sorted(regions, key=lambda r: -r.geometry.area)
    assert ring.measurements["Mean prob tumour"] == pytest.approx(230 / 255)
    assert ring.measurements["Max prob tumour"] == pytest.approx(230 / 255)
    assert island.measurements["Max prob tumour"] == pytest.approx(240 / 255)
    sal = ring_set.codes("saliency").astype(np.float64)
    ring_px = (codes == 230).sum() * 4  # saliency px are a quarter of a probability px
    assert ring.measurements[SALIENCY_SHARE] == pytest.approx(ring_px * 90 / sal.sum())
    assert island.measurements[SALIENCY_SHARE] == pytest.approx(25 * 4 * 90 / sal.sum())
    assert ring.measurements["Mean saliency"] == pytest.approx(90 / 255)


def test_saliency_regions_take_the_class_most_probable_inside(tmp_path: Path) -> None:
    a = np.full((40, 40), 50, np.uint8)
    b = np.full((40, 40), 50, np.uint8)
    a[:, :20], b[:, 20:] = 200, 200  # class a on the left, b on the right
    sal = np.zeros((80, 80), np.uint8)
    sal[10:30, 5:30], sal[50:70, 50:75] = 255, 128
    rasters = OverlayRasters(write_set(tmp_path, {"a": a, "b": b}, sal))
    regions = regions_from_overlay(rasters.layer("saliency"), 0.4, 10.0, mpp=MPP)
    assert [r.class_name for r in regions] == ["a", "b"]
    assert regions[0].geometry.area == pytest.approx(20 * 25 * SAL_L0**2, rel=1e-3)
    assert regions[0].measurements["Mean prob a"] == pytest.approx(200 / 255)
    shares = [r.measurements[SALIENCY_SHARE] for r in regions]
    assert sum(shares) == pytest.approx(1.0)
    assert shares[0] == pytest.approx(500 * 255 / (500 * 255 + 500 * 128))


def test_bad_requests_are_one_clear_error(ring_set: OverlayRasters, tmp_path: Path) -> None:
    with pytest.raises(PathscaatError, match=r"no overlay layer 'prob_x'.*prob_tumour, saliency"):
        ring_set.layer("prob_x")
    layer = ring_set.layer("prob_tumour")
    assert ring_set.layer("tumour").info == layer.info  # a bare class name is its layer
    with pytest.raises(PathscaatError, match=r"outside 0\.\.1"):
        regions_from_overlay(layer, 1.5, 0.0, mpp=MPP)
    with pytest.raises(PathscaatError, match="no µm/px"):
        regions_from_overlay(layer, 0.5, 100.0, mpp=None)
    no_mpp = regions_from_overlay(layer, 0.5, 0.0, mpp=None)
    assert no_mpp and all(np.isnan(r.measurements[AREA]) for r in no_mpp)
    with pytest.raises(PathscaatError, match=r"overlays\.json"):
        OverlayRasters(tmp_path / "nowhere")
    (tmp_path / "saliency.tif").write_bytes(b"II*\x00garbage")
    with pytest.raises(PathscaatError, match=r"saliency\.tif.*run 'pathscaat infer' again"):
        OverlayRasters(tmp_path).codes("saliency")  # rasters are read on first use


# -- the real inference output ------------------------------------------------------------


# Runs shared by every module that imports these fixtures (pytest would make one per
# module): the inference is the slow part.
_RUNS: dict[str, Any] = {}


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "ckpt" not in _RUNS:
        _RUNS["ckpt"] = make_checkpoint(tmp_path_factory.mktemp("regions-ckpt"))
    return _RUNS["ckpt"]


@pytest.fixture(scope="session")
def synthetic_infer(tmp_path_factory: pytest.TempPathFactory, tiny_ckpt: Path):
    from pathscaat.data.synthetic import write_synthetic_slide

    if "synthetic" not in _RUNS:
        folder = tmp_path_factory.mktemp("regions-synthetic")
        slide, _ = write_synthetic_slide(folder / "syn.tiff", width=1280, height=1024, seed=3,
                                         tile=256)  # fmt: skip
        out = predict_slide(slide, tiny_ckpt, folder / "out", device="cpu", workers=1)
        _RUNS["synthetic"] = (slide, out)
    return _RUNS["synthetic"]


@pytest.fixture(scope="session")
def cmu_infer(tmp_path_factory: pytest.TempPathFactory, tiny_ckpt: Path, cmu_svs: Path):
    if "cmu" not in _RUNS:
        out = predict_slide(cmu_svs, tiny_ckpt, tmp_path_factory.mktemp("regions-cmu"),
                            device="cpu", workers=1)  # fmt: skip
        _RUNS["cmu"] = (cmu_svs, out)
    return _RUNS["cmu"]


def check_against_labels(
    rasters: OverlayRasters, name: str, threshold: float, min_um2: float, mpp: float = MPP
):
    """Regions vs an independent labelling: same count, same areas (holes all kept).

    Marching squares cuts each corner by an eighth of a pixel, so a one-pixel hole shows
    as a diamond of half a pixel: the allowance is half a pixel per hole, plus 1%.
    """
    layer = rasters.layer(name)
    regions = regions_from_overlay(layer, threshold, min_um2, mpp=mpp, min_hole_um2=0.0)
    labels = label(layer.codes >= layer.code_of(threshold), connectivity=2)
    px_l0 = layer.l0_per_px**2
    sizes = np.bincount(labels.ravel())[1:]
    kept = np.sort(sizes[sizes * px_l0 * mpp * mpp >= min_um2])[::-1]
    assert len(regions) == len(kept) > 0
    by_area = sorted(regions, key=lambda r: -r.geometry.area)
    for r, n_px in zip(by_area, kept, strict=True):
        holes = len(getattr(r.geometry, "interiors", []))
        assert abs(r.geometry.area / px_l0 - n_px) <= 0.01 * n_px + 0.5 * holes + 1.0
    w, h = rasters.overlays.slide_dims
    for r in regions:
        assert r.geometry.is_valid and shapely.box(0, 0, w, h).contains(r.geometry)
    return regions


@pytest.mark.slow
def test_regions_of_a_real_inference_on_a_synthetic_slide(synthetic_infer) -> None:
    _, out = synthetic_infer
    rasters = OverlayRasters(out)
    regions = check_against_labels(rasters, "saliency", 0.3, 50.0)
    for r in regions:
        assert {f"Mean prob {c}" for c in out.classes} <= set(r.measurements)
        assert 0.0 < r.measurements[SALIENCY_SHARE] <= 1.0
    assert sum(r.measurements[SALIENCY_SHARE] for r in regions) <= 1.0 + 1e-9


@pytest.mark.slow
def test_regions_of_a_real_inference_on_cmu(cmu_infer) -> None:
    _, out = cmu_infer
    rasters = OverlayRasters(out)
    sal = rasters.codes("saliency")
    threshold = float(np.percentile(sal[sal > 0], 75)) / 255
    check_against_labels(rasters, "saliency", threshold, 20.0, CMU_MPP)
    name = f"prob_{out.classes[0]}"
    codes = rasters.codes(name)
    median = float(np.median(codes[codes > 0])) / 255
    regions = check_against_labels(rasters, name, median, 0.0, CMU_MPP)
    assert {r.class_name for r in regions} == {out.classes[0]}
