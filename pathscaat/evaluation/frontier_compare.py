"""Does an arm beat its controls beyond the seed spread? Paired, per dataset and eps.

Two arms trained with the same seed share the data split and the initial weights, so the
honest comparison is the per-seed difference ``arm − control``. A difference "holds" only
where its two-sided 95% t-interval over seeds excludes zero: with 3 seeds that needs a mean
difference of more than 2.5 standard deviations of the paired differences. Anything less
is reported as "within spread", which is what it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from pathscaat.evaluation.report import markdown_table

# metrics compared, with +1 where higher is better and -1 where lower is better
COMPARED: tuple[tuple[str, str, int], ...] = (
    ("val_accuracy", "val acc", 1),
    ("accuracy", "test acc", 1),
    ("gini", "Gini", 1),
    ("relevance_mass", "mass on evidence", 1),
    ("deletion_auc_mean_diff", "del. gap", -1),
    ("alignment", "alignment", 1),
    ("topk_occlusion_acc_diff", "top-k occl. gap", -1),
    ("stability", "stability", 1),
    ("gini_cell", "Gini (4x4 cell)", 1),  # Gini without the stride checkerboard
    ("checkerboard", "checkerboard", -1),
    ("insertion_auc_diff", "ins. gap", 1),
    # a second saliency method (bench_frontier's ``sg_`` keys), so a verdict does not hang
    # on one method's noise
    ("sg_gini", "SmoothGrad Gini", 1),
    ("sg_deletion_auc_mean_diff", "SmoothGrad del. gap", -1),
    # faithfulness on the whole test split beside the class-balanced sample
    ("full_accuracy", "test acc (whole split)", 1),
    ("full_deletion_auc_mean_diff", "del. gap (whole split)", -1),
    ("full_insertion_auc_diff", "ins. gap (whole split)", 1),
    ("full_topk_occlusion_acc_diff", "top-k occl. gap (whole split)", -1),
)
CONFIDENCE = 0.95


def paired_difference(
    points: Sequence[dict[str, Any]], dataset: str, eps: float, arm: str, control: str, key: str
) -> dict[str, Any] | None:
    """Mean, sd and 95% t-interval of ``arm − control`` over the seeds both have (≥ 2)."""
    by_seed: dict[str, dict[int, float]] = {arm: {}, control: {}}
    for p in points:
        if p["dataset"] != dataset or p["arm"] not in by_seed:
            continue
        # arms that ignore eps (ERM, SGT) are compared at every eps
        if float(p["eps_255"]) not in (float(eps), 0.0):
            continue
        value = p.get(key)
        if value is not None and math.isfinite(float(value)):
            by_seed[p["arm"]][int(p["seed"])] = float(value)
    seeds = sorted(set(by_seed[arm]) & set(by_seed[control]))
    if len(seeds) < 2:
        return None
    diff = np.array([by_seed[arm][s] - by_seed[control][s] for s in seeds])
    mean, sd = float(diff.mean()), float(diff.std(ddof=1))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(seeds) - 1)) * sd / math.sqrt(len(seeds))
    return {"n": len(seeds), "mean": mean, "sd": sd, "lo": mean - half, "hi": mean + half}


MIN_SEEDS_FOR_VERDICT = 3  # with 2, one image's difference on both seeds has sd 0


def verdict(diff: dict[str, Any] | None, sign: int) -> str:
    """``better`` / ``worse`` where the interval excludes zero, else ``within spread``;
    fewer than 3 shared seeds get no verdict."""
    if diff is None:
        return "–"
    if diff["n"] < MIN_SEEDS_FOR_VERDICT:
        return "too few seeds"
    if diff["lo"] > 0 or diff["hi"] < 0:
        return "better" if (diff["mean"] > 0) == (sign > 0) else "worse"
    return "within spread"


def compare_arms(
    points: Sequence[dict[str, Any]], arm: str, controls: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per (dataset, eps, control, metric) where both arms have ≥ 2 shared seeds."""
    rows = []
    cells = sorted({(p["dataset"], float(p["eps_255"])) for p in points if p["arm"] == arm})
    for dataset, eps in cells:
        for control in controls:
            for key, label, sign in COMPARED:
                diff = paired_difference(points, dataset, eps, arm, control, key)
                if diff is not None:
                    rows.append({"dataset": dataset, "eps_255": eps, "arm": arm,
                                 "control": control, "metric": label, **diff,
                                 "verdict": verdict(diff, sign)})  # fmt: skip
    return rows


def comparisons_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The comparison table: paired difference mean ± sd, its 95% interval and the verdict."""
    header = ["dataset", "eps ×255", "arm − control", "metric", "seeds", "difference",
              "95% interval", "verdict"]  # fmt: skip
    body = [
        [
            r["dataset"],
            f"{r['eps_255']:g}",
            f"{r['arm']} − {r['control']}",
            r["metric"],
            str(r["n"]),
            f"{r['mean']:+.3f} ± {r['sd']:.3f}",
            f"[{r['lo']:+.3f}, {r['hi']:+.3f}]",
            r["verdict"],
        ]
        for r in rows
    ]
    return markdown_table(header, body)
