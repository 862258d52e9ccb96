"""Grad-CAM through Captum's LayerGradCam, target layer found for timm CNNs and ViTs.

CNNs: the last feature stage named in timm's ``feature_info`` (e.g. ``layer4`` of a
ResNet, ``stages.3`` of a ConvNeXt), else the last ``Conv2d``. ViTs: the last block's
``norm1``; its patch tokens are reshaped to a ``[B, D, h, w]`` grid (prefix/class tokens
dropped) by a temporary forward hook, so Captum sees an ordinary feature map.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from captum.attr import LayerGradCam
from torch import Tensor, nn

from pathscaat.saliency.base import SaliencyMethod, register


def _is_vit(module: nn.Module) -> bool:
    return hasattr(module, "blocks") and hasattr(module, "num_prefix_tokens")


def find_target_layer(model: nn.Module) -> tuple[nn.Module, int | None]:
    """(layer, number of prefix tokens) for ViTs, (layer, None) for CNNs."""
    for module in model.modules():
        if _is_vit(module):
            block: Any = module.blocks[-1]  # type: ignore[index]
            return block.norm1, int(module.num_prefix_tokens)  # type: ignore[arg-type]
        info = getattr(module, "feature_info", None)
        last = info[-1] if isinstance(info, list) and info else None
        if isinstance(last, dict) and last.get("module"):
            return module.get_submodule(last["module"]), None
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("no convolution or ViT block found; pass layer= to gradcam")
    return convs[-1], None


class _ToGrid(nn.Module):
    """Patch tokens ``[B, N, D]`` -> feature map ``[B, D, h, w]``: the layer Captum hooks."""

    def __init__(self) -> None:
        super().__init__()
        self.hw: tuple[int, int] = (0, 0)

    def forward(self, tokens: Tensor) -> Tensor:
        h, w = self.hw
        return tokens.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], h, w)


def _grid_hw(n_tokens: int, x: Tensor, model: nn.Module) -> tuple[int, int]:
    for module in model.modules():
        patch = getattr(getattr(module, "patch_embed", None), "patch_size", None)
        if patch is not None:
            h = x.shape[2] // int(patch[0])
            if h > 0 and n_tokens % h == 0:
                return h, n_tokens // h
    side = math.isqrt(n_tokens)
    if side * side != n_tokens:
        raise ValueError(f"cannot lay {n_tokens} tokens out on a grid")
    return side, side


@contextmanager
def _token_grid(model: nn.Module, norm: nn.Module, n_prefix: int, x: Tensor) -> Iterator[_ToGrid]:
    """Route ``norm``'s patch tokens through a ``_ToGrid`` and back, for one call."""
    to_grid = _ToGrid()

    def hook(_: nn.Module, __: Any, out: Tensor) -> Tensor:
        prefix, patches = out[:, :n_prefix], out[:, n_prefix:]
        to_grid.hw = _grid_hw(patches.shape[1], x, model)
        grid = to_grid(patches)
        return torch.cat([prefix, grid.flatten(2).transpose(1, 2)], dim=1)

    handle = norm.register_forward_hook(hook)
    try:
        yield to_grid
    finally:
        handle.remove()


@register
class GradCam(SaliencyMethod):
    """ReLU(sum_c mean(d y / d A_c) * A_c) at the target layer, bilinearly upsampled to x."""

    name = "gradcam"

    def __init__(self, batch_size: int = 32, layer: nn.Module | None = None) -> None:
        super().__init__(batch_size)
        self.layer = layer

    def _raw(self, model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        layer, n_prefix = (self.layer, None) if self.layer is not None else find_target_layer(model)
        if n_prefix is None:
            cam = self._cam(model, layer, x, target)
        else:
            with _token_grid(model, layer, n_prefix, x) as to_grid:
                cam = self._cam(model, to_grid, x, target)
        return F.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)

    @staticmethod
    def _cam(model: nn.Module, layer: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        cam = LayerGradCam(model, layer).attribute(x, target=target, relu_attributions=True)
        assert isinstance(cam, Tensor)
        return cam
