"""What a run's split will hold, before it runs: counts per subset and class, and warnings.

The preview makes the very split the trainer makes (same items in the same order, same
groups, same seed), so the table the wizard shows is the one the run trains on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pathscaat.data.patch_folder import PatchFolder, PatchItem, resolve_roots
from pathscaat.data.slide_id import AUTO, SlideIdRule
from pathscaat.data.source_view import scan_items, view_groups
from pathscaat.data.sources import DataScan
from pathscaat.data.split import (
    SUBSETS,
    Split,
    class_counts,
    item_groups,
    make_split,
    missing_classes,
)

UNIT = {"manifest": "slide", "slide-token": "slide", "file": "file"}  # else "slide"


@dataclass
class SplitPreview:
    """Images per subset and class, how they were grouped, and what to look out for."""

    counts: dict[str, dict[str, int]]
    group_by: str
    n_groups: int
    warnings: list[str] = field(default_factory=list)
    split: Split | None = None

    @property
    def sizes(self) -> dict[str, int]:
        return {name: sum(self.counts[name].values()) for name in SUBSETS}


def _inputs(
    source: DataScan | PatchFolder, by_group: bool, slide_id: SlideIdRule
) -> tuple[list[PatchItem], list[str], tuple[Sequence[str], str]]:
    if isinstance(source, PatchFolder):
        items, classes = list(source.items), list(source.classes)
        groups = item_groups(source.image_root, items, slide_id)
    else:
        items, classes = scan_items(source), list(source.class_names)
        if source.direct_root is not None:  # as the trainer will group it, by the scan's rule
            root = resolve_roots(source.direct_root)[0]
            groups = item_groups(root, items, source.slide_id)
        else:
            found = view_groups(source.items)
            groups = found or ([i.rel_path for i in items], "file")
    if not by_group:
        groups = ([i.rel_path for i in items], "file")
    return items, classes, groups


def preview(
    source: DataScan | PatchFolder,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    by_group: bool,
    slide_id: SlideIdRule = AUTO,
) -> SplitPreview:
    """The split of ``source`` and its warnings (leakage, a class missing from a subset).

    A scan's slides are those its rule read (``regroup``); ``slide_id`` is the rule for a
    ``PatchFolder``."""
    items, classes, groups = _inputs(source, by_group, slide_id)
    # groups are given, so make_split never reads a folder
    split = make_split(Path("."), items, val_fraction, test_fraction, seed, groups_by=groups)
    counts = class_counts(split, items, classes)
    warnings = []
    if split.group_by == "file":
        warnings.append(
            "split per file: no slide ids were found (or splitting by slide is off), so "
            "tiles of one slide can be in both train and test and the test score leaks"
        )
    unit = UNIT.get(split.group_by, "slide")
    for subset, absent in missing_classes(counts).items():
        warnings.append(
            f"the {subset} split has no {', '.join(absent)} tiles: too few {unit}s hold "
            f"them; add data from more {unit}s or change the fractions"
        )
    return SplitPreview(counts, split.group_by, split.n_groups, warnings, split)
