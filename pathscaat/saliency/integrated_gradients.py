"""Integrated Gradients through Captum (Sundararajan et al. 2017), memory-bounded."""

from __future__ import annotations

import torch
from captum.attr import IntegratedGradients as CaptumIG
from torch import Tensor, nn

from pathscaat.saliency.base import SaliencyMethod, register


@register
class IntegratedGradients(SaliencyMethod):
    """Path integral of gradients from a baseline to x.

    ``baseline`` is ``"black"`` (zeros) or ``"mean"`` (each image's mean colour, which
    on H&E is closer to "no evidence" than black). ``internal_batch_size`` bounds how
    many interpolated images go through the model at once.
    """

    name = "integrated_gradients"

    def __init__(
        self,
        n_steps: int = 32,
        baseline: str = "black",
        batch_size: int = 32,
        internal_batch_size: int = 64,
    ) -> None:
        super().__init__(batch_size)
        if baseline not in ("black", "mean"):
            raise ValueError("baseline must be 'black' or 'mean'")
        self.n_steps = n_steps
        self.baseline = baseline
        self.internal_batch_size = internal_batch_size

    def make_baseline(self, x: Tensor) -> Tensor:
        if self.baseline == "mean":
            return x.detach().mean(dim=(2, 3), keepdim=True).expand_as(x).contiguous()
        return torch.zeros_like(x)

    def _raw(self, model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        attr = CaptumIG(model).attribute(
            x,
            baselines=self.make_baseline(x),
            target=target,
            n_steps=self.n_steps,
            internal_batch_size=self.internal_batch_size,
        )
        return attr
