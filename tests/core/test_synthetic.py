"""Synthetic H&E generator: determinism, evidence masks, patch-set layout, pyramidal slide."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pathscaat.data.synthetic import CLASSES, render_patch, write_patch_set


def test_render_patch_is_deterministic_by_seed() -> None:
    a, ma = render_patch(np.random.default_rng(3), "atypical", 96)
    b, mb = render_patch(np.random.default_rng(3), "atypical", 96)
    c, _ = render_patch(np.random.default_rng(4), "atypical", 96)
    assert a.dtype == np.uint8 and a.shape == (96, 96, 3)
    assert np.array_equal(a, b) and np.array_equal(ma, mb)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("label", CLASSES)
def test_mask_non_empty_exactly_for_planted_classes(label: str) -> None:
    for i in range(3):
        rgb, mask = render_patch(np.random.default_rng([i, 9]), label, 128)
        assert mask.shape == (128, 128) and mask.dtype == bool
        assert mask.any() == (label != "benign")
        # tissue-like: stained (not glass) on a large part of the patch
        assert (rgb.mean(axis=2) < 225).mean() > 0.3


def test_atypical_evidence_holds_darker_nuclei() -> None:
    rgb, mask = render_patch(np.random.default_rng(11), "atypical", 160)
    grey = rgb.mean(axis=2)
    assert np.percentile(grey[mask], 10) < np.percentile(grey[~mask], 10)


def test_write_patch_set_layout(tmp_path: Path) -> None:
    out = write_patch_set(tmp_path / "set", n_per_class=2, size_px=64, seed=5)
    for label in CLASSES:
        images = sorted((out / "images" / label).glob("*.png"))
        masks = sorted((out / "masks" / label).glob("*.png"))
        assert [p.name for p in images] == [p.name for p in masks]
        assert len(images) == 2
        img = np.asarray(Image.open(images[0]))
        m = np.asarray(Image.open(masks[0]))
        assert img.shape == (64, 64, 3) and m.shape == (64, 64)
        assert set(np.unique(m)) <= {0, 255}
    meta = json.loads((out / "synthetic.json").read_text())
    assert meta["software"] == "PathSCAAT synthetic" and meta["seed"] == 5


def test_synthetic_slide_is_a_pyramidal_tiff_with_mpp(tmp_path: Path) -> None:
    import tifffile

    from pathscaat.data.synthetic import write_synthetic_slide

    path, regions = write_synthetic_slide(tmp_path / "s.tif", width=2048, height=1536, seed=2)
    with tifffile.TiffFile(path) as tif:
        levels = tif.series[0].levels
        assert len(levels) >= 4
        assert levels[0].shape[:2] == (1536, 2048)
        page = tif.pages[0]
        assert isinstance(page, tifffile.TiffPage)
        assert page.is_tiled and page.compression == tifffile.COMPRESSION.JPEG
        assert page.tags["ResolutionUnit"].value == tifffile.RESUNIT.CENTIMETER
        num, den = page.tags["XResolution"].value
        assert abs(1e4 / (num / den) - 0.5) < 1e-3  # 0.5 µm/px
        assert "PathSCAAT synthetic" in page.tags["Software"].value
        assert "PathSCAAT synthetic" in page.description
        rgb = levels[0].asarray()
    from pathscaat.slides import open_slide

    with open_slide(path) as slide:  # the project's own reader sees the pyramid and mpp
        assert slide.level_count >= 4 and slide.dimensions == (2048, 1536)
        assert slide.mpp is not None and abs(slide.mpp.x - 0.5) < 1e-6
    meta = json.loads(regions.read_text())
    labels = {r["label"] for r in meta["regions"]}
    assert labels == {"atypical", "inflamed"}
    x, y, w, h = meta["regions"][0]["l0_bbox"]
    inside = rgb[y + h // 2 - 20 : y + h // 2 + 20, x + w // 2 - 20 : x + w // 2 + 20]
    assert inside.mean() < 220  # stained tissue at the planted region
    assert rgb[:8, :8].mean() > 235  # glass in a corner


def test_synthetic_slide_is_deterministic(tmp_path: Path) -> None:
    from pathscaat.data.synthetic import write_synthetic_slide

    records: list = []
    a, ra = write_synthetic_slide(
        tmp_path / "a.tif", width=1024, height=768, seed=4, on_progress=records.append
    )
    assert records and records[-1].done == records[-1].total  # the bar reaches its end
    b, rb = write_synthetic_slide(tmp_path / "b.tif", width=1024, height=768, seed=4)
    assert a.read_bytes() == b.read_bytes()
    assert json.loads(ra.read_text())["regions"] == json.loads(rb.read_text())["regions"]
