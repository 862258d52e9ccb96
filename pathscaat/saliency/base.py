"""Template for attribution methods (pytorch-grad-cam ``BaseCAM`` style).

The base class does what every method shares: batching in chunks, eval mode, a fresh
leaf copy of the input (so inference tensors and callers' ``no_grad`` do not break
autograd), and the reduction to one non-negative map per image. A method only supplies
``_raw``: signed attributions ``[b, C, h, w]`` for one chunk. Gradients are always taken
with ``torch.autograd.grad`` (directly or inside Captum), so model parameters' ``.grad``
is never touched.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from pathscaat.progress import PathscaatError

_REGISTRY: dict[str, type[SaliencyMethod]] = {}
_ORDER = ("vanilla", "input_x_gradient", "smoothgrad", "integrated_gradients", "gradcam")


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put every submodule in eval mode and restore each one's own flag afterwards."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, flag in flags:
            m.training = flag


class SaliencyMethod(ABC):
    """One attribution method; ``attribute`` returns ``Tensor[B, H, W] >= 0`` (not normalised)."""

    name: ClassVar[str] = ""

    def __init__(self, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = batch_size

    def attribute(self, model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        """|attribution| reduced over channels by max: the map SCAAT trains and we show."""
        return self.attribute_raw(model, x, target).abs().amax(dim=1)

    def attribute_raw(self, model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        """Signed attributions ``[B, C, H, W]`` (C = 1 for class-activation methods)."""
        if x.ndim != 4:
            raise ValueError(f"x must be Bx3xHxW, got shape {tuple(x.shape)}")
        target = torch.as_tensor(target, device=x.device).long().reshape(-1)
        if target.numel() == 1 and x.shape[0] > 1:
            target = target.expand(x.shape[0])
        if target.shape[0] != x.shape[0]:
            raise ValueError(f"{target.shape[0]} targets for {x.shape[0]} images")
        outs = []
        with eval_mode(model), torch.inference_mode(False), torch.enable_grad():
            for start in range(0, x.shape[0], self.batch_size):
                xc = x[start : start + self.batch_size].detach().clone().requires_grad_(True)
                tc = target[start : start + self.batch_size].clone()
                outs.append(self._raw(model, xc, tc).detach())
        return torch.cat(outs, dim=0)

    @abstractmethod
    def _raw(self, model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        """Signed attributions for one chunk; ``x`` is a leaf that requires grad."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__dict__})"


def register(cls: type[SaliencyMethod]) -> type[SaliencyMethod]:
    """Class decorator: make a method available to ``get_method`` under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def list_methods() -> list[str]:
    """Names accepted by ``get_method``: the training-time gradient first."""
    rank = {name: i for i, name in enumerate(_ORDER)}
    return sorted(_REGISTRY, key=lambda name: rank.get(name, len(rank)))


def get_method(name: str, **kw: Any) -> SaliencyMethod:
    """Create the method registered as ``name`` with its keyword settings."""
    try:
        cls = _REGISTRY[name]
    except KeyError:
        known = ", ".join(_REGISTRY)
        raise PathscaatError(f"unknown saliency method {name!r}; choose one of: {known}") from None
    return cls(**kw)
