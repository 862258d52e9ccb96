"""Localisation against evidence masks: relevance mass accuracy and the pointing game.

Definitions as in Quantus (``RelevanceMassAccuracy``, Arras et al. 2022;
``PointingGame``, Zhang et al. 2018): an image with an empty mask gives NaN, so it is left
out of means (``nanmean``) rather than counted as a miss.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _flat(saliency: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    if saliency.shape != mask.shape:
        raise ValueError(f"saliency {tuple(saliency.shape)} and mask {tuple(mask.shape)} differ")
    return saliency.detach().abs().flatten(1).double(), mask.detach().flatten(1).bool()


def relevance_mass(saliency: Tensor, mask: Tensor) -> Tensor:
    """Fraction of |saliency| mass inside the mask, ``[B]``; chance is the mask's area."""
    a, m = _flat(saliency, mask)
    total = a.sum(dim=1)
    inside = (a * m).sum(dim=1)
    out = torch.where(total > 0, inside / total.clamp_min(1e-30), torch.zeros_like(total))
    out[m.sum(dim=1) == 0] = float("nan")
    return out.float()


def pointing_game(saliency: Tensor, mask: Tensor) -> Tensor:
    """1.0 where a maximum of |saliency| lies inside the mask (any of tied maxima), else 0."""
    a, m = _flat(saliency, mask)
    at_max = a == a.amax(dim=1, keepdim=True)
    hit = (at_max & m).any(dim=1).double()
    hit[m.sum(dim=1) == 0] = float("nan")
    return hit.float()
