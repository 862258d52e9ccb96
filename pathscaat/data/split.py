"""Train/validation/test split by group (slide), never by tile, so the test does not leak.

The group of a tile is what a :class:`~pathscaat.data.slide_id.SlideIdRule` reads: by
default the ``slide`` column of a ``manifest.csv`` in the patch folder, else the Kather
2016 slide token ``CRC-Prim-HE-NN`` in its name; else the file itself (then the split is
stratified by class). A folder PathSCAAT wrote as a data view keeps the slides its
manifest was written with. The split is saved as JSON beside the run.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pathscaat.data.group_split import assign_groups
from pathscaat.data.patch_folder import PatchItem
from pathscaat.data.slide_id import AUTO, KATHER_TOKEN, SlideIdRule
from pathscaat.progress import PathscaatError

SLIDE_TOKEN = KATHER_TOKEN
VIEW_MARKER = ".pathscaat-view"  # pathscaat.data.source_view writes it
SUBSETS = ("train", "val", "test")


@dataclass
class Split:
    """Relative image paths per subset, and how they were grouped."""

    train: list[str]
    val: list[str]
    test: list[str]
    group_by: str
    seed: int
    n_groups: int

    def counts(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        os.replace(tmp, path)  # readers never see half a file
        return path

    @classmethod
    def load(cls, path: str | Path) -> Split:
        try:
            data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise PathscaatError(f"cannot read split file {path}: {exc}") from exc


def _manifest_slides(image_root: Path) -> dict[str, str] | None:
    manifest = image_root / "manifest.csv"
    if not manifest.is_file():
        return None
    with manifest.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "slide" not in rows[0] or "file" not in rows[0]:
        return None
    return {row["file"]: row["slide"] for row in rows}


def _manifest_rows(image_root: Path) -> dict[str, dict[str, str]]:
    manifest = image_root / "manifest.csv"
    if not manifest.is_file():
        return {}
    with manifest.open(newline="", encoding="utf-8") as fh:
        return {row["file"]: row for row in csv.DictReader(fh) if row.get("file")}


def item_groups(
    image_root: Path, items: Sequence[PatchItem], rule: SlideIdRule = AUTO
) -> tuple[list[str], str]:
    """The group of every item and the rule that gave it (``manifest``/``slide-token``/
    ``file``, or the kind of ``rule``: a tile it finds no slide in is a group of its own)."""
    if rule.kind != "auto" and not (image_root / VIEW_MARKER).is_file():
        rows = _manifest_rows(image_root)
        found = [rule.slide_of(i.rel_path, rows.get(i.rel_path)) for i in items]
        if not any(found):
            return [i.rel_path for i in items], "file"
        return [g or f"file:{i.rel_path}" for g, i in zip(found, items, strict=True)], rule.kind
    slides = _manifest_slides(image_root)
    if slides is not None and all(i.rel_path in slides for i in items):
        return [slides[i.rel_path] for i in items], "manifest"
    tokens = [SLIDE_TOKEN.search(Path(i.rel_path).name) for i in items]
    if items and all(tokens):
        return [t.group(0) for t in tokens if t], "slide-token"
    return [i.rel_path for i in items], "file"


def _cut(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Sizes of test and val out of ``n`` (train keeps at least one)."""
    n_test = min(round(n * test_fraction), max(n - 1, 0))
    n_val = min(round(n * val_fraction), max(n - 1 - n_test, 0))
    return n_test, n_val


