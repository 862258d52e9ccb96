"""``report.md`` and ``metrics.json`` from the metrics dictionary an evaluation builds."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pathscaat.evaluation.claims import below_best, claim_note

FORMAT = "pathscaat-evaluation"
FORMAT_VERSION = 1

# (key, header); model-level keys come from the model entry, the rest from method summaries
COLUMNS: tuple[tuple[str, str], ...] = (
    ("accuracy", "acc"),
    ("balanced_accuracy", "bal. acc"),
    ("gini", "Gini ↑"),
    ("entropy", "entropy ↓"),
    ("deletion_auc_blur", "del. AUC blur ↓"),
    ("deletion_auc_blur_diff", "− random"),
    ("deletion_auc_mean", "del. AUC mean ↓"),
    ("deletion_auc_mean_diff", "− random"),
    ("insertion_auc", "ins. AUC ↑"),
    ("insertion_auc_diff", "− random"),
    ("masked_accuracy_area", "masked-acc area ↓"),
    ("masked_accuracy_area_diff", "− random"),
    ("sanity_rank_corr", "sanity ρ ↓"),
    ("relevance_mass", "rel. mass ↑"),
    ("pointing_game", "pointing ↑"),
    ("alignment", "align ↑"),
    ("topk_occlusion_acc_diff", "top-k occl. − random ↓"),
    ("stability", "stability ρ ↑"),
    ("checkerboard", "checker ↓"),
    ("gini_cell", "Gini (cell)"),
    ("relevance_mass_cell", "rel. mass (cell)"),
)
MODEL_KEYS = ("accuracy", "balanced_accuracy", "alignment")

LEGEND = """\
How to read it (docs/evaluation.md of PathSCAAT): Gini = sparseness of |saliency| (Quantus
Sparseness); entropy = complexity (Quantus Complexity, nats). Deletion AUC: probability of
the predicted class as the most salient pixels are replaced by a blurred copy (RISE) or by
the image's mean colour; lower is better, and "− random" is the same model's AUC with a
random pixel order subtracted (negative = saliency finds pixels that matter; this difference
is the signal). Insertion AUC: from the blurred image, putting the most salient pixels back;
higher is better. Masked-acc area: mean accuracy after removing the top 0..90% salient
pixels (mean-colour fill; Ismail et al. 2021); lower = steeper drop. Sanity ρ: Spearman
correlation between the map and the map of the same model with every layer randomised
(cascading from the top, Adebayo et al. 2018); it must be near 0 (a large |ρ| of either sign
means the map's layout survives without the trained weights; coarse Grad-CAM maps of small
inputs have few layouts and reach it easily). Relevance mass: fraction of saliency inside
the evidence mask (chance = mask area); pointing: the map's maximum lies in the mask.
Align: Etmann et al. 2019's |cos(x, input gradient)| of the predicted logit (a model
property; robust models align more). Top-k occl.: accuracy after the 1, 2, 5% most salient
pixels are replaced by the mean colour, minus the same with random pixels (negative =
saliency finds what the decision needs). Stability ρ: Spearman between the map and the map
of the image plus N(0, 0.01²) noise (metrics.json also holds Quantus's MaxSensitivity).
Checker: share of the map's spectral energy on the stride-4 lattice (the strided stem's
grid; white noise ≈ 0.004 at 64 px); "(cell)": Gini and mass of the map averaged over 4x4
cells, the grid removed. Values are means over images; metrics.json holds spreads, curves
and every per-image value.
"""


def table_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per model x method: ``model``, ``method``, ``objective`` and the means."""
    rows = []
    for entry in metrics["models"]:
        for method, result in entry["methods"].items():
            row: dict[str, Any] = {
                "model": entry["name"],
                "method": method,
                "objective": entry.get("objective", ""),
            }
            for key, _ in COLUMNS:
                if key in MODEL_KEYS:
                    row[key] = entry.get(key, float("nan"))
                else:
                    row[key] = result["summary"].get(key, {}).get("mean", float("nan"))
            rows.append(row)
    return rows


def fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def accuracy_warnings(metrics: dict[str, Any]) -> list[str]:
    """Models more than 1 point below the best: their saliency claims do not count."""
    accs = {e["name"]: e["accuracy"] for e in metrics["models"]}
    below = below_best(accs)
    best = max(accs.values(), default=0.0)
    return [f"- {claim_note(name, accs[name], best)}" for name in below]


def missing_classes(entry: dict[str, Any]) -> list[str]:
    """The model's classes with no evaluated image (image paths are ``<class>/<file>``)."""
    seen = {p.split("/", 1)[0] for p in entry["images"].get("paths", [])}
    return [c for c in entry.get("class_names", []) if c not in seen]


def _model_line(e: dict[str, Any]) -> str:
    area = e["images"].get("mask_area")
    chance = "" if area is None else f" Evidence masks cover {area:.3f} of their images"
    subset, absent = e["images"]["subset"], missing_classes(e)
    if absent:  # "classes balanced" would hide that some are not there at all
        subset = subset.replace("with classes balanced", "over the classes present")
    line = (
        f"- **{e['name']}** ({e['backbone']}, objective {e['objective']}, "
        f"{e['input_px']} px): {e['images']['n']} images, {subset}."
        + (chance and chance + " (the relevance mass of a uniform map).")
    )
    if absent:
        line += (
            f" **No image of {len(absent)} of its {len(e['class_names'])} classes: "
            f"{', '.join(absent)}**; every figure here leaves them out."
        )
    return line


def render_report(metrics: dict[str, Any], plots: Sequence[Path]) -> str:
    rows = table_rows(metrics)
    header = ["model", "method"] + [h for _, h in COLUMNS]
    body = [[r["model"], r["method"]] + [fmt(r[k]) for k, _ in COLUMNS] for r in rows]
    parts = [
        "# Saliency quality report",
        "",
        f"Data: `{metrics['data']}`. Methods: {', '.join(metrics['settings']['methods'])}.",
        "",
    ]
    parts += [_model_line(e) for e in metrics["models"]]
    parts += ["", markdown_table(header, body), "", LEGEND]
    warnings = accuracy_warnings(metrics)
    if warnings:
        parts += ["## Accuracy check", "", *warnings, ""]
    if plots:
        parts += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots]
    return "\n".join(parts) + "\n"


def _clean(obj: Any) -> Any:
    """NaN is not JSON: write null instead, so every reader can load the file."""
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def write_outputs(
    out_dir: Path, metrics: dict[str, Any], plots: Sequence[Path]
) -> tuple[Path, Path]:
    """Write ``metrics.json`` and ``report.md``; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "metrics.json"
    json_path.write_text(json.dumps(_clean(metrics), indent=1), encoding="utf-8")
    report_path = out_dir / "report.md"
    report_path.write_text(render_report(metrics, plots), encoding="utf-8")
    return report_path, json_path
