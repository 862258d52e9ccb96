"""Measurements of any annotation from every overlay set: checked against rasters whose
values are known, against shapely's own point-in-polygon test, and against the
measurements a region made from the same raster carries."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from pathscaat.annotations.measure import (
    codes_in,
    labelled,
    measure_annotations,
    measure_geometry,
    with_measurements,
)
from pathscaat.annotations.measurement_names import split_name
from pathscaat.annotations.model import Annotation
from pathscaat.annotations.regions import SALIENCY_SHARE, OverlayRasters, regions_from_overlay
from pathscaat.progress import JobCancelled
from tests.core.test_regions import MPP, PROB_L0, SAL_L0, ring_raster, write_set


@pytest.fixture
def ring_set(tmp_path: Path) -> OverlayRasters:
    """The ring of test_regions as class ``tumour``; ``other`` fills the rest of each tile;
    saliency 90 on the ring, 200 in one corner."""
    tumour = ring_raster()
    other = np.where(tumour > 0, 255 - tumour, 0).astype(np.uint8)
    other[0:10, 140:160] = 255  # scored tiles that are all ``other``
    sal = np.kron(tumour > 0, np.ones((2, 2), np.uint8)).astype(np.uint8) * 90
    sal[0:4, 0:4] = 200
    return OverlayRasters(write_set(tmp_path, {"tumour": tumour, "other": other}, sal))


def test_codes_are_the_pixels_whose_centres_are_inside() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (60, 70), dtype=np.uint8)
    hole = [(90, 80), (140, 90), (120, 140)]
    shape = Polygon([(13, 7), (250, 31), (199, 222), (40, 180)], [hole])
    got = np.sort(codes_in(shape, codes, 4.0))
    rows, cols = np.mgrid[0:60, 0:70]
    inside = shapely.contains_xy(shape, (cols + 0.5) * 4.0, (rows + 0.5) * 4.0)
    np.testing.assert_array_equal(got, np.sort(codes[inside]))  # skimage agrees with shapely
    assert codes_in(shapely.box(9, 9, 10, 10), codes, 4.0).tolist() == [codes[2, 2]]  # < 1 px
    assert codes_in(Point(13, 5), codes, 4.0).tolist() == [codes[1, 3]]
    line = codes_in(LineString([(0, 2), (279, 2)]), codes, 4.0)
    assert sorted(line.tolist()) == sorted(codes[0].tolist())  # every pixel the line crosses
    assert codes_in(shapely.box(-50, -50, -10, -10), codes, 4.0).size == 0  # off the raster


def test_a_hand_drawn_polygon_is_measured_from_the_rasters(ring_set: OverlayRasters) -> None:
    # 10 x 20 probability px of the ring's band (rows 20-29, cols 20-39): code 230 there
    shape = shapely.box(20 * PROB_L0, 20 * PROB_L0, 40 * PROB_L0, 30 * PROB_L0)
    got = measure_geometry(shape, ring_set)
    assert got["Mean prob tumour"] == pytest.approx(230 / 255)
    assert got["Max prob other"] == pytest.approx(25 / 255)
    sal = ring_set.codes("saliency").astype(float)
    assert got[SALIENCY_SHARE] == pytest.approx(10 * 20 * 4 * 90 / sal.sum())
    assert got["Mean saliency"] == pytest.approx(90 / 255)


def test_pixels_without_a_tile_do_not_dilute_the_probabilities(ring_set: OverlayRasters) -> None:
    half_off = shapely.box(20 * PROB_L0, 0, 40 * PROB_L0, 40 * PROB_L0)  # rows 0-19 unscored
    got = measure_geometry(half_off, ring_set)
    assert got["Mean prob tumour"] == pytest.approx(230 / 255)  # over the scored half only
    assert got["Mean saliency"] == pytest.approx(90 * 20 / 40 / 255, rel=0.01)  # area mean
    nothing = measure_geometry(shapely.box(0, 100 * PROB_L0, 10 * PROB_L0, 110 * PROB_L0), ring_set)
    assert math.isnan(nothing["Mean prob tumour"]) and nothing[SALIENCY_SHARE] == 0.0


def test_a_region_measured_again_from_its_outline_keeps_its_values(
    ring_set: OverlayRasters,
) -> None:
    regions = regions_from_overlay(ring_set.layer("prob_tumour"), 0.5, 200.0, mpp=MPP)
    for region in regions:
        again = measure_geometry(region.geometry, ring_set)
        for name, value in again.items():
            assert value == pytest.approx(region.measurements[name], abs=1e-3), name


def test_every_annotation_from_every_set(ring_set: OverlayRasters, tmp_path: Path) -> None:
    second = OverlayRasters(write_set(tmp_path / "b", {"tumour": ring_raster()}, None))
    shape = shapely.box(20 * SAL_L0 * 2, 20 * SAL_L0 * 2, 30 * SAL_L0 * 2, 30 * SAL_L0 * 2)
    old = Annotation(shape, measurements={"Mean prob tumour": 0.01, "Cells": 12.0})
    one = measure_annotations([old], [ring_set])[0]
    assert one.measurements["Cells"] == 12.0 and one.measurements["Mean prob tumour"] > 0.5
    both = measure_annotations([old], [ring_set, second])[0]
    labels = [label for label, _ in labelled([ring_set, second])]
    assert labels == [ring_set.overlays.root.name, "b"]
    assert set(both.measurements) == {"Cells"} | {
        f"{label}: {name}"
        for label, rasters in zip(labels, (ring_set, second), strict=True)
        for name in measure_geometry(shape, rasters)
    }  # the old unprefixed overlay value is replaced, not kept beside the new ones
    assert split_name("b: Mean prob Tumor: Positive") == ("b", "Mean prob Tumor: Positive")
    assert split_name("Saliency share") == ("", "Saliency share") and split_name("Cells") is None
    assert with_measurements(old, {}).measurements == {"Cells": 12.0}
    assert measure_annotations([old], []) == [old]
    with pytest.raises(JobCancelled):
        measure_annotations([old, old], [ring_set], should_stop=lambda: True)
