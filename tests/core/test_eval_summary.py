"""The evaluation in plain sentences: per-class accuracy, sparser or not than the baseline."""

from __future__ import annotations

import torch

from pathscaat.evaluation.model_eval import accuracy_metrics
from pathscaat.evaluation.summary import plain_summary


def test_accuracy_per_class_by_name() -> None:
    labels = torch.tensor([0, 0, 0, 0, 2, 2])
    pred = torch.tensor([0, 0, 0, 1, 2, 0])
    out = accuracy_metrics(pred, labels, ["TUM", "STR", "LYM"])
    assert out["per_class_accuracy"] == {"TUM": 0.75, "LYM": 0.5}  # STR has no test image
    assert out["balanced_accuracy"] == 0.625
    assert "per_class_accuracy" not in accuracy_metrics(pred, labels)


def _entry(objective: str, acc: float, gini: float, deletion: float) -> dict[str, object]:
    return {
        "name": f"{objective}/best", "objective": objective, "accuracy": acc,
        "balanced_accuracy": acc - 0.05, "images": {"n": 60},
        "per_class_accuracy": {"TUM": 0.9, "STR": 0.8, "LYM": 0.55},
        "methods": {"vanilla": {"summary": {"gini": {"mean": gini},
                                            "deletion_auc_blur_diff": {"mean": deletion}}}},
    }  # fmt: skip


def test_summary_says_it_in_words() -> None:
    metrics = {"models": [_entry("scaat", 0.85, 0.61, -0.08), _entry("erm", 0.88, 0.47, -0.02)]}
    lines = plain_summary(metrics)
    assert lines[0] == ("On 60 held-out test patches the model is right 85% of the time (80% "
                        "averaged over the classes). The baseline (erm) is right 88%: 3 points "
                        "more.")  # fmt: skip
    assert lines[1] == "Recognised per class: LYM 55%, STR 80%, TUM 90%. Weakest: LYM."
    assert lines[2].startswith("Its saliency maps are sparser than the baseline's (Gini 0.61 "
                               "against 0.47)")  # fmt: skip
    assert "faster than removing random pixels" in lines[3]
    alone = plain_summary({"models": [_entry("scaat", 0.85, 0.3, 0.01)]})
    assert "train an ERM baseline to compare" in alone[2] and "caution" in alone[3]
    worse = plain_summary({"models": [_entry("scaat", 0.85, 0.3, 0.0), _entry("erm", 0.85, 0.4,
                                                                             0.0)]})  # fmt: skip
    assert "not sparser" in worse[2] and worse[0].endswith("the same.")
