"""The saliency strip: a few fixed validation patches and their vanilla gradient, per epoch.

The wizard shows it while a run trains, so the user watches saliency sharpen. The patches
are picked once (round-robin over classes, in file order) and loaded once; each epoch costs
one batched forward and backward on them, after validation, on rank 0 only. Layout: the
patches on top, their saliency (per-patch 99th percentile scaled, inferno) below, a green
or red bar under each saying whether the model's prediction is right.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from matplotlib import colormaps
from PIL import Image
from torch import nn

from pathscaat.data.augment import Augment
from pathscaat.data.patch_folder import PatchFolder
from pathscaat.saliency import get_method

CELL_PX = 96  # each patch is drawn at least this large, however small the model input
BAR_PX = 4
GAP_PX = 2


def pick_indices(labels: list[int], count: int) -> list[int]:
    """Up to ``count`` indices, one class after another (first image of each class first)."""
    by_class: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        by_class.setdefault(label, []).append(index)
    queues = [by_class[k] for k in sorted(by_class)]
    picked: list[int] = []
    depth = 0
    while len(picked) < count and any(depth < len(q) for q in queues):
        picked += [q[depth] for q in queues if depth < len(q)][: count - len(picked)]
        depth += 1
    return picked


class SaliencyStrip:
    """Fixed patches of ``dataset`` (resized to ``img_px``) and the PNG writer for them."""

    def __init__(self, dataset: PatchFolder, img_px: int, count: int, out_dir: Path) -> None:
        view = dataset.subset([i.rel_path for i in dataset.items], Augment(img_px, train=False))
        picked = pick_indices(view.labels(), count)
        samples = [view[i] for i in picked]
        self.images = torch.stack([s["image"] for s in samples]) if samples else None
        self.labels = torch.tensor([s["label"] for s in samples], dtype=torch.long)
        self.class_names = [dataset.classes[int(k)] for k in self.labels]
        self.correct: list[bool] = []  # of the last strip written
        self.out_dir = Path(out_dir)

    def write(self, model: nn.Module, epoch: int, device: torch.device) -> Path | None:
        """``out_dir/epoch_NNN.png`` for 1-based ``epoch``; None when there are no patches."""
        if self.images is None:
            return None
        x, y = self.images.to(device), self.labels.to(device)
        saliency = get_method("vanilla").attribute(model, x, y).detach().float().cpu()
        with torch.no_grad():
            was = model.training
            model.eval()
            right = (model(x).argmax(1) == y).cpu()
            model.train(was)
        self.correct = [bool(v) for v in right]
        picture = render(self.images, saliency, right)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"epoch_{epoch:03d}.png"
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        Image.fromarray(picture).save(tmp, format="PNG")
        os.replace(tmp, path)  # the app never reads half a PNG
        return path


def _cell(t: torch.Tensor, px: int) -> np.ndarray:
    """HxWx3 uint8 at ``px`` x ``px`` (nearest, so pixels stay pixels)."""
    array = (t.clamp(0, 1) * 255).round().byte().numpy()
    image = Image.fromarray(array)
    return np.asarray(image.resize((px, px), Image.Resampling.NEAREST))


def heat(saliency: torch.Tensor) -> torch.Tensor:
    """HxWx3 in [0,1]: saliency over its 99th percentile through inferno."""
    top = float(torch.quantile(saliency.flatten(), 0.99))
    scaled = (saliency / top).clamp(0, 1) if top > 0 else torch.zeros_like(saliency)
    rgb = colormaps["inferno"](scaled.numpy())[..., :3]
    return torch.from_numpy(rgb).float()


def render(images: torch.Tensor, saliency: torch.Tensor, right: torch.Tensor) -> np.ndarray:
    """Patches (Bx3xHxW) over their saliency (BxHxW), a correctness bar under each."""
    px = max(CELL_PX, int(images.shape[-1]))
    n = int(images.shape[0])
    height = 2 * px + GAP_PX + BAR_PX
    canvas = np.full((height, n * px + (n - 1) * GAP_PX, 3), 255, dtype=np.uint8)
    for i in range(n):
        left = i * (px + GAP_PX)
        canvas[:px, left : left + px] = _cell(images[i].permute(1, 2, 0), px)
        canvas[px + GAP_PX : 2 * px + GAP_PX, left : left + px] = _cell(heat(saliency[i]), px)
        colour = (40, 160, 60) if bool(right[i]) else (200, 40, 40)
        canvas[2 * px + GAP_PX :, left : left + px] = colour
    return canvas
