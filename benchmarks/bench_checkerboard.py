"""The stride checkerboard of vanilla-gradient maps: backbone, input size or training?

For each backbone (random weights unless a checkpoint is given) and input size, the
vanilla gradient of the predicted logit on real Kather 2016 tiles, and the share of each
map's spectral energy on the period-s lattice (s = 2, 4, 8, 16; white noise gives about
(s^2 - 1) / N^2), raw and after the 4x4 cell average. Trained checkpoints
(``--checkpoints``, e.g. cells of bench_frontier) are measured at their own input size.

    python benchmarks/bench_checkerboard.py                     # resnet10t vs others, 64/128 px
    python benchmarks/bench_checkerboard.py --checkpoints runs/*/last.json
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pathscaat.data.augment import Augment  # noqa: E402
from pathscaat.data.patch_folder import PatchFolder  # noqa: E402
from pathscaat.evaluation.report import markdown_table  # noqa: E402
from pathscaat.models import create_model, load_checkpoint  # noqa: E402
from pathscaat.saliency import get_method  # noqa: E402
from pathscaat.saliency.metrics import checkerboard_share, gini, stride_aggregate  # noqa: E402

SHARED = Path(os.environ.get("PATHSCAAT_SHARED_DATA", REPO.parent / "shared" / "data"))
KATHER = SHARED / "patches" / "kather2016-crc-texture"
BACKBONES = ("resnet10t", "resnet18", "convnext_atto", "efficientnet_b0", "vit_tiny_patch16_224")
STRIDES = (2, 4, 8, 16)


def tiles(n: int, px: int) -> torch.Tensor:
    """``n`` Kather tiles (classes taking turns), centre-cropped and resized to ``px``."""
    ds = PatchFolder(KATHER, transform=Augment(px, train=False))
    idx = np.linspace(0, len(ds) - 1, n).round().astype(int)
    return torch.stack([ds[int(i)]["image"] for i in idx])


def measure(model: torch.nn.Module, x: torch.Tensor) -> list[str]:
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(1)
    sal = get_method("vanilla").attribute(model, x, pred)
    shares = [float(checkerboard_share(sal, s).mean()) for s in STRIDES]
    cell = stride_aggregate(sal, 4)
    chance = [(s * s - 1) / (x.shape[-1] ** 2 - 1) for s in STRIDES]
    return (
        [f"{v:.3f} ({v / c:.0f}x)" for v, c in zip(shares, chance, strict=True)]
        + [f"{float(checkerboard_share(cell, 4).mean()):.3f}"]
        + [f"{float(gini(sal).mean()):.3f}", f"{float(gini(cell).mean()):.3f}"]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--backbones", nargs="+", default=list(BACKBONES))
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--checkpoints", type=Path, nargs="*", default=[])
    args = ap.parse_args(argv)
    if not KATHER.is_dir():
        print(f"needs {KATHER}", file=sys.stderr)
        return 1
    header = ["model", "px", *(f"lattice s={s} (× white)" for s in STRIDES)]
    header += ["s=4 after 4x4 cell", "Gini raw", "Gini cell"]
    rows = []
    for name in args.backbones:
        for px in args.sizes:
            torch.manual_seed(0)
            kwargs = {"img_size": px} if name.startswith("vit") else {}
            model = create_model(name, 8, **kwargs)
            rows.append([f"{name} (random)", str(px), *measure(model, tiles(args.images, px))])
            print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    for ckpt in args.checkpoints:
        model, meta = load_checkpoint(ckpt)
        x = tiles(args.images, meta.input_px)
        label = f"{meta.backbone} {meta.objective} ({ckpt.parent.name})"
        rows.append([label, str(meta.input_px), *measure(model, x)])
    print(markdown_table(header, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
