"""Saliency-quality metrics (evaluation.md): sparseness, faithfulness, sanity, localisation.

Every function is batched over images and takes maps ``[B, H, W]`` as the methods give
them; each is cross-checked against Quantus or RISE's definition in the tests.
"""

from pathscaat.saliency.metrics.faithfulness import (
    ACCURACY_FRACTIONS,
    DELETION_FRACTIONS,
    auc,
    blur,
    deletion_curve,
    insertion_curve,
    masked_accuracy_curve,
    mean_colour,
    normalised_area,
    perturbation_probs,
    random_ranks,
    saliency_ranks,
)
from pathscaat.saliency.metrics.localisation import pointing_game, relevance_mass
from pathscaat.saliency.metrics.sanity import SanityResult, cascading_randomisation, spearman
from pathscaat.saliency.metrics.sparseness import entropy, gini

__all__ = [
    "ACCURACY_FRACTIONS",
    "DELETION_FRACTIONS",
    "SanityResult",
    "auc",
    "blur",
    "cascading_randomisation",
    "deletion_curve",
    "entropy",
    "gini",
    "insertion_curve",
    "masked_accuracy_curve",
    "mean_colour",
    "normalised_area",
    "perturbation_probs",
    "pointing_game",
    "random_ranks",
    "relevance_mass",
    "saliency_ranks",
    "spearman",
]
