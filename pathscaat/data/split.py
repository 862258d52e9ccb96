"""Train/validation/test split by group (slide), never by tile, so the test does not leak.

The group of a tile is, in order: the ``slide`` column of a ``manifest.csv`` in the patch
folder; the Kather 2016 slide token ``CRC-Prim-HE-NN`` in its name; else the file itself
(then the split is stratified by class). The split is saved as JSON beside the run.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pathscaat.data.patch_folder import PatchItem
from pathscaat.progress import PathscaatError

SLIDE_TOKEN = re.compile(r"CRC-Prim-HE-\d+")


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


def item_groups(image_root: Path, items: Sequence[PatchItem]) -> tuple[list[str], str]:
    """The group of every item and the rule that gave it (``manifest``/``slide-token``/``file``)."""
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
    members: dict[str, list[str]] = defaultdict(list)
    for item, group in zip(items, groups, strict=True):
        members[group].append(item.rel_path)
    names = sorted(members)
    rng.shuffle(names)
    n_test, n_val = _cut(len(items), vf, tf)
    out: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    budget = {"test": n_test, "val": n_val}
    left = len(names)
    for name in names:
        left -= 1
        target = next((s for s in ("test", "val") if len(out[s]) < budget[s]), "train")
        if target != "train" and left == 0 and not out["train"]:
            target = "train"  # train keeps at least one group
        out[target] += members[name]
    return out


def make_split(
    image_root: Path,
    items: Sequence[PatchItem],
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
) -> Split:
    """Split ``items`` by group; fractions count tiles, each group goes whole to one subset."""
    if val_fraction < 0 or test_fraction < 0 or val_fraction + test_fraction >= 1:
        raise PathscaatError("val and test fractions must be >= 0 and leave some data to train on")
    groups, group_by = item_groups(image_root, items)
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
