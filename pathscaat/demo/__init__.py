"""The demo: a synthetic slide and patch set taken through the whole loop, one step each.

Slide, info, tiles, a patch set with evidence masks, ERM and SCAAT models trained with one
recipe and seed, their saliency evaluation, and the SCAAT model run over the slide.
Everything written is "PathSCAAT synthetic" data, never real tissue. Steps share a
``DemoState``; ``run_demo`` runs ``STEPS`` in order and checks ``should_stop`` between them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pathscaat.demo.model_steps import evaluate_models, infer_slide, make_patches, train_models
from pathscaat.demo.profile import DEFAULT_OUT, FULL, PROFILES, QUICK, DemoProfile, idle_cores
from pathscaat.demo.slide_steps import label_counts, make_slide, read_info, tile_slide
from pathscaat.demo.state import OBJECTIVES, DemoState, Step
from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)

__all__ = [
    "DEFAULT_OUT",
    "FULL",
    "OBJECTIVES",
    "PROFILES",
    "QUICK",
    "STEPS",
    "DemoProfile",
    "DemoState",
    "label_counts",
    "run_demo",
]

STEPS: list[Step] = [
    make_slide, read_info, tile_slide, make_patches, train_models, evaluate_models, infer_slide,
]  # fmt: skip
"""Run in order by ``run_demo``."""


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Intra-op threads for the duration (None: leave torch's setting alone)."""
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_demo(
    out_dir: str | Path = DEFAULT_OUT,
    *,
    seed: int = 0,
    profile: DemoProfile = FULL,
    threads: int | None = None,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> DemoState:
    """Every step in ``STEPS``; returns where the outputs are (``state.seconds``: timings).

    ``threads``: torch intra-op threads (default: the cores not already busy). Raises
    ``JobCancelled`` when ``should_stop`` turns True, keeping what was written.
    """
    state = DemoState(Path(out_dir), seed, profile)
    state.out_dir.mkdir(parents=True, exist_ok=True)
    with torch_threads(idle_cores() if threads is None else threads):
        for i, step in enumerate(STEPS):
            if should_stop():
                raise JobCancelled(f"demo stopped before {step.__name__}; outputs so far kept")
            on_progress(ProgressRecord("demo", i, len(STEPS), step_title(step)))
            start = time.perf_counter()
            step(state, on_progress, should_stop)
            state.seconds[step.__name__] = round(time.perf_counter() - start, 1)
    on_progress(ProgressRecord("demo", len(STEPS), len(STEPS), "done"))
    return state


def step_title(step: Step) -> str:
    """The first line of the step's docstring (what the step does)."""
    return (step.__doc__ or step.__name__).strip().splitlines()[0].rstrip(".")
