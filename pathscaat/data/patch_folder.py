"""Labelled patches in ImageFolder layout (``root/<class>/<image>``), with optional masks.

Masks follow the synthetic generator's layout: ``out/images/<class>/<name>.png`` beside
``out/masks/<class>/<name>.png``. Give either ``out`` or ``out/images``; the dataset then
returns each image's evidence mask too. Images are decoded to 8-bit RGB whatever they were
(greyscale, RGBA over white, palette), so one dataset serves every folder a user has.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from pathscaat.progress import PathscaatError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

Transform = Callable[[torch.Tensor, torch.Tensor | None], tuple[torch.Tensor, torch.Tensor | None]]


@dataclass(frozen=True)
class PatchItem:
    """One labelled image: path relative to the image root, class index, size in bytes."""

    rel_path: str
    label: int
    size: int


def resolve_roots(root: str | Path) -> tuple[Path, Path | None]:
    """Image root and mask root (None when there are no masks) of a patch folder."""
    root = Path(root)
    if not root.is_dir():
        raise PathscaatError(
            f"patch folder not found: {root}; give a folder with one sub-folder per class"
        )
    if (root / "images").is_dir() and (root / "masks").is_dir():
        return root / "images", root / "masks"
    if root.name == "images" and (root.parent / "masks").is_dir():
        return root, root.parent / "masks"
    return root, None


def scan_items(
    image_root: Path, classes: Sequence[str] | None = None
) -> tuple[list[str], list[PatchItem]]:
    """Class names (sorted folder names unless given) and every image under them, sorted."""
    if classes is None:
        classes = sorted(
            p.name for p in image_root.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
    items = []
    for label, name in enumerate(classes):
        folder = image_root / name
        files = sorted(folder.rglob("*")) if folder.is_dir() else []
        for f in files:
            if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file() and not f.name.startswith("."):
                items.append(
                    PatchItem(f.relative_to(image_root).as_posix(), label, f.stat().st_size)
                )
    if len(classes) < 2 or not items:
        raise PathscaatError(
            f"{image_root} holds {len(items)} images in {len(classes)} class folders; a patch "
            "folder needs at least two class sub-folders of .png/.jpg/.tif images"
        )
    return list(classes), items


def data_hash(items: Sequence[PatchItem]) -> str:
    """SHA-256 of the sorted relative paths and byte sizes: the data a model saw, cheaply."""
    digest = hashlib.sha256()
    for item in sorted(items, key=lambda i: i.rel_path):
        digest.update(f"{item.rel_path}\t{item.size}\n".encode())
    return digest.hexdigest()


def square_sides(image_root: Path, items: Sequence[PatchItem]) -> dict[int, list[str]]:
    """Images by the side of their centre square (what training resizes), headers only."""
    out: dict[int, list[str]] = {}
    for item in items:
        try:
            with Image.open(image_root / item.rel_path) as im:
                side = min(im.size)
        except (OSError, ValueError) as exc:
            raise PathscaatError(f"cannot read image {image_root / item.rel_path}: {exc}") from exc
        out.setdefault(side, []).append(item.rel_path)
    return dict(sorted(out.items()))


def read_rgb(path: Path) -> np.ndarray:
    """HxWx3 uint8 RGB from any 8-bit image (grey, RGBA over white, palette, CMYK)."""
    try:
        with Image.open(path) as im:
            if im.mode in ("RGBA", "LA", "P", "PA"):
                rgba = im.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im, dtype=np.float32)
                arr = (255 * arr / max(float(arr.max()), 1.0)).astype(np.uint8)
                return np.repeat(arr[..., None], 3, axis=2)
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError) as exc:
        raise PathscaatError(f"cannot read image {path}: {exc}") from exc


def read_mask(path: Path) -> np.ndarray:
    """HxW bool evidence mask (any non-zero grey value is evidence)."""
    with Image.open(path) as im:
        return np.asarray(im.convert("L")) > 0


class PatchFolder(Dataset[dict[str, Any]]):
    """Items are dicts: ``image`` 3xHxW float in [0,1], ``label``, ``index`` and, when the
    folder has masks, ``mask`` 1xHxW float in {0,1}. Picklable, so spawn workers work.
    """

    def __init__(
        self,
        root: str | Path,
        classes: Sequence[str] | None = None,
        transform: Transform | None = None,
        items: Sequence[PatchItem] | None = None,
    ) -> None:
        self.image_root, self.mask_root = resolve_roots(root)
        self.classes, all_items = scan_items(self.image_root, classes)
        self.items = list(all_items if items is None else items)
        self.transform = transform
        if self.mask_root is not None:
            missing = [i.rel_path for i in self.items if not self._mask_path(i).is_file()]
            if missing:
                raise PathscaatError(
                    f"{len(missing)} images have no mask in {self.mask_root} (first: "
                    f"{missing[0]}); remove the masks folder or add the missing masks"
                )

    @property
    def has_masks(self) -> bool:
        return self.mask_root is not None

    def _mask_path(self, item: PatchItem) -> Path:
        assert self.mask_root is not None
        exact = self.mask_root / item.rel_path
        return exact if exact.is_file() else exact.with_suffix(".png")

    def subset(self, rel_paths: Sequence[str], transform: Transform | None = None) -> PatchFolder:
        """A dataset over the named items only (same classes and roots)."""
        by_path = {i.rel_path: i for i in self.items}
        absent = [p for p in rel_paths if p not in by_path]
        if absent:
            raise PathscaatError(
                f"{len(absent)} files of the split are not in {self.image_root} (first: "
                f"{absent[0]}); the data changed since the split was made"
            )
        new = object.__new__(PatchFolder)
        new.__dict__.update(self.__dict__)
        new.items = [by_path[p] for p in rel_paths]
        new.transform = transform
        return new

    def labels(self) -> list[int]:
        return [i.label for i in self.items]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = self.items[index]
        image = torch.from_numpy(read_rgb(self.image_root / item.rel_path).copy())
        image = image.permute(2, 0, 1).float().div_(255.0)
        mask = None
        if self.mask_root is not None:
            mask = torch.from_numpy(read_mask(self._mask_path(item)).copy()).float()[None]
        if self.transform is not None:
            image, mask = self.transform(image, mask)
        out: dict[str, Any] = {"image": image, "label": item.label, "index": index}
        if mask is not None:
            out["mask"] = mask
        return out
