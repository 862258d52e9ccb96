"""Plain gradient methods: the vanilla gradient SCAAT trains, and input x gradient."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from pathscaat.saliency.base import SaliencyMethod, register


def target_logit_gradient(model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
    """d logit[target] / d x per sample; one forward and one backward for the whole batch.

    Summing the selected logits is exact per sample because samples do not interact in
    eval mode.
    """
    logits = model(x)
    selected = logits.gather(1, target.view(-1, 1)).sum()
    (grad,) = torch.autograd.grad(selected, x)
    return grad


@register
class VanillaGradient(SaliencyMethod):
    """|d f(x)[y] / d x|, max over channels (Simonyan et al. 2014)."""

    name = "vanilla"

    def _raw(self, model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        return target_logit_gradient(model, x, target)


@register
class InputXGradient(SaliencyMethod):
    """x * d f(x)[y] / d x (Shrikumar et al. 2016): gradient weighted by the pixel value."""

    name = "input_x_gradient"

    def _raw(self, model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        return x.detach() * target_logit_gradient(model, x, target)
