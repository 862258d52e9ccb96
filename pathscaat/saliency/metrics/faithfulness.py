"""Faithfulness by perturbation: deletion / insertion curves (RISE) and masked accuracy.

Pixels are replaced in decreasing saliency order (or in a random order, the baseline
every saliency curve is read against). All curves share one engine: for fraction ``f``
the top ``round(f * H * W)`` ranked pixels (all channels) of ``start`` are replaced by
``end``. Deletion runs from the image to a fill (a blurred copy, as in RISE, or the
image's mean colour), insertion from the blurred image to the image. The default steps
are finer over the first 10% of pixels, where the curves are decided; the area is the
trapezoid over the fraction axis, which equals RISE's ``auc`` for uniform steps.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pathscaat.saliency.base import eval_mode

DELETION_FRACTIONS: tuple[float, ...] = tuple(
    [i / 100 for i in range(10)] + [round(0.1 + 0.05 * i, 4) for i in range(19)]
)
ACCURACY_FRACTIONS: tuple[float, ...] = tuple(i / 10 for i in range(10))  # p = 0..90%
TOPK_FRACTIONS: tuple[float, ...] = (0.01, 0.02, 0.05)  # top-k occlusion: 1, 2, 5% of pixels
FILLS = ("blur", "mean")


def blur(x: Tensor, sigma: float | None = None) -> Tensor:
    """Gaussian blur per channel; default sigma is RISE's 5 px at 224 px, scaled to x."""
    if sigma is None:
        sigma = max(1.0, 5.0 * min(x.shape[2:]) / 224)
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = (k / k.sum()).view(1, 1, -1)
    c = x.shape[1]
    pad = min(radius, x.shape[2] - 1, x.shape[3] - 1)
    y = F.pad(x, (pad, pad, pad, pad), mode="reflect") if pad > 0 else x
    y = F.conv2d(y, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c, padding=(0, radius - pad))
    return F.conv2d(y, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c, padding=(radius - pad, 0))


def mean_colour(x: Tensor) -> Tensor:
    """Each image replaced by its own mean colour (no texture, no stain-specific hue)."""
    return x.mean(dim=(2, 3), keepdim=True).expand_as(x).contiguous()


def make_fill(x: Tensor, fill: str) -> Tensor:
    if fill == "blur":
        return blur(x)
    if fill == "mean":
        return mean_colour(x)
    raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")


def saliency_ranks(saliency: Tensor, seed: int | None = 0) -> Tensor:
    """``[B, H, W] -> [B, H*W]`` rank of each pixel, 0 = most salient.

    Ties (the zeros of a ReLU'd Grad-CAM, a flat region) are broken in a seeded random
    order, not raster order, which would delete a contiguous band first.
    """
    flat = saliency.detach().flatten(1)
    if seed is None:
        order = torch.argsort(flat, dim=1, descending=True, stable=True)
    else:
        gen = torch.Generator().manual_seed(seed)
        perm = torch.randperm(flat.shape[1], generator=gen).to(flat.device)
        order = perm[torch.argsort(flat[:, perm], dim=1, descending=True, stable=True)]
    return torch.argsort(order, dim=1)


def random_ranks(b: int, n: int, seed: int = 0, device: torch.device | str = "cpu") -> Tensor:
    """A uniformly random pixel order per image, reproducible from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    return torch.argsort(torch.rand(b, n, generator=gen), dim=1).argsort(dim=1).to(device)


@torch.no_grad()
def perturbation_probs(
    model: nn.Module,
    start: Tensor,
    end: Tensor,
    ranks: Tensor,
    fractions: tuple[float, ...] | list[float],
    batch_size: int = 64,
) -> Tensor:
    """Softmax ``[S, B, K]`` after replacing the top-ranked ``fractions`` of ``start`` by ``end``.

    Steps and images are flattened into one queue so every forward is a full batch.
    """
    b, _, h, w = start.shape
    counts = torch.round(torch.tensor(fractions, dtype=torch.float64) * h * w).long()
    counts = counts.to(start.device)
    ranks = ranks.to(start.device)
    outs = []
    with eval_mode(model):
        for lo in range(0, len(fractions) * b, batch_size):
            idx = torch.arange(lo, min(lo + batch_size, len(fractions) * b), device=start.device)
            step, img = idx // b, idx % b
            keep = (ranks[img] >= counts[step, None]).view(-1, 1, h, w)
            outs.append(F.softmax(model(torch.where(keep, start[img], end[img])).float(), dim=1))
    return torch.cat(outs).view(len(fractions), b, -1)


def auc(curve: Tensor, fractions: tuple[float, ...] | list[float]) -> Tensor:
    """Trapezoid area of ``curve[S, B]`` over the fraction axis, per image ``[B]``."""
    xs = torch.tensor(fractions, dtype=curve.dtype, device=curve.device)
    return torch.trapezoid(curve, x=xs, dim=0)


def _pick(probs: Tensor, target: Tensor) -> Tensor:
    idx = target.to(probs.device).view(1, -1, 1).expand(probs.shape[0], -1, 1)
    return probs.gather(2, idx).squeeze(2)


def deletion_curve(
    model: nn.Module,
    x: Tensor,
    ranks: Tensor,
    target: Tensor,
    fill: str = "blur",
    fractions: tuple[float, ...] = DELETION_FRACTIONS,
    batch_size: int = 64,
) -> Tensor:
    """Probability of ``target`` (the predicted class) as top pixels are removed, ``[S, B]``."""
    probs = perturbation_probs(model, x, make_fill(x, fill), ranks, fractions, batch_size)
    return _pick(probs, target)


def insertion_curve(
    model: nn.Module,
    x: Tensor,
    ranks: Tensor,
    target: Tensor,
    fractions: tuple[float, ...] = DELETION_FRACTIONS,
    batch_size: int = 64,
) -> Tensor:
    """Probability of ``target`` as top pixels are put back into the blurred image, ``[S, B]``."""
    probs = perturbation_probs(model, blur(x), x, ranks, fractions, batch_size)
    return _pick(probs, target)


def masked_accuracy_curve(
    model: nn.Module,
    x: Tensor,
    ranks: Tensor,
    labels: Tensor,
    fill: str = "mean",
    fractions: tuple[float, ...] = ACCURACY_FRACTIONS,
    batch_size: int = 64,
) -> Tensor:
    """Correctness (0/1) per image after removing the top p% pixels, ``[S, B]`` (Ismail 2021)."""
    probs = perturbation_probs(model, x, make_fill(x, fill), ranks, fractions, batch_size)
    return (probs.argmax(dim=2) == labels.to(probs.device).view(1, -1)).float()


def normalised_area(curve: Tensor, fractions: tuple[float, ...] | list[float]) -> Tensor:
    """Area divided by the fraction span: the curve's mean level (0..1 for accuracy)."""
    return auc(curve, fractions) / (fractions[-1] - fractions[0])
