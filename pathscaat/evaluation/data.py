"""Images an evaluation runs on: a checkpoint's held-out split of a patch folder.

The checkpoint's ``meta.split`` names its test images (relative paths) when it was trained
on this folder; otherwise every image of the folder is used and the report says so.
Images are centre-cropped and resized to the model's input size exactly as validation
does, masks with nearest-neighbour.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from pathscaat.data.augment import Augment
from pathscaat.data.patch_folder import IMAGE_SUFFIXES, PatchFolder, resolve_roots
from pathscaat.data.split import Split
from pathscaat.progress import PathscaatError

log = logging.getLogger(__name__)


@dataclass
class EvalImages:
    """A batch held in memory: ``x`` Nx3xHxW in [0,1], labels, optional masks NxHxW."""

    x: Tensor
    labels: Tensor
    masks: Tensor | None
    paths: list[str]
    class_names: list[str]
    subset: str  # what these images are, for the report


def split_test_paths(split: dict[str, Any], available: set[str]) -> list[str] | None:
    """Test paths recorded in a checkpoint's split, if they exist in this folder."""
    test = split.get("test")
    if not isinstance(test, list):
        path = split.get("file") or split.get("path")
        if path and Path(path).is_file():
            test = Split.load(path).test
    if not isinstance(test, list) or not test:
        return None
    present = [p for p in test if p in available]
    return present if len(present) == len(test) else None


def balanced_sample(paths: Sequence[str], labels: Sequence[int], n: int, seed: int) -> list[str]:
    """Up to ``n`` paths, classes taking turns, so a small sample still covers every class."""
    by_class: dict[int, list[str]] = defaultdict(list)
    for p, y in zip(paths, labels, strict=True):
        by_class[y].append(p)
    rng = random.Random(seed)
    queues = []
    for y in sorted(by_class):
        q = sorted(by_class[y])
        rng.shuffle(q)
        queues.append(q)
    out: list[str] = []
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    return sorted(out)


def _image_count(folder: Path) -> int:
    return sum(1 for f in folder.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)


def check_classes(data_dir: str | Path, class_names: Sequence[str]) -> list[str]:
    """The model's classes that have no folder in ``data_dir`` (an error when none has one).

    A folder labelled in other words than the model's is the common case (``ADI`` against
    ``07_ADIPOSE``); the error lists both sets of names and shows how to map one onto the
    other with links, since only the user knows which folder means which class.
    """
    image_root, _ = resolve_roots(data_dir)
    folders = sorted(p.name for p in image_root.iterdir()
                     if p.is_dir() and not p.name.startswith("."))  # fmt: skip
    missing = [c for c in class_names if c not in folders]
    if len(missing) < len(class_names):
        return missing
    held = ", ".join(f"{name} ({_image_count(image_root / name)})" for name in folders)
    root = image_root.resolve()
    raise PathscaatError(
        f"{image_root}: no class folder is named like one of the model's classes, so there is "
        f"nothing to evaluate. The model's classes: {', '.join(class_names)}. The folder's "
        f"sub-folders (images): {held or 'none'}. Map yours onto the model's names with one "
        f"link per class, e.g. mkdir mapped && ln -s {root}/YOUR_FOLDER mapped/MODEL_CLASS, "
        "then pass --data mapped"
    )


def load_eval_images(
    data_dir: str | Path,
    class_names: Sequence[str],
    input_px: int,
    split: dict[str, Any] | None = None,
    max_images: int | None = None,
    seed: int = 0,
) -> EvalImages:
    """The held-out images of ``data_dir`` for a model with these classes and input size."""
    missing = check_classes(data_dir, class_names)
    if missing:
        log.warning(
            "%s has no folder for the model's classes %s; evaluating the others",
            data_dir,
            ", ".join(missing),
        )
    dataset = PatchFolder(data_dir, classes=list(class_names))
    label_of = {i.rel_path: i.label for i in dataset.items}
    test = split_test_paths(split or {}, set(label_of))
    subset = "test split of the checkpoint" if test is not None else "all images of the folder"
    paths = test if test is not None else sorted(label_of)
    if max_images is not None and len(paths) > max_images:
        paths = balanced_sample(paths, [label_of[p] for p in paths], max_images, seed)
        subset += f", {max_images} sampled with classes balanced"
    if missing:
        subset += f"; no images of the model's classes {', '.join(missing)}"
    if not paths:
        raise PathscaatError(f"no images of classes {list(class_names)} in {data_dir}")
    items = dataset.subset(paths, transform=Augment(input_px, train=False))
    rows = [items[i] for i in range(len(items))]
    masks = torch.stack([r["mask"][0] for r in rows]) if dataset.has_masks else None
    return EvalImages(
        x=torch.stack([r["image"] for r in rows]),
        labels=torch.tensor([r["label"] for r in rows], dtype=torch.long),
        masks=None if masks is None else masks > 0.5,
        paths=list(paths),
        class_names=list(class_names),
        subset=subset,
    )