def _split_by_class(
    items: Sequence[PatchItem], vf: float, tf: float, rng: random.Random
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    by_class: dict[int, list[str]] = defaultdict(list)
    for item in items:
        by_class[item.label].append(item.rel_path)
    for label in sorted(by_class):
        paths = by_class[label]
        rng.shuffle(paths)
        n_test, n_val = _cut(len(paths), vf, tf)
        out["test"] += paths[:n_test]
        out["val"] += paths[n_test : n_test + n_val]
        out["train"] += paths[n_test + n_val :]
    return out


def _split_by_group(
    items: Sequence[PatchItem], groups: Sequence[str], vf: float, tf: float, rng: random.Random
) -> dict[str, list[str]]:
    """Whole groups to subsets, every class in every subset where its groups allow."""
    names = sorted(set(groups))
    row = {name: i for i, name in enumerate(names)}
    labels = sorted({i.label for i in items})
    col = {label: j for j, label in enumerate(labels)}
    counts = np.zeros((len(names), len(labels)))
    for item, group in zip(items, groups, strict=True):
        counts[row[group], col[item.label]] += 1
    where = assign_groups(counts, (1.0 - vf - tf, vf, tf), rng)
    out: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for item, group in zip(items, groups, strict=True):
        out[SUBSETS[where[row[group]]]].append(item.rel_path)
    return out


def make_split(
    image_root: Path,
    items: Sequence[PatchItem],
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    groups_by: tuple[Sequence[str], str] | None = None,
    slide_id: SlideIdRule = AUTO,
) -> Split:
    """Split ``items`` by group; fractions count tiles, each group goes whole to one subset.

    ``groups_by`` (the group of each item, and the rule's name) replaces the groups found
    from ``image_root``; rule ``file`` splits per file, stratified by class.
    """
    if val_fraction < 0 or test_fraction < 0 or val_fraction + test_fraction >= 1:
        raise PathscaatError("val and test fractions must be >= 0 and leave some data to train on")
    groups, group_by = groups_by or item_groups(image_root, items, slide_id)
    rng = random.Random(seed)
    if group_by == "file":
        parts = _split_by_class(items, val_fraction, test_fraction, rng)
    else:
        parts = _split_by_group(items, groups, val_fraction, test_fraction, rng)
    return Split(
        train=sorted(parts["train"]),
        val=sorted(parts["val"]),
        test=sorted(parts["test"]),
        group_by=group_by,
        seed=seed,
        n_groups=len(set(groups)),
    )


def class_counts(
    split: Split, items: Sequence[PatchItem], classes: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Images of each class in each subset: ``{"train": {"ADI": 12, ...}, ...}``."""
    label_of = {i.rel_path: i.label for i in items}
    out: dict[str, dict[str, int]] = {}
    for name in SUBSETS:
        counts = dict.fromkeys(classes, 0)
        for path in getattr(split, name):
            counts[classes[label_of[path]]] += 1
        out[name] = counts
    return out


def missing_classes(counts: dict[str, dict[str, int]]) -> dict[str, list[str]]:
    """Classes with no image in each non-empty subset (empty lists left out)."""
    out = {}
    for name, per_class in counts.items():
        absent = [c for c, n in per_class.items() if n == 0]
        if absent and any(per_class.values()):
            out[name] = absent
    return out


def coverage_warnings(
    image_root: Path, split: Split, items: Sequence[PatchItem], classes: Sequence[str],
    slide_id: SlideIdRule = AUTO,
) -> list[str]:
    """One sentence per class a subset lacks, saying why and what to do."""
    groups, group_by = item_groups(image_root, items, slide_id)
    unit = "file" if group_by == "file" else "slide"
    of_class: dict[int, set[str]] = defaultdict(set)
    for item, group in zip(items, groups, strict=True):
        of_class[item.label].add(group)
    warnings = []
    for subset, absent in missing_classes(class_counts(split, items, classes)).items():
        for name in absent:
            sources = sorted(of_class[classes.index(name)])
            shown = ", ".join(sources[:4]) + (" ..." if len(sources) > 4 else "")
            warnings.append(
                f"class {name} has no image in the {subset} split: its images come from "
                f"{len(sources)} {unit}(s) ({shown}) and each {unit} goes whole to one split, "
                f"so {subset} metrics leave {name} out; add {name} images from more {unit}s"
            )
    return warnings


def preview_split(
    source: Any,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    by_group: bool = True,
) -> Any:
    """The split a run would make of ``source`` (a ``DataScan`` or a ``PatchFolder``):
    :class:`pathscaat.data.split_preview.SplitPreview`, counts per subset and class."""
    from pathscaat.data.split_preview import preview  # it imports the scan, which imports us

    return preview(source, val_fraction, test_fraction, seed, by_group)
