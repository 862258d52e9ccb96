"""One process's share of a cohort: the model loaded once, slides scored one after another.

The fixed costs of a slide are paid once per process where they can be: the model is
loaded once, and the next slide's tissue mask and grid are computed on a background
thread while the current slide is scored. Each slide goes through the same
``predict_surveyed`` as ``pathscaat infer`` into ``OUT/<folder>/``, so it resumes the same
way within a slide; a slide whose record says done (same slide file, model and method)
is skipped. A slide that fails is recorded with its error and the shard goes on.

Progress: stage ``cohort`` (``done`` of the shard's slides; ``extra`` names the slide, its
folder, ``outcome`` computed / resumed / failed and the rank) and the slide's own
``tissue`` / ``infer`` / ``write`` records with ``extra["slide"]`` set to its folder.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pathscaat.inference.cohort_slides import CohortSlide
from pathscaat.inference.cohort_table import (
    SlideRecord,
    load_record,
    save_record,
    summarise,
)
from pathscaat.inference.overlays import MANIFEST_NAME
from pathscaat.inference.predict import check_settings, load_model, predict_surveyed
from pathscaat.inference.resume import file_stamp, fingerprint
from pathscaat.inference.slide_survey import Surveyed, survey
from pathscaat.models.device import resolve_device
from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    PathscaatError,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)
from pathscaat.slides.errors import SlideError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CohortSettings:
    """What every slide of a cohort is run with (as ``pathscaat infer``'s options)."""

    saliency: str | None = "vanilla"
    device: str = "auto"
    batch_size: int = 32
    read_threads: int = 2
    slide_mpp: float | None = None
    """Level-0 µm/px of the slides whose file and project record none (--slide-mpp)."""
    min_tissue: float = 0.5


@dataclass
class ShardResult:
    """Counts of one process's slides by outcome; ``cancelled`` when it stopped early."""

    computed: int = 0
    resumed: int = 0
    failed: int = 0
    cancelled: bool = False
    fixed_s: dict[str, float] = field(default_factory=dict)


def run_shard(
    slides: list[CohortSlide],
    checkpoint: str | Path,
    out_dir: str | Path,
    settings: CohortSettings,
    *,
    rank: int = 0,
    local_rank: int = 0,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> ShardResult:
    """Run ``slides`` into ``out_dir`` in order; see the module docstring."""
    out = Path(out_dir)
    sal = check_settings(settings.saliency, settings.batch_size, settings.read_threads)
    device = resolve_device(settings.device, local_rank=local_rank)
    t0 = time.perf_counter()
    loaded = load_model(checkpoint)
    result = ShardResult(fixed_s={"model_load": time.perf_counter() - t0, "survey": 0.0})
    job = _Job(out, loaded, sal, device, settings, rank, on_progress, result, len(slides))
    todo = []
    for slide in slides:
        key = job.key_of(slide)
        if _is_done(out, slide, key):
            result.resumed += 1
            job.announce(slide, "resumed")
        else:
            todo.append((slide, key))
    with ThreadPoolExecutor(1, "cohort-survey") as pool:
        ahead = pool.submit(job.survey, todo[0][0]) if todo else None
        for i, (slide, key) in enumerate(todo):
            if should_stop():
                result.cancelled = True
                break
            assert ahead is not None
            current = ahead
            ahead = pool.submit(job.survey, todo[i + 1][0]) if i + 1 < len(todo) else None
            if not job.run(slide, key, current, should_stop):
                result.cancelled = True
                break
        if ahead is not None:
            ahead.cancel()
    return result


def _is_done(out: Path, slide: CohortSlide, key: str) -> bool:
    rec = load_record(out, slide.folder)
    finished = rec is not None and rec.status == "done" and rec.key == key
    return finished and (out / slide.folder / MANIFEST_NAME).is_file()


def describe_error(exc: BaseException) -> str:
    """One line for the table: a user error's own message, else its type and message."""
    user = isinstance(exc, (PathscaatError, SlideError))
    text = str(exc) if user else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


class _Job:
    """The loaded model and settings shared by every slide of one shard."""

    def __init__(
        self, out: Path, loaded: tuple[Any, Any, Path], saliency: str | None, device: Any,
        settings: CohortSettings, rank: int, on_progress: OnProgress, result: ShardResult,
        total: int,
    ) -> None:  # fmt: skip
        self.out, self.loaded, self.saliency, self.device = out, loaded, saliency, device
        self.settings, self.rank, self.result = settings, rank, result
        self.on_progress = on_progress
        self.classes = [str(c) for c in loaded[1].class_names]
        self.n_done, self.total = 0, total

    def key_of(self, slide: CohortSlide) -> str:
        """Fingerprint of the slide file, the checkpoint and the method ('' if unreadable)."""
        ckpt_json = self.loaded[2]
        try:
            parts: dict[str, Any] = {
                "slide": file_stamp(slide.path), "checkpoint": file_stamp(ckpt_json),
                "weights": file_stamp(ckpt_json.with_suffix(".safetensors")),
                "saliency": self.saliency, "slide_mpp": self.settings.slide_mpp,
            }  # fmt: skip
            if slide.mpp is not None:  # keys of jobs made before these existed stay the same
                parts["mpp"] = slide.mpp
            if self.settings.min_tissue != CohortSettings.min_tissue:
                parts["min_tissue"] = self.settings.min_tissue
        except OSError:
            return ""
        return fingerprint(parts, np.zeros((0, 2), np.int64))

    def survey(self, slide: CohortSlide) -> tuple[Surveyed, list[ProgressRecord], float]:
        """Tissue and grid of a slide (on the background thread); its records kept for later."""
        t0 = time.perf_counter()
        records: list[ProgressRecord] = []
        own, flag = slide.mpp is not None, self.settings.slide_mpp
        surveyed = survey(
            slide.path, slide.mpp if own else flag, self.loaded[1], None, records.append,
            mpp_source="project" if own else "flag", only_if_missing=not own,
            min_tissue=self.settings.min_tissue,
        )  # fmt: skip
        return surveyed, records, time.perf_counter() - t0

    def run(
        self, slide: CohortSlide, key: str, surveyed: Future[Any], should_stop: ShouldStop
    ) -> bool:
        """Score one slide and record the outcome; False when cancelled (nothing recorded)."""
        t0 = time.perf_counter()
        forward = self._forwarder(slide)
        try:
            found, records, survey_s = surveyed.result()
            self.result.fixed_s["survey"] += survey_s
            for rec in records:
                forward(rec)
            predict_surveyed(
                slide.path, self.loaded, found, self.out / slide.folder,
                saliency=self.saliency, device=self.device,
                batch_size=self.settings.batch_size, workers=self.settings.read_threads,
                on_progress=forward, should_stop=should_stop,
            )  # fmt: skip
            summary = summarise(self.out / slide.folder, self.classes)
            summary["scale"] = found.scale.to_dict()
        except JobCancelled:
            return False
        except Exception as exc:  # any slide's failure is its row, never the cohort's end
            error = describe_error(exc)
            log.warning("%s", error if str(slide.path) in error else f"{slide.path}: {error}")
            self._finish(slide, "failed", key, time.perf_counter() - t0, error=error)
            return True
        self._finish(slide, "done", key, time.perf_counter() - t0 + survey_s, **summary)
        return True

    def _finish(self, slide: CohortSlide, status: str, key: str, seconds: float, **kw: Any) -> None:
        record = SlideRecord(
            slide=str(slide.path), folder=slide.folder, status=status, key=key,
            seconds=round(seconds, 3), rank=self.rank, **kw,
        )  # fmt: skip
        save_record(self.out, record)
        outcome = "computed" if status == "done" else "failed"
        if status == "done":
            self.result.computed += 1
        else:
            self.result.failed += 1
        self.announce(slide, outcome, record.error)

    def announce(self, slide: CohortSlide, outcome: str, error: str = "") -> None:
        self.n_done += 1
        extra = {"slide": str(slide.path), "folder": slide.folder, "outcome": outcome,
                 "rank": self.rank, "error": error}  # fmt: skip
        message = f"{slide.folder}: {outcome}" + (f" ({error})" if error else "")
        self.on_progress(ProgressRecord("cohort", self.n_done, self.total, message, extra))

    def _forwarder(self, slide: CohortSlide) -> OnProgress:
        def forward(rec: ProgressRecord) -> None:
            extra = {**rec.extra, "slide": slide.folder, "rank": self.rank}
            self.on_progress(ProgressRecord(rec.stage, rec.done, rec.total, rec.message, extra))

        return forward
