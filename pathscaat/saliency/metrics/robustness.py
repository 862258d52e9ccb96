"""Metrics a sparse-looking map cannot fake: gradient-input alignment and stability to noise.

- Alignment (Etmann et al., ICML 2019): ``|<x, g>| / (||x|| ||g||)`` per image, with ``g``
  the signed input gradient of the explained logit; robust models have gradients that look
  like the image, and a Gini gain that comes with no alignment gain is suspect.
- Stability: the same method's map on ``x + N(0, sigma^2)`` against the map on ``x``, as
  Spearman rank correlation (higher = stabler) and Quantus's ``MaxSensitivity``
  (max over draws of ``||a(x') - a(x)||_F / ||a(x)||_F``, lower = stabler).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from pathscaat.saliency.base import SaliencyMethod, eval_mode
from pathscaat.saliency.metrics.sanity import spearman


def input_gradient_alignment(
    model: nn.Module, x: Tensor, target: Tensor, batch_size: int = 64
) -> Tensor:
    """Etmann alignment ``|cos(x, d logit_target / d x)|`` per image, ``[B]`` in [0, 1]."""
    out = []
    with eval_mode(model):
        for lo in range(0, len(x), batch_size):
            xb = x[lo : lo + batch_size].detach().clone().requires_grad_(True)
            logit = model(xb).float().gather(1, target[lo : lo + batch_size].view(-1, 1)).sum()
            (g,) = torch.autograd.grad(logit, xb)
            g, xf = g.flatten(1).double(), xb.detach().flatten(1).double()
            cos = (g * xf).sum(1) / (g.norm(dim=1) * xf.norm(dim=1)).clamp_min(1e-30)
            out.append(cos.abs().float())
    return torch.cat(out)


@dataclass
class Stability:
    """Per image: mean Spearman to the clean map and Quantus-style max sensitivity."""

    rank_corr: Tensor
    max_sensitivity: Tensor


def noise_draws(x: Tensor, sigma: float, n: int, seed: int = 0) -> list[Tensor]:
    """``n`` Gaussian noise tensors shaped like ``x``, reproducible from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    return [(sigma * torch.randn(x.shape, generator=gen)).to(x.device, x.dtype) for _ in range(n)]


def saliency_stability(
    method: SaliencyMethod,
    model: nn.Module,
    x: Tensor,
    target: Tensor,
    reference: Tensor,
    noises: Sequence[Tensor],
) -> Stability:
    """Maps of ``x + noise`` (each draw, same targets) against ``reference`` = map of ``x``."""
    ref = reference.detach().flatten(1).double()
    corrs, sens = [], []
    for noise in noises:
        noisy = method.attribute(model, x + noise, target).detach()
        corrs.append(spearman(noisy, reference))
        diff = (noisy.flatten(1).double() - ref).norm(dim=1)
        sens.append((diff / ref.norm(dim=1).clamp_min(1e-30)).float().cpu())
    return Stability(
        rank_corr=torch.stack(corrs).nanmean(0), max_sensitivity=torch.stack(sens).amax(0)
    )
