"""The protocol of evaluation.md for one model on one set of images.

Saliency is computed for the model's predicted class (the decision being explained);
deletion and insertion follow that class's probability, the masked-accuracy curve the
true label. Every faithfulness number is paired with the same model's number under a
random pixel order on the same images (``*_random``, and ``*_diff`` = saliency - random,
per image): the difference is the signal, the absolute value depends on the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from pathscaat.evaluation.data import EvalImages
from pathscaat.saliency import eval_mode, get_method
from pathscaat.saliency.metrics import (
    ACCURACY_FRACTIONS,
    DELETION_FRACTIONS,
    TOPK_FRACTIONS,
    SanityResult,
    auc,
    blur,
    cascading_randomisation,
    checkerboard_share,
    entropy,
    gini,
    mean_colour,
    noise_draws,
    normalised_area,
    perturbation_probs,
    pointing_game,
    random_ranks,
    relevance_mass,
    saliency_ranks,
    saliency_stability,
    stride_aggregate,
)

ACC_INDEX = [
    next(i for i, f in enumerate(DELETION_FRACTIONS) if math.isclose(f, p))
    for p in ACCURACY_FRACTIONS
]
TOPK_INDEX = [
    next(i for i, f in enumerate(DELETION_FRACTIONS) if math.isclose(f, p)) for p in TOPK_FRACTIONS
]
CURVES = ("deletion_blur", "deletion_mean", "insertion", "masked_accuracy")


@dataclass
class EvalSettings:
    """Knobs of one evaluation; defaults fit a laptop CPU for a few hundred images."""

    methods: tuple[str, ...] = ("vanilla", "smoothgrad", "integrated_gradients")
    batch_size: int = 32
    sanity_images: int = 16
    sanity_checkpoints: int = 4
    seed: int = 0
    method_kwargs: dict[str, dict[str, Any]] = field(default_factory=dict)
    checker_stride: int = 4  # period of the stride grid measured and aggregated away
    stability_samples: int = 1  # noisy copies per image (0 = skip the stability metric)
    stability_sigma: float = 0.01  # noise sd in [0,1] pixel units (about 2.5/255)


def stats(values: Tensor) -> dict[str, float | int]:
    """Mean, standard deviation and count over images, NaNs (undefined cases) left out."""
    v = values.detach().double().cpu().numpy()
    v = v[~np.isnan(v)]
    if v.size == 0:
        return {"mean": float("nan"), "std": float("nan"), "n": 0}
    return {"mean": float(v.mean()), "std": float(v.std()), "n": int(v.size)}


@torch.no_grad()
def predict(model: nn.Module, x: Tensor, batch_size: int) -> Tensor:
    """Softmax probabilities ``[N, K]`` in eval mode."""
    with eval_mode(model):
        parts = [
            model(x[i : i + batch_size]).float().softmax(1) for i in range(0, len(x), batch_size)
        ]
    return torch.cat(parts)


def accuracy_metrics(
    pred: Tensor, labels: Tensor, class_names: Sequence[str] = ()
) -> dict[str, Any]:
    """Accuracy, balanced accuracy (mean recall over the classes present) and, given the
    class names, ``per_class_accuracy``: the share of each present class recognised."""
    correct = (pred == labels).float()
    present = labels.unique()
    recalls = [correct[labels == c].mean() for c in present]
    out: dict[str, Any] = {
        "accuracy": float(correct.mean()),
        "balanced_accuracy": float(torch.stack(recalls).mean()),
    }
    if class_names:
        out["per_class_accuracy"] = {
            class_names[int(c)]: float(r) for c, r in zip(present, recalls, strict=True)
        }
    return out


def faithfulness_curves(
    model: nn.Module, x: Tensor, ranks: Tensor, pred: Tensor, labels: Tensor, batch_size: int
) -> dict[str, Tensor]:
    """Per-image curves ``[S, N]``: deletion (blur, mean fills), insertion, masked accuracy.

    The mean-fill run gives both the deletion curve and the masked-accuracy curve (its
    fractions include 0..0.9 step 0.1), so no forward pass is spent twice.
    """
    fr = DELETION_FRACTIONS

    def pick(probs: Tensor) -> Tensor:
        return probs.gather(2, pred.view(1, -1, 1).expand(len(fr), -1, 1)).squeeze(2)

    mean_probs = perturbation_probs(model, x, mean_colour(x), ranks, fr, batch_size)
    blurred = blur(x)
    return {
        "deletion_blur": pick(perturbation_probs(model, x, blurred, ranks, fr, batch_size)),
        "deletion_mean": pick(mean_probs),
        "insertion": pick(perturbation_probs(model, blurred, x, ranks, fr, batch_size)),
        "masked_accuracy": (mean_probs[ACC_INDEX].argmax(2) == labels.view(1, -1)).float(),
        "topk_occlusion": (mean_probs[TOPK_INDEX].argmax(2) == labels.view(1, -1)).float(),
    }


def curve_scores(curves: dict[str, Tensor]) -> dict[str, Tensor]:
    """Per-image areas: AUCs over [0, 1], masked accuracy as its mean level over 0..90%."""
    return {
        "deletion_auc_blur": auc(curves["deletion_blur"], DELETION_FRACTIONS),
        "deletion_auc_mean": auc(curves["deletion_mean"], DELETION_FRACTIONS),
        "insertion_auc": auc(curves["insertion"], DELETION_FRACTIONS),
        "masked_accuracy_area": normalised_area(curves["masked_accuracy"], ACCURACY_FRACTIONS),
        "topk_occlusion_acc": curves["topk_occlusion"].mean(dim=0),
    }


@dataclass
class Baseline:
    """What every method of one model is read against: predictions and random-order curves."""

    probs: Tensor
    pred: Tensor
    curves: dict[str, Tensor]
    scores: dict[str, Tensor]


def model_baseline(model: nn.Module, images: EvalImages, settings: EvalSettings) -> Baseline:
    probs = predict(model, images.x, settings.batch_size)
    pred = probs.argmax(1)
    n, _, h, w = images.x.shape
    ranks = random_ranks(n, h * w, seed=settings.seed)
    curves = faithfulness_curves(model, images.x, ranks, pred, images.labels, settings.batch_size)
    return Baseline(probs, pred, curves, curve_scores(curves))


def mean_curves(curves: dict[str, Tensor]) -> dict[str, list[float]]:
    return {k: v.mean(dim=1).tolist() for k, v in curves.items()}


def evaluate_method(
    model: nn.Module, images: EvalImages, base: Baseline, name: str, settings: EvalSettings
) -> tuple[dict[str, Any], Tensor]:
    """Every metric of one method: summary stats, mean curves, per-image values; and the maps."""
    method = get_method(
        name, batch_size=settings.batch_size, **settings.method_kwargs.get(name, {})
    )
    x, labels = images.x, images.labels
    sal = method.attribute(model, x, base.pred)
    curves = faithfulness_curves(
        model, x, saliency_ranks(sal), base.pred, labels, settings.batch_size
    )
    cell = stride_aggregate(sal, settings.checker_stride)
    per_image: dict[str, Tensor] = {
        "gini": gini(sal),
        "entropy": entropy(sal),
        "checkerboard": checkerboard_share(sal, settings.checker_stride),
        "gini_cell": gini(cell),  # (the cell map's lattice share is 0 by construction)
    }
    for key, value in curve_scores(curves).items():
        per_image[key] = value
        per_image[f"{key}_random"] = base.scores[key]
        per_image[f"{key}_diff"] = value - base.scores[key]
    k = min(settings.sanity_images, len(x))
    sanity = SanityResult()  # sanity_images=0 or sanity_checkpoints=0: no cascade
    if k > 0 and settings.sanity_checkpoints > 0:
        sanity = cascading_randomisation(
            model, method, x[:k], base.pred[:k], reference=sal[:k],
            n_checkpoints=settings.sanity_checkpoints, seed=settings.seed,
        )  # fmt: skip
        per_image["sanity_rank_corr"] = sanity.final
    if settings.stability_samples > 0:
        noises = noise_draws(x, settings.stability_sigma, settings.stability_samples, settings.seed)
        stab = saliency_stability(method, model, x, base.pred, sal, noises)
        per_image["stability"] = stab.rank_corr
        per_image["max_sensitivity"] = stab.max_sensitivity
    if images.masks is not None:
        per_image["relevance_mass"] = relevance_mass(sal, images.masks)
        per_image["relevance_mass_cell"] = relevance_mass(cell, images.masks)
        per_image["relevance_mass_chance"] = mask_area(images.masks)
        per_image["pointing_game"] = pointing_game(sal, images.masks)
    result = {
        "summary": {key: stats(v) for key, v in per_image.items()},
        "curves": mean_curves(curves),
        "sanity": {
            "layers": sanity.layers,
            "n_randomised": sanity.n_randomised,
            "rank_corr_mean": [stats(r)["mean"] for r in sanity.rank_corr],
        },
        "per_image": {key: v.tolist() for key, v in per_image.items()},
    }
    return result, sal


def mask_area(masks: Tensor) -> Tensor:
    """Fraction of the image inside the mask: relevance mass of a uniform map (NaN if empty)."""
    area = masks.flatten(1).float().mean(dim=1)
    return torch.where(area > 0, area, torch.full_like(area, float("nan")))
