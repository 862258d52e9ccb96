"""The class palette stays apart: CIEDE2000 minima between classes (also for deuteranopes
and protanopes), from the saliency ramp, from H&E, and as blended over the stains; the
legend swatch is the colour the blended overlay shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.cluster.vq import kmeans2

from pathscaat.inference.overlay_style import (
    CLASS_MAP_OPACITY,
    HE_EOSIN,
    HE_HAEMATOXYLIN,
    PALETTE,
    apply_lut,
    class_map_lut,
    class_palette,
    composite,
    encode_class_map,
    legend_swatch,
    saliency_ramp,
)
from pathscaat.inference.palette_check import delta_e, palette_distances, simulate_cvd
from pathscaat.slides import open_slide

KATHER = ["01_TUMOR", "02_STROMA", "03_COMPLEX", "04_LYMPHO", "05_DEBRIS", "06_MUCOSA",
          "07_ADIPOSE", "08_EMPTY"]  # fmt: skip
NCT = ["ADI", "BACK", "DEB", "LYM", "MUC", "MUS", "NORM", "STR", "TUM"]
MINIMA_8 = {"pairs": 20, "deutan": 19, "protan": 19, "ramp": 19, "stains": 30,
            "blended": 12, "cross": 18, "visible": 19}  # fmt: skip
"""Measured for the first eight colours (scripts/design_palette.py), rounded down."""
OLD_PALETTE = [(213, 94, 0), (86, 180, 233), (230, 159, 0), (0, 114, 178), (60, 60, 60),
               (204, 121, 167), (240, 228, 66), (153, 153, 153)]  # fmt: skip
"""Kather's colours before: adipose yellow, mucosa pink, stroma light blue."""


@pytest.mark.parametrize("colours", [list(PALETTE[:8]), class_palette(KATHER)], ids=["8", "kather"])
def test_eight_classes_stay_apart(colours: list[tuple[int, int, int]]) -> None:
    got = palette_distances(colours, CLASS_MAP_OPACITY).as_dict()
    assert {k: got[k] >= v for k, v in MINIMA_8.items()} == dict.fromkeys(MINIMA_8, True), got


def test_more_classes_still_apart_and_the_old_palette_was_not() -> None:
    nine = palette_distances(class_palette(NCT), CLASS_MAP_OPACITY)
    assert min(nine.pairs, nine.deutan, nine.protan) >= 14 and nine.ramp >= 19
    twelve = palette_distances(list(PALETTE), CLASS_MAP_OPACITY)
    assert min(twelve.pairs, twelve.deutan, twelve.protan) >= 13 and twelve.stains >= 20
    old = palette_distances(OLD_PALETTE, 0.4)
    assert old.ramp < 7 and old.stains < 4 and old.deutan < 7  # what the new one fixes


def test_cvd_simulation_is_the_machado_matrix() -> None:
    grey = simulate_cvd([[128, 128, 128], [255, 255, 255]], "deutan")
    np.testing.assert_allclose(grey, [[128, 128, 128], [255, 255, 255]], atol=1.0)
    red_green = simulate_cvd([[200, 60, 40], [90, 150, 40]], "deutan")
    seen = delta_e([[200, 60, 40]], [[90, 150, 40]])[0, 0]
    assert delta_e(red_green[:1], red_green[1:])[0, 0] < seen / 2  # red and green merge


def test_legend_swatch_is_the_blended_overlay() -> None:
    colours = class_palette(KATHER)
    lut = class_map_lut(colours)
    for cls, colour in enumerate(colours):
        probs = np.zeros((len(colours), 1, 1), np.uint8)
        probs[cls] = 255  # a sure tile of this class
        rgba = apply_lut(encode_class_map(probs), lut)
        for stain, want in zip((HE_EOSIN[0], HE_HAEMATOXYLIN[0]),
                               legend_swatch(colour, CLASS_MAP_OPACITY), strict=True):  # fmt: skip
            shown = composite(np.array([[stain]], np.uint8), [(rgba, CLASS_MAP_OPACITY)])
            assert np.abs(shown[0, 0].astype(int) - want).max() <= 3  # top bin: alpha 0.98


def test_the_stain_references_are_the_colours_of_real_tissue(shared_data: Path) -> None:
    slide_path = shared_data / "slides" / "CMU-1-Small-Region.svs"
    if not slide_path.is_file():
        pytest.skip("CMU-1-Small-Region.svs is not in ../shared/data")
    with open_slide(slide_path) as slide:
        pixels = slide.read_region((0, 0), 0, slide.dimensions).reshape(-1, 3)
    tissue = pixels[pixels.min(axis=1) < 200].astype(np.float64)
    sample = tissue[np.random.default_rng(0).choice(len(tissue), 20000, replace=False)]
    centres, _ = kmeans2(sample, 6, seed=1, minit="++")
    stains = [*HE_EOSIN, *HE_HAEMATOXYLIN]
    assert delta_e(centres, stains).min(axis=1).max() < 12  # every kind of tissue covered
    assert delta_e(centres, saliency_ramp(64)).min() > 25  # and the ramp is none of them
