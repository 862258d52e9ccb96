"""The accuracy-interpretability frontier: one point per trained model, a curve per arm over eps.

Saliency guidance earns its place only where its curve lies above TRADES's and the
budget-matched controls' beyond the seed spread (issue 10). A *point* is a flat dict
(``dataset``, ``arm``, ``eps_255``, ``seed`` and metric means); ``pathscaat evaluate`` makes
them from its metrics.json (``points_from_metrics``) and ``benchmarks/bench_frontier.py``
from its cached cells; both write the same ``frontier.csv``, ``frontier.md`` and plots.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pathscaat.evaluation.frontier_compare import compare_arms, comparisons_markdown
from pathscaat.evaluation.plots import plot_frontier
from pathscaat.evaluation.report import MODEL_KEYS, markdown_table

# (key, header) of the table; every metric is the vanilla-gradient one unless named
FRONTIER_KEYS: tuple[tuple[str, str], ...] = (
    ("accuracy", "test acc"),
    ("val_accuracy", "val acc"),
    ("gini", "Gini ↑"),
    ("relevance_mass", "mass on evidence ↑"),
    ("deletion_auc_mean_diff", "del. gap ↓"),
    ("insertion_auc_diff", "ins. gap ↑"),
    ("alignment", "alignment ↑"),
    ("topk_occlusion_acc_diff", "top-k occl. gap ↓"),
    ("stability", "stability ↑"),
    ("checkerboard", "checkerboard ↓"),
    ("gini_cell", "Gini (4x4 cell)"),
    ("sg_gini", "SmoothGrad Gini ↑"),
    ("sg_deletion_auc_mean_diff", "SmoothGrad del. gap ↓"),
    ("full_deletion_auc_mean_diff", "del. gap, whole test ↓"),
    ("budget", "mean budget"),
)
X_AXES: tuple[tuple[str, str], ...] = (
    ("gini", "Gini of the vanilla gradient (higher = sparser)"),
    ("gini_cell", "Gini after the 4x4 cell average (no stride checkerboard)"),
    ("relevance_mass", "saliency mass on the evidence mask"),
    ("deletion_auc_mean_diff", "deletion AUC (mean fill) − random order (lower = faithful)"),
)
ID_KEYS = ("dataset", "arm", "eps_255", "seed")
COMPARE_NOTE = (
    "Each row is the per-seed difference arm − control (same seed = same split and initial "
    "weights), its mean ± sd and two-sided 95% t-interval. 'better' or 'worse' only where "
    "the interval excludes zero; everything else is within the seed spread. Fewer than 3 "
    "shared seeds: no verdict."
)


def arm_label(objective: str, knobs: dict[str, Any]) -> str:
    """A short arm name from a checkpoint's objective and knobs (``scaat-soft-g4`` ...)."""
    if objective in ("erm", "sgt"):
        return objective
    mask = knobs.get("mask", "none")
    if mask == "none":
        return objective
    like = knobs.get("random_like", "soft") if mask == "random" else mask
    name = {
        "soft": f"soft-g{knobs.get('gamma', 1.0):g}",
        "adaptive": f"adaptive-t{knobs.get('tau', 0.5):g}",
    }.get(like, like)
    if mask == "random":
        name = f"shuffled-{name}"
    if knobs.get("invert"):
        name = f"inverted-{name}"
    return f"{objective}-{name}"


