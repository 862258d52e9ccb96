"""Model-randomisation sanity check (Adebayo et al. 2018), cascading from the top layer.

A copy of the model has its parameterised layers re-initialised one after another from
the output side; after each checkpoint of that cascade the saliency of the copy is
compared with the trained model's by Spearman rank correlation. A map that barely
changes when the weights that produced the decision are destroyed explains the input
(edges, stain), not the model: the correlation must fall.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.stats import rankdata
from torch import Tensor, nn

from pathscaat.saliency.base import SaliencyMethod


def spearman(a: Tensor, b: Tensor) -> Tensor:
    """Spearman rank correlation per image (average ranks for ties), ``[B]``; NaN if constant."""
    ra = rankdata(a.detach().flatten(1).double().cpu().numpy(), axis=1)
    rb = rankdata(b.detach().flatten(1).double().cpu().numpy(), axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(denom > 0, (ra * rb).sum(axis=1) / denom, np.nan)
    return torch.from_numpy(rho).float()


def cascade_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules owning parameters, output side first (reverse definition order)."""
    owners = [
        (name, m) for name, m in model.named_modules() if any(True for _ in m.parameters(False))
    ]
    return owners[::-1]


def _randomise(module: nn.Module) -> None:
    reset = getattr(module, "reset_parameters", None)
    if callable(reset):
        reset()
        return
    with torch.no_grad():
        for p in module.parameters(recurse=False):
            p.normal_(0.0, 0.02)


@dataclass
class SanityResult:
    """Rank correlation per cascade checkpoint; ``final`` is after every layer is random."""

    layers: list[str] = field(default_factory=list)  # last layer randomised at each checkpoint
    n_randomised: list[int] = field(default_factory=list)
    rank_corr: list[Tensor] = field(default_factory=list)  # [B] per checkpoint

    @property
    def final(self) -> Tensor:
        return self.rank_corr[-1]


def cascading_randomisation(
    model: nn.Module,
    method: SaliencyMethod,
    x: Tensor,
    target: Tensor,
    reference: Tensor | None = None,
    n_checkpoints: int = 4,
    seed: int = 0,
) -> SanityResult:
    """Randomise layers top-first and correlate saliency at ``n_checkpoints`` evenly spaced
    points of the cascade (always the top layer alone and the whole model)."""
    ref = method.attribute(model, x, target) if reference is None else reference
    shadow = copy.deepcopy(model)
    layers = cascade_layers(shadow)
    if not layers:
        raise ValueError("the model has no parameters to randomise")
    stops = sorted({round(v) for v in np.linspace(1, len(layers), max(1, n_checkpoints))})
    result = SanityResult()
    done = 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for stop in stops:
            for _, module in layers[done:stop]:
                _randomise(module)
            done = stop
            sal = method.attribute(shadow, x, target)
            result.layers.append(layers[stop - 1][0])
            result.n_randomised.append(stop)
            result.rank_corr.append(spearman(ref, sal))
    return result
