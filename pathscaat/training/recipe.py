"""The fine-tuning recipe around the objective: the new head, parameter groups, probe, BN.

Pretrained backbones fail with a from-scratch recipe for reasons that are easy to name: a
reset head that keeps timm's 1000-class initialisation makes the first logits huge (CE 4.8
for 8 classes, and SCAAT's consistency term starts at 3.4 and fights the head); a low lr
starves the fresh head; a frozen backbone or BatchNorm in eval mode changes what a small
batch can learn. Each is a knob here, chosen by the sweep in docs/training.md.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from pathscaat.progress import PathscaatError

HEAD_INITS = ("auto", "zero", "small", "timm")
BN_MODES = ("train", "frozen")
#: std of the ``small`` head initialisation (logits start near zero, not exactly zero)
SMALL_HEAD_STD = 0.01


def head_module(backbone: nn.Module) -> nn.Module | None:
    """The classifier layer of a timm model (``get_classifier``), or None when it has none."""
    get = getattr(backbone, "get_classifier", None)
    head = get() if callable(get) else None
    return head if isinstance(head, nn.Module) else None


def head_parameter_names(model: nn.Module) -> set[str]:
    """Names (in ``model``'s namespace) of the parameters of the backbone's classifier."""
    backbone = getattr(model, "backbone", model)
    head = head_module(backbone)
    if head is None:
        return set()
    ids = {id(p) for p in head.parameters()}
    return {name for name, p in model.named_parameters() if id(p) in ids}


def init_head(model: nn.Module, mode: str) -> None:
    """Re-initialise the classifier: ``zero`` (logits start at 0: CE = log(classes) and no
    consistency term to fight), ``small`` (normal, std 0.01), ``timm`` (leave it)."""
    if mode not in HEAD_INITS or mode == "auto":
        raise PathscaatError(f"head_init must be one of zero, small, timm, got {mode!r}")
    if mode == "timm":
        return
    head = head_module(getattr(model, "backbone", model))
    if head is None:
        return
    with torch.no_grad():
        for name, p in head.named_parameters():
            if mode == "zero" or name.endswith("bias"):
                p.zero_()
            else:
                p.normal_(0.0, SMALL_HEAD_STD)


def resolve_head_init(mode: str, pretrained: bool) -> str:
    """``auto``: a zero head when fine-tuning pretrained weights, timm's own from scratch."""
    if mode not in HEAD_INITS:
        raise PathscaatError(f"head_init must be one of {', '.join(HEAD_INITS)}, got {mode!r}")
    if mode != "auto":
        return mode
    return "zero" if pretrained else "timm"


def _no_decay(name: str, p: nn.Parameter) -> bool:
    """Biases, norm scales and tokens: weight decay only pulls them off their meaning."""
    return p.ndim <= 1 or name.endswith(".bias") or "token" in name or "pos_embed" in name


def _layer_scales(model: nn.Module, layer_decay: float | None) -> dict[str, float]:
    """Per-parameter lr scale ``layer_decay ** (depth from the top)`` via timm's grouping."""
    if layer_decay is None or layer_decay >= 1.0:
        return {}
    from timm.optim import param_groups_layer_decay

    backbone = getattr(model, "backbone", model)
    prefix = "backbone." if backbone is not model else ""
    scales: dict[str, float] = {}
    ids = {id(p): n for n, p in backbone.named_parameters()}
    for group in param_groups_layer_decay(backbone, layer_decay=layer_decay):
        for p in group["params"]:
            scales[prefix + ids[id(p)]] = float(group.get("lr_scale", 1.0))
    return scales


def param_groups(
    model: nn.Module,
    weight_decay: float,
    head_lr_scale: float = 1.0,
    layer_decay: float | None = None,
) -> list[dict[str, Any]]:
    """AdamW groups: decay vs no-decay, the head's lr x ``head_lr_scale``, and (optionally)
    layer-wise lr decay of the backbone. Each group carries ``lr_scale`` for the schedule."""
    if head_lr_scale <= 0:
        raise PathscaatError(f"head_lr_scale must be positive, got {head_lr_scale}")
    heads = head_parameter_names(model)
    layers = _layer_scales(model, layer_decay)
    groups: dict[tuple[float, float, bool], dict[str, Any]] = {}
    for name, p in model.named_parameters():
        is_head = name in heads
        scale = head_lr_scale if is_head else layers.get(name, 1.0)
        decay = 0.0 if _no_decay(name, p) else weight_decay
        key = (scale, decay, is_head)
        group = groups.setdefault(
            key, {"params": [], "lr_scale": scale, "weight_decay": decay, "head": is_head}
        )
        group["params"].append(p)
    return list(groups.values())


def set_trainable(model: nn.Module, backbone_trainable: bool) -> None:
    """Freeze (linear probe) or unfreeze every parameter but the classifier's."""
    heads = head_parameter_names(model)
    for name, p in model.named_parameters():
        p.requires_grad_(backbone_trainable or name in heads)


def bn_eval(model: nn.Module) -> None:
    """Put every BatchNorm in eval mode: pretrained running statistics, no batch statistics."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()


def train_mode(model: nn.Module, bn: str, probing: bool, distributed: bool) -> None:
    """``model.train()`` for one epoch of the recipe: BN frozen when asked or while probing;
    the backbone frozen while probing (outside DDP, whose graph must not change, its lr
    scale is set to 0 instead by :func:`probe_lr_scale`)."""
    if bn not in BN_MODES:
        raise PathscaatError(f"bn must be one of {', '.join(BN_MODES)}, got {bn!r}")
    model.train()
    if bn == "frozen" or probing:
        bn_eval(model)
    if not distributed:
        set_trainable(model, not probing)


def probe_lr_scale(group: dict[str, Any], probing: bool) -> float:
    """The lr multiplier of ``group`` this step: 0 for the backbone while probing."""
    if probing and not group.get("head", False):
        return 0.0
    return float(group.get("lr_scale", 1.0))
