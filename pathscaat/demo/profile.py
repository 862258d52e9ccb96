"""What the demo makes, at which size: the full run and ``--quick`` (for tests).

Scale is kept consistent end to end: the synthetic generator renders patches and the slide
at ``SYNTHETIC_MPP`` µm/px, training resizes ``patch_px`` patches to ``input_px``, so the
model sees ``patch_mpp * patch_px / input_px`` µm/px, which goes into its checkpoint and
is the scale ``predict_slide`` grids the slide at.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path("pathscaat-demo")
SYNTHETIC_MPP = 0.5
"""µm/px at which ``pathscaat.data.synthetic`` renders patches and slides."""


@dataclass(frozen=True)
class DemoProfile:
    """Sizes of one demo run; ``full`` is the default, ``quick`` a smoke run."""

    name: str
    slide_px: tuple[int, int]
    per_class: int
    patch_px: int
    input_px: int
    backbone: str
    epochs: int
    batch_size: int
    lr: float
    eval_images: int
    sanity_images: int
    infer_batch: int = 64

    @property
    def model_mpp(self) -> float:
        """µm/px of the model's input (the patches' scale after resizing)."""
        return SYNTHETIC_MPP * self.patch_px / self.input_px

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "model_mpp": self.model_mpp}


FULL = DemoProfile(
    name="full", slide_px=(4096, 3072), per_class=150, patch_px=96, input_px=64,
    backbone="resnet10t", epochs=12, batch_size=32, lr=3e-3, eval_images=60, sanity_images=8,
)  # fmt: skip
QUICK = DemoProfile(
    name="quick", slide_px=(2048, 1536), per_class=16, patch_px=48, input_px=32,
    backbone="resnet10t", epochs=2, batch_size=16, lr=3e-3, eval_images=9, sanity_images=3,
)  # fmt: skip
PROFILES = {"full": FULL, "quick": QUICK}


def idle_cores() -> int:
    """CPU cores not already busy (1-minute load average), at least 1.

    Intra-op threads that compete with other processes for the same cores spin and wait;
    on a loaded 2-core machine one thread trained this demo's model several times faster
    than two.
    """
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n = n or 1
    try:
        busy = int(os.getloadavg()[0] + 0.5)
    except OSError:
        busy = 0
    return max(1, min(n, n - busy))
