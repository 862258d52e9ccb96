"""timm backbone factory: RGB in [0,1] in, logits out, normalisation as the first layer.

Putting mean/std inside the model keeps saliency maps, attack budgets (eps) and masks in
pixel units, and makes a checkpoint self-describing. Weights come from local files only
(the app runs offline); a file that does not fit the backbone is a user error that names
the keys at fault.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import timm
import timm.data
import torch
from torch import nn

from pathscaat.progress import PathscaatError

#: Backbones offered by the wizard (any timm name works from the CLI).
CURATED_BACKBONES: tuple[str, ...] = (
    "resnet18",
    "resnet50",
    "efficientnet_b0",
    "convnext_tiny",
    "vit_small_patch16_224",
    "resnet10t",
)

DEFAULT_MEAN = (0.485, 0.456, 0.406)
DEFAULT_STD = (0.229, 0.224, 0.225)


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel; buffers, so they travel with the state dict."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class PathscaatModel(nn.Module):
    """A timm backbone behind its own ``Normalize``: ``forward`` takes RGB in [0,1].

    ``backbone`` is the bare timm model (Grad-CAM and friends find its layers there).
    """

    def __init__(self, backbone: nn.Module, backbone_name: str, num_classes: int) -> None:
        super().__init__()
        cfg = timm.data.resolve_model_data_config(backbone)
        self.normalize = Normalize(cfg.get("mean", DEFAULT_MEAN), cfg.get("std", DEFAULT_STD))
        self.backbone = backbone
        self.backbone_name = backbone_name
        self.num_classes = num_classes
        self.input_px = int(cfg["input_size"][-1])

    @property
    def mean(self) -> tuple[float, ...]:
        return tuple(float(v) for v in self.normalize.mean.flatten())

    @property
    def std(self) -> tuple[float, ...]:
        return tuple(float(v) for v in self.normalize.std.flatten())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.backbone(self.normalize(x))
        return out


def _timm_create(backbone: str, num_classes: int, timm_kwargs: dict[str, Any]) -> nn.Module:
    if not timm.is_model(backbone):
        raise PathscaatError(
            f"unknown backbone {backbone!r}: give a timm model name, e.g. one of "
            f"{', '.join(CURATED_BACKBONES)} (see timm.list_models())"
        )
    from pathscaat.models.weight_layouts import resolve_layer_args

    kwargs = resolve_layer_args(timm_kwargs)
    try:
        return timm.create_model(backbone, pretrained=False, num_classes=num_classes, **kwargs)
    except TypeError as exc:
        # Only ViT-like models take img_size; CNNs work at any size without it.
        if "img_size" in kwargs and "img_size" in str(exc):
            kwargs.pop("img_size")
            return timm.create_model(backbone, pretrained=False, num_classes=num_classes, **kwargs)
        raise


def read_weights_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` or ``.pth``/``.pt``/``.bin`` file, never unpickling code."""
    path = Path(path)
    if not path.is_file():
        raise PathscaatError(f"weights file not found: {path}; give a .safetensors or .pth file")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state: Any = load_file(str(path), device="cpu")
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # safetensors, pickle and zip errors have no common base
        first = (str(exc).strip().splitlines() or [""])[0].split(". ")[0][:160]
        raise PathscaatError(
            f"cannot read weights from {path}: {type(exc).__name__}: {first}. "
            "Is it a .safetensors or PyTorch state-dict file? (Files that hold code, not "
            "only tensors, are refused.)"
        ) from exc
    for key in ("state_dict", "model", "model_state_dict", "state_dict_ema"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise PathscaatError(f"{path} holds no state dict of tensors; it is not a weights file")
    return dict(state)


#: Prefixes that wrappers put before a bare model's keys: DDP/DataParallel (``module.``),
#: Lightning and many training scripts (``model.``), and our own checkpoints (``backbone.``,
#: beside their ``normalize.`` buffers).
WRAPPER_PREFIXES = ("module.", "model.", "backbone.")


def strip_wrapper_prefixes(
    state: dict[str, torch.Tensor], own_keys: Sequence[str]
) -> dict[str, torch.Tensor]:
    """``state`` without the wrapper prefixes that every key carries (or that, removed, make
    more keys match ``own_keys``), outermost first.

    A PathSCAAT checkpoint's ``normalize.*`` buffers go too: the new model has its own.
    """
    own = set(own_keys)
    while True:
        matched = len(own.intersection(state))
        kept = {k: v for k, v in state.items() if not k.startswith("normalize.")}
        for prefix in WRAPPER_PREFIXES:
            stripped = {k.removeprefix(prefix): v for k, v in kept.items()}
            everywhere = bool(kept) and all(k.startswith(prefix) for k in kept)
            everywhere = everywhere and not any(k.startswith(prefix) for k in own)
            if everywhere or len(own.intersection(stripped)) > matched:
                state = stripped
                break
        else:
            return state


def _short(keys: Sequence[str], n: int = 8) -> str:
    more = f" and {len(keys) - n} more" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


def load_backbone_weights(model: nn.Module, path: str | Path) -> tuple[list[str], list[str]]:
    """Load a local weights file into a bare timm model; reset the head if classes differ.

    Returns the keys loaded and the head keys left fresh (for the wizard's weights check).
    """
    return load_state_into(model, read_weights_file(path), str(path))


def load_state_into(
    model: nn.Module, state: dict[str, torch.Tensor], source: str
) -> tuple[list[str], list[str]]:
    """Load ``state`` (wrapper prefixes allowed) into a bare timm model, as
    :func:`load_backbone_weights` does; ``source`` names it in errors."""
    state = strip_wrapper_prefixes(state, list(model.state_dict()))
    filter_fn = getattr(sys.modules.get(type(model).__module__), "checkpoint_filter_fn", None)
    if filter_fn is not None:
        # converts original (non-timm) layouts and resamples a ViT's position embedding
        with contextlib.suppress(Exception):
            state = filter_fn(state, model)
    own = model.state_dict()
    head = getattr(model, "pretrained_cfg", {}).get("classifier") or ()
    heads = (head,) if isinstance(head, str) else tuple(head)
    is_head = [k for k in own if any(k == h or k.startswith(h + ".") for h in heads)]
    mismatched = [k for k in own if k in state and state[k].shape != own[k].shape]
    wrong = [k for k in mismatched if k not in is_head]
    if wrong:
        detail = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in wrong]
        raise PathscaatError(
            f"{source} does not fit {type(model).__name__}: mismatching shapes for "
            f"{_short(detail)}. Pick the backbone these weights were made for."
        )
    for k in mismatched:  # class count differs: keep the fresh head
        del state[k]
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if k not in is_head]
    unexpected = list(result.unexpected_keys)
    if missing or unexpected:
        raise PathscaatError(
            f"{source} does not fit {type(model).__name__}: missing keys "
            f"[{_short(missing)}], unexpected keys [{_short(unexpected)}]. "
            "Pick the backbone these weights were made for."
        )
    fresh = sorted(set(mismatched) | {k for k in result.missing_keys if k in is_head})
    return sorted(set(state) & set(own)), fresh


def create_model(
    backbone: str,
    num_classes: int,
    pretrained_file: str | Path | None = None,
    **timm_kwargs: Any,
) -> PathscaatModel:
    """A classifier over RGB in [0,1]: ``Normalize`` (backbone's mean/std) then the timm model.

    ``pretrained_file`` is a local ``.safetensors``/``.pth`` in timm's layout, or one whose
    keys carry a ``module.``/``model.``/``backbone.`` prefix (DDP, Lightning, our own
    checkpoints); its head is dropped when the class count differs. Extra keyword arguments go to
    ``timm.create_model`` (``img_size`` is dropped for models that do not take it).
    """
    if num_classes < 1:
        raise PathscaatError(f"num_classes must be at least 1, got {num_classes}")
    net = _timm_create(backbone, num_classes, timm_kwargs)
    if pretrained_file is not None:
        load_backbone_weights(net, pretrained_file)
    return PathscaatModel(net, backbone, num_classes)


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside DDP / DataParallel / torch.compile wrappers."""
    while True:
        inner = getattr(model, "module", None) or getattr(model, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            return model
        model = inner
