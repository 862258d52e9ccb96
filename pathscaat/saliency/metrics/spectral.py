"""The checkerboard of strided backbones: how much of a map is the stride's grid.

The backward pass of a strided stem (resnet's stride-2 conv and stride-2 max-pool, a
ViT's patch embedding) stamps a regular grid on input-gradient maps. Its energy sits on
the *stride lattice* of the 2-D spectrum: frequencies ``(k N / s, l N / s)`` for a period
``s``, DC excluded. ``checkerboard_share`` is that lattice's share of the map's energy
(white noise: about ``(s^2 - 1) / (N^2 - 1)``; a pure period-``s`` grid: 1).

The remedy ``stride_aggregate`` averages the map over each ``s x s`` cell (the grid's
period) and repeats it back to full size: the grid is gone, the layout at the cell's
scale is kept. It is an honest display choice, not a new attribution: keep the raw map.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def lattice_mask(h: int, w: int, stride: int, device: torch.device | str = "cpu") -> Tensor:
    """Boolean ``[h, w]`` mask of the FFT bins on the period-``stride`` lattice, DC excluded."""

    def axis(n: int) -> Tensor:
        hit = torch.zeros(n, dtype=torch.bool, device=device)
        for k in range(stride):
            hit[round(k * n / stride) % n] = True
        return hit

    mask = axis(h)[:, None] & axis(w)[None, :]
    mask[0, 0] = False
    return mask


def checkerboard_share(saliency: Tensor, stride: int = 4) -> Tensor:
    """Share of each map's (mean-removed) spectral energy on the stride lattice, ``[B]``."""
    a = saliency.detach().double()
    a = a - a.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(a).abs() ** 2
    mask = lattice_mask(a.shape[-2], a.shape[-1], stride, a.device)
    total = power.flatten(1).sum(1).clamp_min(1e-30)
    return (power[:, mask].sum(1) / total).float()


def stride_aggregate(saliency: Tensor, stride: int = 4) -> Tensor:
    """Mean over each ``stride x stride`` cell, repeated back to the map's size (``[B, H, W]``).

    Edges that do not fill a cell are averaged over the part that exists.
    """
    if stride <= 1:
        return saliency
    h, w = saliency.shape[-2:]
    a = saliency.unsqueeze(1).float()
    pooled = F.avg_pool2d(a, stride, stride, ceil_mode=True, count_include_pad=False)
    up = pooled.repeat_interleave(stride, dim=2).repeat_interleave(stride, dim=3)
    return up[:, 0, :h, :w].to(saliency.dtype)
