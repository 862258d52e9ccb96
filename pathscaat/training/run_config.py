"""A run config file: one JSON document that both the wizard and ``pathscaat train`` read.

``save_run_config`` writes every field of a :class:`TrainConfig` (the objective's knobs and
the data sources included), ``load_run_config`` reads it back (a bad file is one clear
error naming what is wrong), and ``train_command`` gives the ``pathscaat train`` argv of the
same run, so "Copy as command" and Start cannot drift apart.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

from pathscaat.data.data_source import DataSource
from pathscaat.progress import PathscaatError
from pathscaat.starting_names import RANDOM
from pathscaat.training.config import ScaatConfig, TrainConfig

SCHEMA_VERSION = 1
PATH_FIELDS = ("data", "out", "pretrained_file", "resume")
#: TrainConfig fields and the ``pathscaat train`` flag that sets each (None: value-less flag).
FLAGS = {
    "data": "--data", "backbone": "--backbone", "out": "--out", "epochs": "--epochs",
    "batch_size": "--batch-size", "lr": "--lr", "weight_decay": "--weight-decay",
    "warmup_epochs": "--warmup-epochs", "img_size": "--img-size",
    "weights": "--weights", "device": "--device", "seed": "--seed",
    "resume": "--resume", "workers": "--workers", "val_fraction": "--val-fraction",
    "test_fraction": "--test-fraction", "patience": "--patience", "mpp": "--mpp",
    "strip_every": "--strip-every", "strip_count": "--strip-count",
    "head_init": "--head-init", "head_lr_scale": "--head-lr-scale",
    "layer_decay": "--layer-decay", "probe_epochs": "--probe-epochs", "bn": "--bn",
    "select": "--select",
    "min_crop": "--min-crop",
}  # fmt: skip
KNOB_FLAGS = {
    "mask": "--mask", "eps": "--eps", "steps": "--steps", "alpha": "--alpha",
    "gamma": "--gamma", "tau": "--tau", "k": "--k", "lam": "--lam",
    "divergence": "--divergence", "eps_warmup_epochs": "--eps-warmup-epochs",
    "start": "--start", "random_like": "--random-like", "attack_loss": "--attack-loss",
    "guidance_from": "--guidance-from", "guidance_cell": "--guidance-cell",
    "reg_start_epochs": "--reg-start-epochs",
}  # fmt: skip


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    """The JSON-ready form of ``config`` (paths as strings, sources as dicts)."""
    out: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    for f in fields(TrainConfig):
        value = getattr(config, f.name)
        if f.name == "scaat":
            value = value.to_dict()
        elif f.name == "sources":
            value = [s.to_dict() for s in value]
        elif isinstance(value, Path):
            value = str(value)
        out[f.name] = value
    return out


def save_run_config(config: TrainConfig, path: Path) -> None:
    """Write ``config`` as JSON (schema_version 1) to ``path``, atomically."""
    path = Path(path)
    text = json.dumps(config_to_dict(config), indent=2)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise PathscaatError(
            f"cannot write the run config {path}: {exc.strerror or exc}; choose a folder "
            "you can write to"
        ) from exc


def _unknown(kind: str, given: dict[str, Any], known: set[str], path: Path) -> None:
    extra = sorted(set(given) - known)
    if extra:
        raise PathscaatError(
            f"{path}: unknown {kind} {', '.join(extra)}; remove them (known: "
            f"{', '.join(sorted(known))})"
        )


def config_from_dict(data: dict[str, Any], path: Path) -> TrainConfig:
    """A :class:`TrainConfig` from :func:`config_to_dict`'s form; errors name ``path``."""
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise PathscaatError(
            f"{path}: schema_version {version!r} is not {SCHEMA_VERSION}; write it again "
            "with this PathSCAAT (the wizard's Save, or save_run_config)"
        )
    known = {f.name for f in fields(TrainConfig)}
    body = {k: v for k, v in data.items() if k != "schema_version"}
    _unknown("keys", body, known, path)
    if "data" not in body:
        raise PathscaatError(f"{path}: no 'data' entry; give the patch folder to train on")
    try:
        scaat = body.get("scaat") or {}
        _unknown("scaat keys", scaat, {f.name for f in fields(ScaatConfig)}, path)
        body["scaat"] = ScaatConfig(**scaat)
        body["sources"] = [_source(s, path) for s in body.get("sources") or []]
        for name in PATH_FIELDS:
            if body.get(name) is not None:
                body[name] = Path(body[name])
        return TrainConfig(**body)
    except PathscaatError as exc:
        raise PathscaatError(f"{path}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise PathscaatError(f"{path}: a value has the wrong type ({exc}); fix it") from exc


def _source(data: Any, path: Path) -> DataSource:
    if not isinstance(data, dict):
        raise PathscaatError(f"each entry of 'sources' must be an object, got {data!r}")
    _unknown("source keys", data, {f.name for f in fields(DataSource)}, path)
    return DataSource(**data)


def load_run_config(path: Path) -> TrainConfig:
    """Read a run config written by :func:`save_run_config`; a bad file is a PathscaatError."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PathscaatError(f"run config not found: {path}; give the JSON file to use") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PathscaatError(f"cannot read the run config {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise PathscaatError(
            f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}); fix or re-save it"
        ) from exc
    if not isinstance(data, dict):
        raise PathscaatError(f"{path} is not a run config (a JSON object is expected)")
    return config_from_dict(data, path)


def train_command(config: TrainConfig, config_path: Path | None = None) -> list[str]:
    """The exact ``pathscaat train`` argv of ``config`` (``--config FILE`` when given).

    Without a file every setting is spelled out as flags; settings that have no flag (several
    sources, a project source, ``timm_kwargs``...) need the file, which this says.
    """
    if config_path is not None:
        return ["pathscaat", "train", "--config", str(config_path)]
    default = TrainConfig(data=config.data)
    no_flag = [
        name
        for name in ("progress_every", "timm_kwargs")
        if getattr(config, name) != getattr(default, name)
    ]
    sources = config.data_sources()
    if len(sources) > 1 or sources[0].kind != "folder" or sources[0].slides is not None:
        no_flag.append("sources")
    if no_flag:
        raise PathscaatError(
            f"{', '.join(no_flag)} cannot be given as flags; save the run config and use "
            "`pathscaat train --config FILE`"
        )
    data = config.sources[0].path if config.sources else config.data
    argv = ["pathscaat", "train", "--data", str(data)]
    argv += ["--objective", config.scaat.objective]
    for name, flag in FLAGS.items():
        value = getattr(config, name)
        if name == "weights" and value is None:
            value = RANDOM  # said, or `train` would start from the backbone's bundled weights
        if name != "data" and value is not None:
            argv += [flag, str(value)]
    for name, flag in KNOB_FLAGS.items():
        value = getattr(config.scaat, name)
        if value is not None:
            argv += [flag, repr(value) if isinstance(value, float) else str(value)]
    if not config.amp:
        argv.append("--no-amp")
    if not config.augment:
        argv.append("--no-augment")
    if not config.channels_last:
        argv.append("--no-channels-last")
    if config.scaat.invert:
        argv.append("--invert")
    if config.sources and config.sources[0].mpp is not None and config.mpp is None:
        argv += ["--mpp", repr(config.sources[0].mpp)]
    if config.slide_id != "auto":
        argv += ["--slide-id", config.slide_id]
    return argv
