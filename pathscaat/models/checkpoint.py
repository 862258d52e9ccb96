"""Checkpoint format: ``stem.safetensors`` (weights) + ``stem.json`` (everything else).

safetensors cannot carry code, so opening a checkpoint from elsewhere never runs it. Both
files are written to a temporary name and renamed, so a crash or a kill mid-write leaves
the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pathscaat.models.factory import PathscaatModel, create_model, unwrap
from pathscaat.progress import PathscaatError

FORMAT = "pathscaat-checkpoint"
FORMAT_VERSION = 1


def library_versions() -> dict[str, str]:
    import timm

    from pathscaat import __version__

    return {
        "pathscaat": __version__,
        "torch": torch.__version__,
        "timm": timm.__version__,
        "python": platform.python_version(),
    }


@dataclass
class CheckpointMeta:
    """What a model needs besides its weights to be rebuilt, used and judged.

    ``mpp`` is the µm/px of the model's input (the patches' µm/px x patch px / input px),
    the scale inference reads a slide at; ``patch`` records the patches it came from
    (``mpp``, ``px``, ``sizes_px``: images per side). Checkpoints written before ``patch``
    existed recorded the patches' µm/px as ``mpp``.

    ``knobs`` are the objective's settings (``ScaatConfig`` as a dict); ``split`` says how
    the data were split (file of the split, grouping, counts); ``timm_kwargs`` are the extra
    arguments the backbone was created with (e.g. ``img_size`` for a ViT).
    """

    backbone: str
    class_names: list[str]
    input_px: int
    mean: list[float]
    std: list[float]
    mpp: float | None = None
    patch: dict[str, Any] = field(default_factory=dict)
    objective: str = "erm"
    knobs: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    data_hash: str = ""
    versions: dict[str, str] = field(default_factory=library_versions)
    epoch: int = 0
    timm_kwargs: dict[str, Any] = field(default_factory=dict)
    created: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckpointMeta:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def checkpoint_stem(path: str | Path) -> Path:
    """``run/best``, ``run/best.json`` and ``run/best.safetensors`` all name ``run/best``."""
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".json", ".safetensors") else path


def _atomic_write(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def save_checkpoint(stem: str | Path, model: nn.Module, meta: CheckpointMeta) -> Path:
    """Write ``stem.safetensors`` then ``stem.json`` atomically; returns the stem."""
    from safetensors.torch import save_file

    stem = checkpoint_stem(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    # clone: safetensors refuses tensors that share storage (tied weights)
    state = unwrap(model).state_dict()
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}
    _atomic_write(stem.with_suffix(".safetensors"), lambda p: save_file(tensors, str(p)))
    text = json.dumps(meta.to_dict(), indent=2, default=str)
    _atomic_write(stem.with_suffix(".json"), lambda p: p.write_text(text, encoding="utf-8"))
    return stem


def read_meta(path: str | Path) -> CheckpointMeta:
    """The JSON half of a checkpoint, checked to be ours."""
    json_path = checkpoint_stem(path).with_suffix(".json")
    if not json_path.is_file():
        raise PathscaatError(
            f"no checkpoint at {checkpoint_stem(path)}: {json_path.name} is missing; "
            "give the .json or .safetensors file that `pathscaat train` wrote"
        )
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PathscaatError(f"{json_path} is not a PathSCAAT checkpoint: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PathscaatError(f"{json_path} is not a PathSCAAT checkpoint (no format tag)")
    if int(data.get("format_version", 0)) > FORMAT_VERSION:
        raise PathscaatError(f"{json_path} was written by a newer PathSCAAT; upgrade to read it")
    return CheckpointMeta.from_dict(data)


def state_mismatch(expected: Mapping[str, Any], state: Mapping[str, Any]) -> str:
    """How ``state`` differs from a model's ``expected`` state dict, in one short phrase
    (counts and one example of each kind), or "" when every key and shape fits. PyTorch's
    own message lists every key: kilobytes for a model of another backbone."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shaped = [
        k for k in expected
        if k in state and tuple(state[k].shape) != tuple(expected[k].shape)
    ]  # fmt: skip
    parts = []
    if missing:
        parts.append(f"{len(missing)} of the model's {len(expected)} tensors missing, "
                     f"e.g. {missing[0]}")  # fmt: skip
    if unexpected:
        parts.append(f"{len(unexpected)} unknown to it, e.g. {unexpected[0]}")
    if shaped:
        k = shaped[0]
        parts.append(f"{len(shaped)} of another shape, e.g. {k} {tuple(state[k].shape)} "
                     f"where the model has {tuple(expected[k].shape)}")  # fmt: skip
    return "; ".join(parts)


def load_checkpoint(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[PathscaatModel, CheckpointMeta]:
    """Rebuild the model (eval mode, on ``device``) and its metadata; never unpickles."""
    from safetensors.torch import load_file

    meta = read_meta(path)
    weights = checkpoint_stem(path).with_suffix(".safetensors")
    if not weights.is_file():
        raise PathscaatError(f"checkpoint weights missing: {weights}")
    model = create_model(meta.backbone, len(meta.class_names), **meta.timm_kwargs)
    try:
        state = load_file(str(weights), device="cpu")
    except Exception as exc:  # SafetensorError (truncated, not safetensors) has no base here
        raise PathscaatError(
            f"cannot read checkpoint weights {weights} ({type(exc).__name__}: {exc}); the file "
            "is truncated or damaged: copy it again or retrain"
        ) from exc
    mismatch = state_mismatch(model.state_dict(), state)
    if mismatch:
        raise PathscaatError(
            f"{weights} does not fit the {meta.backbone} with {len(meta.class_names)} classes "
            f"that {checkpoint_stem(path).with_suffix('.json').name} describes ({mismatch}); "
            "the weights are of another backbone or model: keep each checkpoint's .json and "
            ".safetensors together"
        )
    try:
        model.load_state_dict(state, strict=True)
    except Exception as exc:
        raise PathscaatError(f"cannot load checkpoint weights {weights}: {exc}") from exc
    model.input_px = meta.input_px
    return model.to(device).eval(), meta
