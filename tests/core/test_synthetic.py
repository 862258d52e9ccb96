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
