"""Resumable training state beside the ``last`` checkpoint: ``last.state.{safetensors,json}``.

The optimiser's tensors go to safetensors (flattened), the rest to JSON, so resuming, like
loading a model, never unpickles anything.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from pathscaat.progress import PathscaatError


@dataclass
class RunState:
    """Where a run stands: epochs completed, best so far, history, schedule step."""

    epochs_done: int = 0
    global_step: int = 0
    best_epoch: int = -1
    best_score: list[float] = field(default_factory=lambda: [float("-inf"), float("-inf")])
    history: list[dict[str, Any]] = field(default_factory=list)


def _replace(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)


def save_state(stem: Path, optimizer: torch.optim.Optimizer, state: RunState) -> None:
    from safetensors.torch import save_file

    opt = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for idx, slots in opt["state"].items():
        for name, value in slots.items():
            key = f"{idx}.{name}"
            if isinstance(value, torch.Tensor):
                tensors[key] = value.detach().cpu().contiguous().clone()
            else:
                scalars[key] = value
    meta = {"run": asdict(state), "param_groups": opt["param_groups"], "scalars": scalars}
    weights, text = stem.with_suffix(".state.safetensors"), stem.with_suffix(".state.json")
    tmp_w, tmp_t = (p.with_name(f".{p.name}.tmp") for p in (weights, text))
    save_file(tensors, str(tmp_w))
    tmp_t.write_text(json.dumps(meta, default=float), encoding="utf-8")
    _replace(tmp_w, weights)
    _replace(tmp_t, text)


def has_state(stem: Path) -> bool:
    return stem.with_suffix(".state.json").is_file()


def load_state(stem: Path, optimizer: torch.optim.Optimizer) -> RunState:
    """Restore the optimiser in place and return the run state saved with it."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    where = stem.with_suffix(".state.safetensors")
    remedy = (
        "the file is truncated or damaged (an interrupted copy, a full disk): "
        f"delete {where.name} and {stem.with_suffix('.state.json').name} to resume from the "
        "weights alone (the optimiser restarts), or resume from another checkpoint"
    )
    try:
        meta = json.loads(stem.with_suffix(".state.json").read_text(encoding="utf-8"))
        tensors = load_file(str(where))
        slots: dict[int, dict[str, Any]] = {}
        for key, value in [*tensors.items(), *meta["scalars"].items()]:
            idx, name = key.split(".", 1)
            slots.setdefault(int(idx), {})[name] = value
        param_groups, run = meta["param_groups"], RunState(**meta["run"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, SafetensorError) as exc:
        raise PathscaatError(
            f"cannot read the training state beside {stem} ({type(exc).__name__}: "
            f"{str(exc)[:200]}); {remedy}"
        ) from exc
    try:
        optimizer.load_state_dict({"state": slots, "param_groups": param_groups})
    except (ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise PathscaatError(
            f"the training state beside {stem} does not fit this model ({str(exc)[:200]}); "
            "resume with the same --backbone and data, or from another checkpoint"
        ) from exc
    return run
