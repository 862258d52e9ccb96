"""``evaluate``: the saliency-quality protocol over several checkpoints, one call.

Models are evaluated one after another on their own held-out images (models that share
a split and input size share one in-memory copy); the saliency grid of every model shows
the same images where their sets overlap. On cancel, what is finished is written and
``JobCancelled`` is raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from pathscaat.evaluation.data import (
    EvalImages,
    balanced_sample,
    check_classes,
    load_eval_images,
)
from pathscaat.evaluation.frontier import points_from_metrics, write_frontier
from pathscaat.evaluation.model_eval import (
    EvalSettings,
    accuracy_metrics,
    evaluate_method,
    mask_area,
    mean_curves,
    model_baseline,
    stats,
)
from pathscaat.evaluation.plots import plot_curves, plot_saliency_grid
from pathscaat.evaluation.report import FORMAT, FORMAT_VERSION, write_outputs
from pathscaat.models import CheckpointMeta, checkpoint_stem, load_checkpoint, read_meta
from pathscaat.models.device import resolve_device
from pathscaat.outdir import check_writable
from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    PathscaatError,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)
from pathscaat.saliency import get_method, list_methods
from pathscaat.saliency.metrics import (
    ACCURACY_FRACTIONS,
    DELETION_FRACTIONS,
    TOPK_FRACTIONS,
    input_gradient_alignment,
)

DEFAULT_METHODS = ("vanilla", "smoothgrad", "integrated_gradients")


@dataclass
class EvalResult:
    out: Path
    report: Path
    metrics_json: Path
    plots: list[Path]
    metrics: dict[str, Any]


def model_names(paths: Sequence[str | Path]) -> list[str]:
    """``run_dir/best`` style names, made unique; they label tables and plots."""
    names: list[str] = []
    for p in paths:
        stem = checkpoint_stem(p)
        base = f"{stem.parent.name}/{stem.name}" if stem.parent.name else stem.name
        names.append(base if base not in names else f"{base}#{len(names)}")
    return names


def _check_methods(methods: Sequence[str]) -> None:
    for name in methods:
        get_method(name)  # raises a PathscaatError naming the known methods
    if not methods:
        raise PathscaatError(f"no saliency method given; choose from {', '.join(list_methods())}")


MAX_GRID_IMAGES = 16
"""The saliency figure widens past ``grid_images`` to show every class, up to this many."""


def _grid_index(paths: list[str], labels: list[int], common: list[str], k: int) -> list[int]:
    """Columns of the saliency figure: classes taking turns, so every class is shown (with
    ``k`` widened to the number of classes); the images all models share where they can."""
    label_of = dict(zip(paths, labels, strict=True))
    k = min(max(k, len(set(labels))), MAX_GRID_IMAGES)
    pool = common if len(common) >= min(k, len(paths)) else paths
    chosen = balanced_sample(pool, [label_of[p] for p in pool], k, seed=0)
    return sorted((paths.index(p) for p in chosen), key=lambda i: (labels[i], paths[i]))


def _model_entry(name: str, ckpt: Path, meta: CheckpointMeta, images: EvalImages) -> dict[str, Any]:
    return {
        "name": name,
        "checkpoint": str(ckpt),
        "backbone": meta.backbone,
        "objective": meta.objective,
        "knobs": meta.knobs,
        "input_px": meta.input_px,
        "class_names": meta.class_names,
        "images": {"n": len(images.paths), "subset": images.subset, "paths": images.paths},
        "methods": {},
    }


class _Job:
    """Progress accounting and cancel checks for one ``evaluate`` call."""

    def __init__(self, total: int, on_progress: OnProgress, should_stop: ShouldStop) -> None:
        self.total, self.done = total, 0
        self.on_progress, self.should_stop = on_progress, should_stop

    def step(self, message: str, **extra: Any) -> None:
        self.done += 1
        self.on_progress(ProgressRecord("evaluate", self.done, self.total, message, extra))

    def check(self) -> None:
        if self.should_stop():
            raise JobCancelled("evaluation stopped; finished models and methods were written")


def _load_all_images(
    metas: Sequence[CheckpointMeta], data_dir: Path, max_images: int | None, seed: int
) -> list[EvalImages]:
    """Each model's images; models with the same classes, size and split share one copy."""
    cache: dict[tuple[Any, ...], EvalImages] = {}
    out = []
    for meta in metas:
        key = (tuple(meta.class_names), meta.input_px, repr(sorted(meta.split.items())))
        if key not in cache:
            cache[key] = load_eval_images(
                data_dir, meta.class_names, meta.input_px, meta.split, max_images, seed
            )
        out.append(cache[key])
    return out


