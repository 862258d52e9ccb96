"""Starting weights: named starting points and what users bring, recognised by contents.

A *spec* (``TrainConfig.weights``, ``pathscaat train --weights``) is one of

- ``imagenet:efficientnet_lite0`` (always installed), ``imagenet:efficientnet_lite1``/``lite2``
  (the ``imagenet-extra`` extra): ImageNet weights shipped as Python packages;
- ``random``: timm's random initialisation, a research setting;
- ``hf-hub:org/name``: a model already in the user's Hugging Face cache (read offline,
  never downloaded);
- a name added with ``pathscaat weights add``;
- a path: a Hugging Face / timm model folder (``config.json`` + weights), a PathSCAAT
  checkpoint, or a state dict (``.safetensors``/``.pth``) in timm's, torchvision's ResNet or
  EfficientNet-PyTorch's layout. The file's tensors say which, never its name.

:func:`resolve_start` turns a spec into a :class:`StartingPoint` (architecture, timm
arguments, native input size, mean/std: what the model must be built with), and
:func:`load_start` puts its tensors into a model built that way.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from pathscaat.models import weight_layouts as layouts
from pathscaat.models import weight_sources as sources
from pathscaat.progress import PathscaatError
from pathscaat.starting_names import DEFAULT_BACKBONE, DEFAULT_WEIGHTS, IMAGENET_PREFIX, RANDOM

__all__ = ["DEFAULT_BACKBONE", "DEFAULT_WEIGHTS", "RANDOM", "StartingPoint", "resolve_start"]
HF_PREFIXES = ("hf-hub:", "hf_hub:", "hf-cache:")
#: EfficientNet-PyTorch files are matched, in order, against these timm models.
EFFICIENTNET_CANDIDATES = tuple(f"tf_efficientnet_lite{i}" for i in range(5)) + tuple(
    f"tf_efficientnet_b{i}" for i in range(8)
)


@dataclass(frozen=True)
class StartingPoint:
    """Where a run's weights come from and what the model must be built with.

    ``architecture`` None: the file does not say (a bare timm-layout state dict): the run's
    backbone is used. ``model_args`` are timm arguments (layer classes as dotted names);
    ``input_px``/``mean``/``std`` the weights' native input and normalisation.
    """

    name: str
    kind: str  # imagenet, random, state-dict, model-folder, hf-cache, checkpoint
    source: str = ""
    architecture: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)
    input_px: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    layout: str = layouts.TIMM
    note: str = ""

    @property
    def pretrained(self) -> bool:
        return self.kind != RANDOM

    def timm_kwargs(self) -> dict[str, Any]:
        """Arguments for ``create_model``: the architecture's, plus the native data config."""
        kwargs = {k: v for k, v in layouts.layer_names(self.model_args).items()}
        kwargs.pop("num_classes", None)
        overlay: dict[str, Any] = {}
        if self.mean is not None and self.std is not None:
            overlay.update(mean=list(self.mean), std=list(self.std))
        if self.input_px:
            overlay["input_size"] = [3, self.input_px, self.input_px]
        if overlay:
            kwargs["pretrained_cfg_overlay"] = overlay
        return kwargs

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line: what it is, its native input and normalisation."""
        arch = self.architecture or "the chosen backbone"
        if not self.pretrained:
            return f"{arch} from random weights (a research setting: fine-tuning needs fewer data)"
        px = f"{self.input_px} px" if self.input_px else "the backbone's input size"
        norm = (
            f"mean {_fmt(self.mean)}, std {_fmt(self.std)}"
            if self.mean and self.std
            else "the backbone's mean/std"
        )
        return f"{arch} ({self.layout} layout), native input {px}, {norm}"


def _fmt(values: tuple[float, ...] | None) -> str:
    return "(" + ", ".join(f"{v:.3g}" for v in values or ()) + ")"


def _timm_cfg(architecture: str) -> tuple[int | None, tuple[float, ...], tuple[float, ...]]:
    import timm.models

    cfg = timm.models.get_pretrained_cfg(architecture)
    if cfg is None:
        from pathscaat.models.factory import DEFAULT_MEAN, DEFAULT_STD

        return None, DEFAULT_MEAN, DEFAULT_STD
    return int(cfg.input_size[-1]), tuple(cfg.mean), tuple(cfg.std)


RANDOM_POINT = StartingPoint(RANDOM, RANDOM, note="random weights: a research setting")


def imagenet_points() -> list[StartingPoint]:
    """The bundled ImageNet starting points whose package is installed (Lite0 always)."""
    out = []
    for short, (package, arch) in sources.IMAGENET_PACKAGES.items():
        path = sources.bundled_file(short)
        if path is None:
            continue
        px, mean, std = _timm_cfg(arch)
        note = f"ImageNet-1k, from the {package.replace('_', '-')} package"
        out.append(
            StartingPoint(
                IMAGENET_PREFIX + short, "imagenet", str(path), arch, {}, px, mean, std,
                layouts.EFFICIENTNET_PYTORCH, note,
            )
        )  # fmt: skip
    return out


def _imagenet(spec: str) -> StartingPoint:
    short = spec.removeprefix(IMAGENET_PREFIX)
    if short not in sources.IMAGENET_PACKAGES:
        raise PathscaatError(
            f"no bundled weights {spec!r}: the ImageNet starting points are "
            f"{', '.join(IMAGENET_PREFIX + n for n in sources.IMAGENET_PACKAGES)}"
        )
    found = next((p for p in imagenet_points() if p.name == spec), None)
    if found is None:
        package = sources.IMAGENET_PACKAGES[short][0].replace("_", "-")
        raise PathscaatError(
            f"{spec} is not installed: pip install {package} "
            "(or pathscaat[imagenet-extra] for Lite1 and Lite2)"
        )
    return found


def _folder(path: Path, name: str, kind: str) -> StartingPoint:
    folder = sources.read_model_folder(path)
    cfg = folder.pretrained_cfg
    args = dict(folder.model_args)
    args.update(layouts.infer_vit_args(sources.tensor_shapes(folder.weights), args))
    size = cfg.get("input_size")
    px = int(size[-1]) if isinstance(size, list | tuple) and size else None
    default_px, default_mean, default_std = _timm_cfg(folder.architecture)
    mean = tuple(float(v) for v in cfg.get("mean") or default_mean)
    std = tuple(float(v) for v in cfg.get("std") or default_std)
    return StartingPoint(
        name, kind, str(folder.weights), folder.architecture, args, px or default_px, mean,
        std, layouts.TIMM, f"model folder {path}",
    )  # fmt: skip


def _hf_cache(spec: str) -> StartingPoint:
    repo_id = spec.split(":", 1)[1].split("@")[0]
    snap = sources.hf_snapshot(repo_id)
    if snap is None:
        raise PathscaatError(
            f"{repo_id} is not in the Hugging Face cache ({sources.hf_cache_dir()}); PathSCAAT "
            "never downloads. Download it once (huggingface-cli download "
            f"{repo_id}), or give its folder"
        )
    return _folder(snap, f"hf-hub:{repo_id}", "hf-cache")


def _checkpoint(path: Path) -> StartingPoint | None:
    """A PathSCAAT checkpoint at ``path`` (its JSON beside the weights), else None."""
    from pathscaat.models.checkpoint import checkpoint_stem, read_meta

    if path.suffix not in (".json", ".safetensors", ""):
        return None
    if not checkpoint_stem(path).with_suffix(".json").is_file():
        return None
    try:
        meta = read_meta(path)
    except PathscaatError:
        return None
    weights = checkpoint_stem(path).with_suffix(".safetensors")
    args = {k: v for k, v in meta.timm_kwargs.items() if k != "img_size"}
    return StartingPoint(
        str(path), "checkpoint", str(weights), meta.backbone, args, meta.input_px,
        tuple(meta.mean), tuple(meta.std), layouts.PATHSCAAT, "a PathSCAAT checkpoint",
    )  # fmt: skip


def _efficientnet_arch(shapes: dict[str, tuple[int, ...]]) -> str | None:
    import timm
    import torch

    mine = list(shapes.values())
    for arch in EFFICIENTNET_CANDIDATES:
        with torch.device("meta"):
            own = timm.create_model(arch, pretrained=False).state_dict()
        if len(own) == len(mine) and all(
            tuple(v.shape) == s for v, s in zip(list(own.values())[:-2], mine[:-2], strict=True)
        ):
            return arch
    return None


def _state_file(path: Path) -> StartingPoint:
    shapes = sources.tensor_shapes(path)
    layout = layouts.detect_layout(shapes)
    arch: str | None = None
    args: dict[str, Any] = {}
    if layout == layouts.EFFICIENTNET_PYTORCH:
        arch = _efficientnet_arch(shapes)
    elif (resnet := layouts.infer_resnet(shapes)) is not None:
        arch, args = resnet
    if arch is None:
        return StartingPoint(str(path), "state-dict", str(path), None, {}, layout=layout)
    px, mean, std = _timm_cfg(arch)
    return StartingPoint(str(path), "state-dict", str(path), arch, args, px, mean, std, layout)


def resolve_start(spec: str | Path | None) -> StartingPoint:
    """The starting point a spec names (see the module's docstring); PathscaatError if none."""
    text = str(spec).strip() if spec is not None else RANDOM
    if text in ("", RANDOM):
        return RANDOM_POINT
    if text.startswith(IMAGENET_PREFIX):
        return _imagenet(text)
    if text.startswith(HF_PREFIXES):
        return _hf_cache(text)
    added = sources.read_registry()
    if text in added or (text.startswith("added:") and text[6:] in added):
        key = text.removeprefix("added:")
        point = resolve_start(added[key])
        return StartingPoint(**{**point.to_dict(), "name": key, "note": f"added: {added[key]}"})
    path = Path(text).expanduser()
    if path.is_dir():
        if sources.is_model_folder(path):
            return _folder(path, str(path), "model-folder")
        raise PathscaatError(
            f"{path} is a folder without a config.json: give a model folder (config.json + "
            "model.safetensors or pytorch_model.bin) or the weights file itself"
        )
    checkpoint = _checkpoint(path)
    if checkpoint is not None:
        return checkpoint
    if path.is_file():
        return _state_file(path)
    raise PathscaatError(
        f"no starting weights {text!r}: give random, a name from `pathscaat weights list`, "
        "a weights file (.safetensors/.pth) or a model folder"
    )


def backbone_for(point: StartingPoint, backbone: str | None) -> str:
    """The backbone a run with ``point`` builds: the weights' own architecture when they say
    it (a different ``backbone`` is an error), else ``backbone``."""
    if point.architecture is None or not backbone or backbone == point.architecture:
        return point.architecture or backbone or DEFAULT_BACKBONE
    raise PathscaatError(
        f"{point.name} holds {point.architecture} weights, not {backbone}: give the backbone "
        f"{point.architecture} (or leave the backbone out to take the weights' own)"
    )


def head_keys(model: nn.Module) -> list[str]:
    head = getattr(model, "pretrained_cfg", {}).get("classifier") or ()
    heads = (head,) if isinstance(head, str) else tuple(head)
    return [k for k in model.state_dict() if any(k == h or k.startswith(h + ".") for h in heads)]


def load_start(point: StartingPoint, model: nn.Module) -> tuple[list[str], list[str]]:
    """Put ``point``'s tensors into the bare timm ``model``; the keys loaded and the head keys
    left fresh. Random: nothing to load."""
    from pathscaat.models.factory import load_backbone_weights, load_state_into

    if not point.pretrained:
        return [], []
    path = Path(point.source)
    if point.layout == layouts.EFFICIENTNET_PYTORCH:
        state = layouts.map_in_order(
            sources.read_tensors(path), model.state_dict(), point.name, set(head_keys(model))
        )
        return load_state_into(model, state, point.name)
    return load_backbone_weights(model, path)


def list_starting_points() -> list[StartingPoint]:
    """Bundled ImageNet first, then the added ones, then the Hugging Face cache, then random.

    An added entry or cached model that no longer reads is left out (``check`` says why).
    """
    points = imagenet_points()
    for name in sources.read_registry():
        try:
            points.append(resolve_start(name))
        except PathscaatError:
            continue
    for repo_id, _snap in sources.hf_cached_models():
        try:
            points.append(resolve_start(f"hf-hub:{repo_id}"))
        except PathscaatError:
            continue
    return [*points, RANDOM_POINT]


def add_starting_point(name: str, path: Path) -> StartingPoint:
    """Register ``path`` as ``name`` after reading it (the registry keeps the path)."""
    reserved = name in (RANDOM,) or name.startswith((IMAGENET_PREFIX, *HF_PREFIXES, "added:"))
    if reserved or not name.strip() or "/" in name:
        raise PathscaatError(f"{name!r} cannot name added weights: give a short plain name")
    point = resolve_start(path.resolve())
    if not point.pretrained:
        raise PathscaatError(f"{path} holds no weights")
    entries = sources.read_registry()
    entries[name] = str(path.resolve())
    sources.write_registry(entries)
    return StartingPoint(**{**point.to_dict(), "name": name})


def describe_json(point: StartingPoint) -> str:
    return json.dumps(point.to_dict(), default=str)
