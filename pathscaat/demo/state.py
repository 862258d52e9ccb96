"""What the demo has produced so far, shared by its steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pathscaat.demo.profile import FULL, DemoProfile
from pathscaat.progress import OnProgress, ShouldStop

if TYPE_CHECKING:
    from pathscaat.evaluation import EvalResult
    from pathscaat.inference.overlays import OverlaySet
    from pathscaat.tiling.job import TilingOutputs
    from pathscaat.training import TrainResult

OBJECTIVES = ("erm", "scaat")
"""The two models the demo trains with one recipe and seed."""


@dataclass
class DemoState:
    """Paths and results under ``out_dir``, filled in step by step."""

    out_dir: Path
    seed: int = 0
    profile: DemoProfile = FULL
    slide: Path | None = None
    regions: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)
    tiling: TilingOutputs | None = None
    patches: Path | None = None
    runs: dict[str, TrainResult] = field(default_factory=dict)
    evaluation: EvalResult | None = None
    overlays: OverlaySet | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def checkpoint(self, objective: str) -> Path:
        """The model of ``objective`` the demo evaluates and runs: its last epoch."""
        if objective not in self.runs:
            raise RuntimeError(f"the {objective} model is not trained yet")
        return self.runs[objective].last

    @property
    def inference_dir(self) -> Path:
        return self.out_dir / "inference"


Step = Callable[[DemoState, OnProgress, ShouldStop], None]