def _evaluate_model(
    entry: dict[str, Any],
    ckpt: Path,
    images: EvalImages,
    settings: EvalSettings,
    device: torch.device,
    job: _Job,
) -> dict[str, Tensor]:
    """Fill ``entry`` in place (so a cancel keeps what is done); returns each method's maps."""
    model, _ = load_checkpoint(ckpt, device=device)
    masks = None if images.masks is None else images.masks.to(device)
    on_device = replace(images, x=images.x.to(device), labels=images.labels.to(device), masks=masks)
    base = model_baseline(model, on_device, settings)
    if images.masks is not None:
        entry["images"]["mask_area"] = stats(mask_area(images.masks))["mean"]
    entry.update(accuracy_metrics(base.pred, on_device.labels, entry.get("class_names", ())))
    align = stats(input_gradient_alignment(model, on_device.x, base.pred, settings.batch_size))
    entry["alignment"], entry["alignment_std"] = align["mean"], align["std"]
    entry["random"] = {
        "summary": {k: stats(v) for k, v in base.scores.items()},
        "curves": mean_curves(base.curves),
    }
    job.step(f"{entry['name']}: accuracy {entry['accuracy']:.3f}", model=entry["name"])
    maps: dict[str, Tensor] = {}
    for name in settings.methods:
        job.check()
        result, sal = evaluate_method(model, on_device, base, name, settings)
        entry["methods"][name] = result
        maps[name] = sal.cpu()
        gini = result["summary"]["gini"]["mean"]
        job.step(f"{entry['name']} / {name}: Gini {gini:.3f}", model=entry["name"], method=name)
    return maps


def evaluate(
    models: Sequence[str | Path],
    data_dir: str | Path,
    methods: Sequence[str] = DEFAULT_METHODS,
    out_dir: str | Path = "evaluation",
    *,
    max_images: int | None = None,
    device: str = "auto",
    settings: EvalSettings | None = None,
    grid_images: int = 6,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> EvalResult:
    """Run evaluation.md's protocol for every checkpoint; write report.md, metrics.json, PNGs."""
    if not models:
        raise PathscaatError("no model given; pass one or more checkpoints (.json/.safetensors)")
    _check_methods(methods)
    settings = settings or EvalSettings()
    settings.methods = tuple(methods)
    ckpts, out, data = [Path(m) for m in models], Path(out_dir), Path(data_dir)
    metas = [read_meta(c) for c in ckpts]
    for meta in metas:
        check_classes(data, meta.class_names)
    check_writable(out, "the evaluation report")  # before minutes of work, as train does
    all_images = _load_all_images(metas, data, max_images, settings.seed)
    common = sorted(set.intersection(*(set(i.paths) for i in all_images)))
    metrics: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "data": str(data),
        "settings": {**asdict(settings), "max_images": max_images, "device": device},
        "fractions": {
            "deletion": DELETION_FRACTIONS,
            "masked_accuracy": ACCURACY_FRACTIONS,
            "topk_occlusion": TOPK_FRACTIONS,
        },
        "models": [],
    }
    job = _Job(len(ckpts) * (1 + len(methods)), on_progress, should_stop)
    plots: list[Path] = []
    finished = False
    try:
        for name, ckpt, meta, images in zip(
            model_names(ckpts), ckpts, metas, all_images, strict=True
        ):
            job.check()
            entry = _model_entry(name, ckpt, meta, images)
            metrics["models"].append(entry)
            dev = resolve_device(device, auto_mps=False)  # float64 metrics: not on MPS
            maps = _evaluate_model(entry, ckpt, images, settings, dev, job)
            plots.append(_grid(entry, images, maps, common, grid_images, out))
        finished = True
    finally:
        done = [e for e in metrics["models"] if "random" in e]
        metrics["models"] = done
        if done:
            plots = plot_curves(metrics, out) + plots
        if len(done) > 1:  # several models: the accuracy-saliency frontier of them
            method = "vanilla" if "vanilla" in methods else methods[0]
            frontier = write_frontier(points_from_metrics(metrics, method), out)
            plots = [p for p in frontier if p.suffix == ".png"] + plots
        if done or finished:  # a failure before any model: no report with an empty table
            report, metrics_json = write_outputs(out, metrics, plots)
    return EvalResult(out, report, metrics_json, plots, metrics)


def _grid(
    entry: dict[str, Any],
    images: EvalImages,
    maps: dict[str, Tensor],
    common: list[str],
    k: int,
    out: Path,
) -> Path:
    idx = _grid_index(images.paths, images.labels.tolist(), common, k)
    titles = [images.class_names[int(images.labels[i])] for i in idx]
    masks = None if images.masks is None else images.masks[idx]
    slug = entry["name"].replace("/", "_").replace("#", "_")
    return plot_saliency_grid(
        entry["name"],
        images.x[idx],
        {m: s[idx] for m, s in maps.items()},
        masks,
        titles,
        out / f"saliency_{slug}.png",
    )
