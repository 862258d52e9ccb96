"""The fragile-evidence synthetic set: low-contrast evidence in the mask, a distractor that
agrees with the label 70-80% of the time outside it."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from pathscaat.data.patch_folder import PatchFolder
from pathscaat.data.synthetic_fragile import (
    FRAGILE_CLASSES,
    render_fragile_patch,
    write_fragile_set,
)


@pytest.mark.parametrize("label", FRAGILE_CLASSES)
def test_evidence_is_a_few_255_inside_the_mask_only(label) -> None:
    contrast = 4 / 255
    with_tex, mask = render_fragile_patch(np.random.default_rng(3), label, 48, True, contrast)
    flat, mask0 = render_fragile_patch(np.random.default_rng(3), label, 48, True, 0.0)
    assert np.array_equal(mask, mask0) and 0.05 < mask.mean() < 0.6
    diff = with_tex.astype(int) - flat.astype(int)
    assert np.all(diff[~mask] == 0)  # nothing outside the evidence
    inside = np.abs(diff[mask])
    assert inside.max() <= 5 and inside.mean() >= 3  # +-4/255, up to rounding and clipping
    # the block size is the class: a sign change every 2 px (fine) or every 4 px (coarse)
    tex = diff[..., 0] * mask
    pairs = mask[:, 1:] & mask[:, :-1]
    flips = (np.sign(tex[:, 1:]) != np.sign(tex[:, :-1]))[pairs].mean()
    assert 0.4 < flips < 0.6 if label == "fine" else 0.15 < flips < 0.32  # 2 px vs 4 px blocks


def test_distractor_hue_and_agreement(tmp_path) -> None:
    out = write_fragile_set(tmp_path / "frag", n_per_class=8, size_px=32, seed=1)
    meta = json.loads((out / "synthetic.json").read_text())
    assert meta["variant"] == "fragile" and "synthetic" in meta["note"]
    with open(out / "distractor.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for label in FRAGILE_CLASSES:
        agree = [int(r["agrees"]) for r in rows if r["image"].startswith(label)]
        assert len(agree) == 8 and 0.7 <= np.mean(agree) <= 0.8
    ds = PatchFolder(out)
    assert ds.classes == sorted(FRAGILE_CLASSES) and ds.has_masks and len(ds) == 16
    # the hue outside the mask says "fine" (pinker) when it agrees, "coarse" otherwise
    a, m = render_fragile_patch(np.random.default_rng(5), "fine", 32, True)
    b, _ = render_fragile_patch(np.random.default_rng(5), "fine", 32, False)
    shift = a.astype(int)[~m].mean(0) - b.astype(int)[~m].mean(0)
    assert shift[0] > 20 and shift[2] < 0  # red up, blue down: robust, >> eps
