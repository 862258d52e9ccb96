"""The paired arm − control comparison that decides whether guidance 'beats' a control."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pathscaat.evaluation.frontier import write_frontier
from pathscaat.evaluation.frontier_compare import compare_arms, paired_difference, verdict


def _points(arm: str, eps: float, accs: list[float]) -> list[dict[str, object]]:
    return [
        {"dataset": "d", "arm": arm, "eps_255": eps, "seed": s, "val_accuracy": a, "accuracy": a}
        for s, a in enumerate(accs)
    ]


def test_paired_difference_is_the_t_interval_of_per_seed_differences() -> None:
    pts = _points("scaat", 16, [0.80, 0.85, 0.90]) + _points("trades", 16, [0.70, 0.72, 0.78])
    diff = paired_difference(pts, "d", 16, "scaat", "trades", "val_accuracy")
    assert diff is not None
    d = np.array([0.10, 0.13, 0.12])
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    assert diff["n"] == 3
    assert diff["mean"] == pytest.approx(d.mean())
    assert diff["lo"] == pytest.approx(d.mean() - half)
    assert verdict(diff, +1) == "better"
    assert verdict(diff, -1) == "worse"  # the same gap on a lower-is-better metric


def test_overlapping_seeds_are_within_spread_and_eps_free_arms_compare_everywhere() -> None:
    # mean difference +0.03 but the per-seed differences change sign: no claim
    pts = _points("scaat", 8, [0.80, 0.85, 0.75]) + _points("trades", 8, [0.82, 0.75, 0.74])
    pts += _points("erm", 0, [0.92, 0.98, 0.86])
    rows = compare_arms(pts, "scaat", ["trades", "erm", "missing"])
    by = {(r["control"], r["metric"]): r for r in rows}
    assert by[("trades", "val acc")]["verdict"] == "within spread"
    # ERM has eps 0 and is compared at the arm's eps 8; every seed is ~0.12 below it
    assert by[("erm", "val acc")]["eps_255"] == 8
    assert by[("erm", "val acc")]["verdict"] == "worse"
    assert not any(r["control"] == "missing" for r in rows)


def test_one_shared_seed_gives_no_comparison(tmp_path) -> None:
    pts = _points("scaat-soft", 4, [0.8]) + _points("trades", 4, [0.7, 0.6])
    assert paired_difference(pts, "d", 4, "scaat-soft", "trades", "accuracy") is None
    pts += _points("scaat-soft", 4, [0.8, 0.65])[1:]
    paths = write_frontier(pts, tmp_path)
    text = (tmp_path / "frontier_comparisons.md").read_text()
    assert tmp_path / "frontier_comparisons.md" in paths
    # two seeds give an interval but no verdict: identical differences would have sd 0
    assert "scaat-soft − trades" in text and "too few seeds" in text
