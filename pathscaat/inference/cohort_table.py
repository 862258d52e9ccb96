"""Per-slide outcome records and the cohort table ``OUT/cohort.csv`` merged from them.

Each rank writes one small JSON record per finished or failed slide to
``OUT/.cohort/<folder>.json`` (atomically, on the shared file system); the merge reads the
records of every slide of the cohort, so it needs no collective beyond a barrier and works
whichever rank processed which slide, or when a rank's slides all failed.

Table columns: ``slide, folder, status, tiles, frac_<class>..., mean_prob_<class>...,
saliency_mean, saliency_p95, slide_mpp, mpp_source, read_mpp, seconds, rank, error``.
``frac_<class>`` is the fraction of tiles predicted as that class; the saliency columns
summarise the per-tile maxima of ``tiles.csv`` (raw gradient units; empty without saliency).
``status`` is ``done``, ``failed`` or ``pending`` (not reached yet: cancelled or still
running). ``slide_mpp`` is the slide's level-0 µm/px as used, ``mpp_source`` where it came
from (``metadata``, ``project``, ``flag``; :mod:`pathscaat.inference.scale`), ``read_mpp``
the µm/px the tiles were read at.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pathscaat.inference.cohort_slides import CohortSlide
from pathscaat.inference.tiles_csv import TILES_CSV

RECORDS_DIR = ".cohort"
TABLE_NAME = "cohort.csv"
SCALE_COLUMNS = ("slide_mpp", "mpp_source", "read_mpp")


@dataclass
class SlideRecord:
    """What happened to one slide; ``key`` identifies the job (slide file, model, method)."""

    slide: str
    folder: str
    status: str
    key: str = ""
    tiles: int = 0
    classes: list[str] = field(default_factory=list)
    fractions: list[float] = field(default_factory=list)
    mean_probs: list[float] = field(default_factory=list)
    saliency_mean: float | None = None
    saliency_p95: float | None = None
    seconds: float = 0.0
    rank: int = 0
    error: str = ""
    scale: dict[str, Any] | None = None


def record_path(out: Path, folder: str) -> Path:
    return out / RECORDS_DIR / f"{folder}.json"


def save_record(out: Path, record: SlideRecord) -> None:
    path = record_path(out, record.folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(record)))
    tmp.replace(path)


def load_record(out: Path, folder: str) -> SlideRecord | None:
    """The slide's record, or None when there is none or it cannot be read."""
    try:
        data = json.loads(record_path(out, folder).read_text())
        return SlideRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def summarise(slide_out: Path, classes: list[str]) -> dict[str, Any]:
    """Tiles, class fractions, mean probabilities and saliency summary from ``tiles.csv``."""
    with (slide_out / TILES_CSV).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    probs = np.array([[float(r[f"prob_{c}"]) for c in classes] for r in rows], np.float64)
    probs = probs.reshape(len(rows), len(classes))
    pred = np.array([classes.index(r["pred_class"]) for r in rows], np.int64)
    frac = np.bincount(pred, minlength=len(classes)) / max(len(rows), 1)
    sal = np.array([float(r["max_saliency"]) for r in rows if r["max_saliency"]], np.float64)
    return {
        "tiles": len(rows),
        "classes": list(classes),
        "fractions": [round(float(f), 6) for f in frac],
        "mean_probs": [round(float(m), 6) for m in probs.mean(axis=0)] if len(rows) else [],
        "saliency_mean": float(sal.mean()) if sal.size else None,
        "saliency_p95": float(np.percentile(sal, 95)) if sal.size else None,
    }


def write_table(out: Path, slides: list[CohortSlide], classes: list[str]) -> Path:
    """Merge every slide's record into ``OUT/cohort.csv`` (atomically), in cohort order."""
    path = out / TABLE_NAME
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["slide", "folder", "status", "tiles"]
            + [f"frac_{c}" for c in classes]
            + [f"mean_prob_{c}" for c in classes]
            + ["saliency_mean", "saliency_p95", *SCALE_COLUMNS, "seconds", "rank", "error"]
        )
        for slide in slides:
            rec = load_record(out, slide.folder)
            writer.writerow(_row(slide, rec, classes))
    tmp.replace(path)
    return path


def _row(slide: CohortSlide, rec: SlideRecord | None, classes: list[str]) -> list[Any]:
    if rec is None:
        blanks = 2 * len(classes) + len(SCALE_COLUMNS) + 5
        return [str(slide.path), slide.folder, "pending", ""] + [""] * blanks
    done = rec.status == "done" and rec.classes == classes

    def cells(values: list[float]) -> list[str]:
        return [f"{v:.6f}" for v in values] if done else [""] * len(classes)

    def num(v: float | None) -> str:
        return "" if v is None or not done else f"{v:.6g}"

    return [
        str(slide.path), slide.folder, rec.status, rec.tiles if done else "",
        *cells(rec.fractions), *cells(rec.mean_probs),
        num(rec.saliency_mean), num(rec.saliency_p95), *_scale_cells(rec.scale if done else None),
        f"{rec.seconds:.2f}", rec.rank, rec.error,
    ]  # fmt: skip


def _scale_cells(scale: dict[str, Any] | None) -> list[str]:
    """slide_mpp, mpp_source, read_mpp of a done slide (blank where unknown)."""
    if not scale:
        return [""] * len(SCALE_COLUMNS)

    def num(key: str) -> str:
        value = scale.get(key)
        return f"{value:.6g}" if isinstance(value, int | float) else ""

    return [num("slide_mpp"), str(scale.get("slide_mpp_source", "")), num("read_mpp")]
