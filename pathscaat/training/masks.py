"""Saliency guidance and the per-pixel attack budgets it sets (batched, no Python loops).

Every function maps a batch at once: B x H x W saliency in, B x 1 x H x W budget out, so
the attack broadcasts the budget over channels.
"""

from __future__ import annotations

import torch

from pathscaat.saliency.metrics.spectral import stride_aggregate


def normalise_saliency(grad: torch.Tensor) -> torch.Tensor:
    """``|grad|`` max over channels, min-max scaled to [0,1] per sample: B x H x W."""
    sal = grad.detach().abs().amax(dim=1)
    flat = sal.flatten(1)
    lo = flat.amin(dim=1).view(-1, 1, 1)
    hi = flat.amax(dim=1).view(-1, 1, 1)
    return (sal - lo) / (hi - lo).clamp_min(1e-12)


def cell_guidance(sal: torch.Tensor, cell_px: int) -> torch.Tensor:
    """Guidance averaged over ``cell_px`` cells, min-max rescaled to [0,1] per sample.

    A strided stem puts the raw gradient on a period-2 lattice; a budget set from the raw
    map protects the lattice and so trains the model further onto it. The cell average
    (the same one inference's ``--saliency-cell`` shows) keeps the placement, not the grid.
    """
    pooled = stride_aggregate(sal, cell_px)
    flat = pooled.flatten(1)
    lo = flat.amin(dim=1).view(-1, 1, 1)
    hi = flat.amax(dim=1).view(-1, 1, 1)
    return (pooled - lo) / (hi - lo).clamp_min(1e-12)


def soft_mask(sal: torch.Tensor, gamma: float) -> torch.Tensor:
    """Budget fraction ``(1 - s)**gamma``: salient pixels are almost untouchable."""
    return (1.0 - sal).clamp(0.0, 1.0).pow(gamma)


def adaptive_mask(sal: torch.Tensor, tau: float) -> torch.Tensor:
    """Largest set of lowest-saliency pixels holding at most ``tau`` of each sample's mass."""
    flat = sal.flatten(1)
    values, order = flat.sort(dim=1)
    mass = values.cumsum(dim=1)
    total = mass[:, -1:].clamp_min(1e-12)
    keep_sorted = (mass <= tau * total).to(sal.dtype)
    mask = torch.empty_like(flat).scatter_(1, order, keep_sorted)
    return mask.view_as(sal)


def fraction_mask(sal: torch.Tensor, k: float) -> torch.Tensor:
    """The lowest-saliency ``k`` fraction of each sample's pixels (saliency guided training)."""
    flat = sal.flatten(1)
    n_keep = round(k * flat.shape[1])
    order = flat.argsort(dim=1)
    keep_sorted = torch.zeros_like(flat)
    keep_sorted[:, :n_keep] = 1.0
    mask = torch.empty_like(flat).scatter_(1, order, keep_sorted)
    return mask.view_as(sal)


def signed_weight(sal: torch.Tensor, tau: float) -> torch.Tensor:
    """Signed budget weight ``tau - s`` in [-1, 1]: adversarial where ``s < tau``,
    anti-adversarial (a step that helps the model) on the salient pixels."""
    return tau - sal


def invert_placement(frac: torch.Tensor, sal: torch.Tensor) -> torch.Tensor:
    """The same budget values per sample, placed in reversed saliency order.

    The k-th least salient pixel gets the k-th smallest budget, so the most salient pixels
    get the largest: the inverted-guidance control with exactly the same budget values.
    """
    flat = frac.flatten(1)
    values = flat.sort(dim=1).values
    order = sal.flatten(1).argsort(dim=1)
    return torch.empty_like(flat).scatter_(1, order, values).view_as(frac)


def random_permute(mask: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The same mask values at random pixels, per sample: same area, no saliency placement."""
    flat = mask.flatten(1)
    noise = torch.rand(flat.shape, device=flat.device, generator=generator)
    perm = noise.argsort(dim=1)
    return flat.gather(1, perm).view_as(mask)


def budget_fraction(
    sal: torch.Tensor | None,
    mask: str,
    gamma: float,
    tau: float,
    k: float,
    random_like: str,
    invert: bool = False,
) -> torch.Tensor | None:
    """Per-pixel fraction of eps the adversary may use (B x 1 x H x W); None = everywhere.

    Negative values (``signed`` only) mean an anti-adversarial step of that size.
    """
    if mask == "none" or sal is None:
        return None
    kind = random_like if mask == "random" else mask
    if kind == "soft":
        frac = soft_mask(sal, gamma)
    elif kind == "adaptive":
        frac = adaptive_mask(sal, tau)
    elif kind == "signed":
        frac = signed_weight(sal, tau)
    else:
        frac = fraction_mask(sal, k)
    if invert:
        frac = invert_placement(frac, sal)
    if mask == "random":
        frac = random_permute(frac)
    return frac.unsqueeze(1)
