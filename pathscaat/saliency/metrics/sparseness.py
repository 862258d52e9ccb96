"""Sparseness (Gini index) and complexity (entropy) of saliency maps, batched.

Both follow Quantus exactly (``Sparseness``: Chalasani et al. 2020; ``Complexity``:
Bhatt et al. 2020), including its small constants, so our numbers can be quoted next to
papers that used Quantus.
"""

from __future__ import annotations

import torch
from torch import Tensor


def gini(saliency: Tensor) -> Tensor:
    """Gini index of |saliency| per image, ``[B, ...] -> [B]``; 1 = one pixel holds all.

    ``sum_i (2i - n - 1) a_(i) / (n sum_i a_i)`` over ascending-sorted ``a`` (+1e-7, as
    Quantus does, so an all-zero map scores 0 instead of NaN).
    """
    a = saliency.detach().abs().flatten(1).double() + 1e-7
    a, _ = torch.sort(a, dim=1)
    n = a.shape[1]
    i = torch.arange(1, n + 1, dtype=a.dtype, device=a.device)
    return (((2 * i - n - 1) * a).sum(dim=1) / (n * a.sum(dim=1))).float()


def entropy(saliency: Tensor) -> Tensor:
    """Shannon entropy (nats) of |saliency| normalised to sum 1 per image; lower = simpler."""
    a = saliency.detach().abs().flatten(1).double()
    p = a / a.sum(dim=1, keepdim=True).clamp_min(1e-30)
    return (-(p * torch.log(p + 1e-12)).sum(dim=1)).float()