def points_from_metrics(
    metrics: dict[str, Any], method: str = "vanilla", dataset: str | None = None
) -> list[dict[str, Any]]:
    """One point per model of an evaluation's metrics (``method``'s saliency metrics)."""
    points = []
    for entry in metrics["models"]:
        result = entry["methods"].get(method)
        if result is None:
            continue
        knobs = entry.get("knobs") or {}
        eps = 0.0 if entry.get("objective") in ("erm", "sgt") else float(knobs.get("eps", 0.0))
        point: dict[str, Any] = {
            "dataset": dataset or Path(str(metrics.get("data", "data"))).name,
            "arm": arm_label(str(entry.get("objective", "")), knobs),
            "eps_255": round(eps * 255, 3),
            "seed": (knobs.get("train") or {}).get("seed", 0),
            "accuracy": entry.get("accuracy", math.nan),
        }
        for key, _ in FRONTIER_KEYS:
            if key in MODEL_KEYS:
                point[key] = entry.get(key, math.nan)
            elif key not in point:
                point[key] = (result["summary"].get(key) or {}).get("mean", math.nan)
        points.append(point)
    return points


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def aggregate(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and standard deviation over seeds per (dataset, arm, eps), ``n`` = seeds."""
    groups: dict[tuple[str, str, float], list[dict[str, Any]]] = {}
    for p in points:
        groups.setdefault((p["dataset"], p["arm"], float(p["eps_255"])), []).append(p)
    rows = []
    for (dataset, arm, eps), members in groups.items():
        row: dict[str, Any] = {"dataset": dataset, "arm": arm, "eps_255": eps, "n": len(members)}
        row["seeds"] = sorted(int(m["seed"]) for m in members)
        for key, _ in FRONTIER_KEYS:
            v = np.array([_num(m.get(key)) for m in members], dtype=float)
            v = v[np.isfinite(v)]
            row[key] = float(v.mean()) if v.size else math.nan
            row[key + "_sd"] = float(v.std(ddof=1)) if v.size > 1 else math.nan
        rows.append(row)
    return sorted(rows, key=lambda r: (r["dataset"], r["arm"], r["eps_255"]))


def _cell(row: dict[str, Any], key: str) -> str:
    m, s = row[key], row[key + "_sd"]
    if math.isnan(m):
        return "–"
    return f"{m:.3f}" if math.isnan(s) else f"{m:.3f} ± {s:.3f}"


def frontier_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The table: mean ± sd over seeds (sd with ddof 1; none for one seed)."""
    header = ["dataset", "arm", "eps ×255", "seeds", *(h for _, h in FRONTIER_KEYS)]
    body = [
        [r["dataset"], r["arm"], f"{r['eps_255']:g}", ",".join(map(str, r["seeds"]))]
        + [_cell(r, k) for k, _ in FRONTIER_KEYS]
        for r in rows
    ]
    return markdown_table(header, body)


def write_frontier(
    points: Sequence[dict[str, Any]],
    out_dir: Path,
    title: str = "Accuracy-saliency frontier",
    comparisons: Mapping[str, Sequence[str]] | None = None,
) -> list[Path]:
    """``frontier_points.csv`` (every seed), ``frontier.csv``/``.md`` (aggregated), PNG plots
    and ``frontier_comparisons.md`` (paired arm − control differences per eps).

    ``comparisons`` maps an arm to its controls; default: every ``scaat*`` arm against every
    other arm present.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = aggregate(points)
    paths = [_write_csv(out_dir / "frontier_points.csv", points)]
    paths.append(_write_csv(out_dir / "frontier.csv", rows))
    md = out_dir / "frontier.md"
    md.write_text(f"# {title}\n\n{frontier_markdown(rows)}\n", encoding="utf-8")
    paths.append(md)
    arms = sorted({str(p["arm"]) for p in points})
    if comparisons is None:
        comparisons = {a: [c for c in arms if c != a] for a in arms if a.startswith("scaat")}
    compared = [
        r for arm, controls in comparisons.items() for r in compare_arms(points, arm, controls)
    ]
    if compared:
        cmp_md = out_dir / "frontier_comparisons.md"
        cmp_md.write_text(
            f"# {title}: paired differences over seeds\n\n{COMPARE_NOTE}\n\n"
            f"{comparisons_markdown(compared)}\n",
            encoding="utf-8",
        )
        paths.append(cmp_md)
    for dataset in sorted({r["dataset"] for r in rows}):
        mine = [r for r in rows if r["dataset"] == dataset]
        axes = [(k, label) for k, label in X_AXES if any(math.isfinite(r[k]) for r in mine)]
        if axes:
            paths.append(
                plot_frontier(
                    mine, axes, f"{title}: {dataset}", out_dir / f"frontier_{dataset}.png"
                )
            )
    return paths


def _write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        for r in rows:
            writer.writerow(
                {k: (";".join(map(str, v)) if isinstance(v, list) else v) for k, v in r.items()}
            )
    return path
