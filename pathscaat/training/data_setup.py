"""The data of a run: folder, slide-grouped split, its per-class counts, and the model scale.

The counts and any class a split lacks are reported before the first epoch (one ``split``
progress record, a logged warning per missing class), so a user sees at once that, say,
validation has no EMPTY tile, instead of reading 0 accuracy for it every epoch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from pathscaat.data.augment import Augment
from pathscaat.data.patch_folder import PatchFolder
from pathscaat.data.slide_id import SlideIdRule
from pathscaat.data.split import (
    SUBSETS,
    Split,
    class_counts,
    coverage_warnings,
    make_split,
    missing_classes,
)
from pathscaat.progress import OnProgress, ProgressRecord
from pathscaat.training import distributed as ddp
from pathscaat.training.config import TrainConfig
from pathscaat.training.scale import PatchScale, patch_scale

log = logging.getLogger(__name__)


@dataclass
class RunData:
    """Everything a run trains and validates on, and what the checkpoint says about it."""

    folder: PatchFolder
    split: Split
    train: PatchFolder
    val: PatchFolder
    img_px: int
    scale: PatchScale
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def split_record(self) -> dict[str, Any]:
        """The checkpoint's ``split`` entry (the file itself lies beside the checkpoint)."""
        return {
            "group_by": self.split.group_by,
            "seed": self.split.seed,
            "counts": self.split.counts(),
            "class_counts": self.counts,
            "missing": missing_classes(self.counts),
        }


def prepare_data(
    config: TrainConfig, img_px: int, dist: ddp.DistInfo, on_progress: OnProgress
) -> RunData:
    """Folder, split (a resumed run keeps its own) and scale; reports the split's counts."""
    folder = PatchFolder(config.data)
    rule = SlideIdRule.parse(config.slide_id)
    scale = patch_scale(folder.image_root, folder.items, config.mpp, img_px)
    prior = config.resume.parent / "split.json" if config.resume else None
    if prior is not None and prior.is_file():
        split = Split.load(prior)
    else:  # deterministic, so every rank computes the same one
        per_file = ([i.rel_path for i in folder.items], "file")
        split = make_split(
            folder.image_root, folder.items, config.val_fraction, config.test_fraction,
            config.seed, groups_by=None if config.split_by_group else per_file, slide_id=rule,
        )  # fmt: skip
    if dist.is_main:
        split.save(config.out / "split.json")
    data = RunData(
        folder, split,
        folder.subset(split.train, Augment(img_px, train=config.augment, min_crop=config.min_crop)),
        folder.subset(split.val, Augment(img_px, train=False)),
        img_px, scale,
        class_counts(split, folder.items, folder.classes),
        coverage_warnings(folder.image_root, split, folder.items, folder.classes, rule),
    )  # fmt: skip
    on_progress(split_progress(data))
    for warning in data.warnings:
        log.warning(warning)
    return data


def split_progress(data: RunData) -> ProgressRecord:
    """``split`` record: images per subset in the message, per-class counts in ``extra``."""
    sizes = data.split.counts()
    message = f"split by {data.split.group_by}: " + ", ".join(
        f"{name} {sizes[name]}" for name in SUBSETS
    )
    extra: dict[str, Any] = {
        "class_counts": data.counts,
        "missing": missing_classes(data.counts),
        "warnings": data.warnings,
    }
    if data.warnings:
        extra["warning"] = "; ".join(data.warnings)
    return ProgressRecord("split", 1, 1, message, extra)
