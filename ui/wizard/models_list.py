"""The models the wizard trained, remembered in the settings (for the Models panel).

Without an open project the app keeps a list of checkpoints, plus any ``*/best.json``
under the models folder the user chose; the rows are read from the checkpoints' JSON
sidecars (no torch), so listing stays instant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ui.settings import Settings
from ui.wizard.run_store import checkpoint_meta

MODELS_KEY = "wizard/models"
MODELS_DIR_KEY = "wizard/models_dir"


@dataclass(frozen=True)
class ModelRow:
    checkpoint: Path
    name: str
    backbone: str
    objective: str
    date: str
    accuracy: float | None
    class_names: list[str]


def remember_model(settings: Settings, checkpoint: Path) -> None:
    text = str(checkpoint.resolve())
    models = [text] + [m for m in settings.get(MODELS_KEY) if m != text]
    settings.set(MODELS_KEY, models)
    settings.sync()


def forget_model(settings: Settings, checkpoint: Path) -> None:
    text = str(checkpoint.resolve())
    settings.set(MODELS_KEY, [m for m in settings.get(MODELS_KEY) if m != text])
    settings.sync()


def model_row(checkpoint: Path) -> ModelRow | None:
    """A row from the sidecar, or None when it is gone or not a checkpoint."""
    meta = checkpoint_meta(checkpoint)
    if "backbone" not in meta:
        return None
    metrics: dict[str, Any] = meta.get("metrics") or {}
    acc = metrics.get("balanced_accuracy", metrics.get("accuracy"))
    try:
        when = dt.datetime.fromtimestamp(checkpoint.with_suffix(".json").stat().st_mtime)
        date = when.strftime("%Y-%m-%d %H:%M")
    except OSError:
        date = ""
    name = f"{checkpoint.parent.name}/{checkpoint.stem}"
    return ModelRow(checkpoint, name, str(meta.get("backbone", "")),
                    str(meta.get("objective", "")), date,
                    float(acc) if isinstance(acc, int | float) else None,
                    list(meta.get("class_names", [])))  # fmt: skip


def known_models(settings: Settings) -> list[ModelRow]:
    """Remembered checkpoints, then ``best.json`` of each run under the models folder."""
    paths = [Path(m) for m in settings.get(MODELS_KEY)]
    root = settings.get(MODELS_DIR_KEY)
    if root and Path(root).is_dir():
        paths += sorted(Path(root).glob("*/best.json"))
    rows, seen = [], set()
    for path in paths:
        key = str(path.resolve())
        if key in seen:
            continue
        seen.add(key)
        row = model_row(path)
        if row is not None:
            rows.append(row)
    return rows
