"""What the user chose on the wizard's pages, remembered between sessions (QSettings).

The choices are plain values; :func:`build_config` turns them into the core's
``TrainConfig``, which the run controller saves as the run config that
``pathscaat train --config FILE`` reads. Nothing here trains or imports torch.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pathscaat.starting_names import DEFAULT_BACKBONE, DEFAULT_WEIGHTS, bundled_architecture
from ui.settings import Settings

log = logging.getLogger(__name__)

SETTINGS_KEY = "wizard/last"

OBJECTIVE_LABELS = {
    "scaat": "SCAAT",
    "erm": "ERM",
    "sgt": "SGT",
    "trades": "TRADES",
}


@dataclass
class WizardChoices:
    """Every answer of the wizard (units in names; 0 means "not set")."""

    folders: list[str] = field(default_factory=list)
    project: str = ""  # the open project whose annotated slides train ("" = none)
    project_mpp: float = 0.5  # pathscaat.data.project_source.DEFAULT_MPP
    project_tile_px: int = 224  # pathscaat.data.project_source.DEFAULT_TILE_PX
    slide_id: str = "auto"  # how a tile's slide is read (pathscaat.data.slide_id.SlideIdRule)
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 0
    backbone: str = DEFAULT_BACKBONE
    weights: str = DEFAULT_WEIGHTS  # a starting point's name, "random", a file or folder
    input_px: int = 224
    target_mpp: float = 0.0
    objective: str = "scaat"
    train_baseline: bool = False
    eps_255: float = 4.0
    gamma: float = 1.0
    lam: float = 1.0
    steps: int = 1
    mask: str = "soft"
    device: str = "auto"
    batch_size: int = 32
    epochs: int = 10
    amp: bool = True
    workers: int = 2
    out_dir: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WizardChoices:
        """The stored choices; unknown keys and wrong types fall back to the defaults."""
        base = cls()
        try:
            data = json.loads(text) if text else {}
        except json.JSONDecodeError:
            log.warning("wizard: the remembered choices were unreadable; defaults used")
            return base
        if not isinstance(data, dict):
            return base
        if isinstance(data.get("weights_file"), str) and "weights" not in data:
            data["weights"] = data["weights_file"] or "random"  # before starting points
        kept: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value, default = data[f.name], getattr(base, f.name)
            if isinstance(default, float) and isinstance(value, int | float):
                value = float(value)
            if type(value) is type(default):
                kept[f.name] = value
        return replace(base, **kept)


def load_choices(settings: Settings) -> WizardChoices:
    return WizardChoices.from_json(settings.get(SETTINGS_KEY))


def save_choices(settings: Settings, choices: WizardChoices) -> None:
    settings.set(SETTINGS_KEY, choices.to_json())
    settings.sync()


def objective_knobs(choices: WizardChoices, objective: str) -> dict[str, Any]:
    """The advanced knobs that apply to ``objective`` (ERM has none; SGT only lam)."""
    eps = choices.eps_255 / 255.0
    if objective == "scaat":
        return {"eps": eps, "lam": choices.lam, "gamma": choices.gamma,
                "steps": choices.steps, "mask": choices.mask}  # fmt: skip
    if objective == "trades":
        return {"eps": eps, "lam": choices.lam, "steps": choices.steps}
    if objective == "sgt":
        return {"lam": choices.lam}
    return {}


def data_sources(choices: WizardChoices) -> list[Any]:
    """The core ``DataSource`` list of the chosen folders and the project (if chosen)."""
    from pathscaat.training.config import DataSource

    sources = [DataSource(kind="folder", path=Path(p)) for p in choices.folders]
    if choices.project:
        sources.append(
            DataSource(kind="project", path=Path(choices.project),
                       mpp=choices.project_mpp, tile_px=choices.project_tile_px)
        )  # fmt: skip
    return sources


def _weights(choices: WizardChoices) -> str | None:
    """The run's start: bundled ImageNet weights made for another network mean random ones
    for this network (the Model page switches the same way)."""
    arch = bundled_architecture(choices.weights)
    if arch is not None and arch != choices.backbone:
        return None
    return choices.weights or None


def build_config(
    choices: WizardChoices,
    *,
    objective: str | None = None,
    out: Path | None = None,
    resume: Path | None = None,
) -> Any:
    """The core ``TrainConfig`` of these choices (``objective``/``out``: the ERM baseline)."""
    from pathscaat.training.config import ScaatConfig, TrainConfig

    name = objective or choices.objective
    knobs = objective_knobs(choices, name)
    sources = data_sources(choices)
    return TrainConfig(
        data=sources[0].path if sources else Path("."),
        sources=sources,
        backbone=choices.backbone,
        scaat=ScaatConfig.for_objective(name, **knobs),
        out=out or Path(choices.out_dir),
        epochs=choices.epochs,
        batch_size=choices.batch_size,
        img_size=choices.input_px or None,
        weights=_weights(choices),
        device=choices.device,
        seed=choices.seed,
        resume=resume,
        workers=choices.workers,
        val_fraction=choices.val_fraction,
        test_fraction=choices.test_fraction,
        amp=choices.amp,
        mpp=choices.target_mpp or None,
        slide_id=choices.slide_id,
    )
