"""Saliency-quality metrics (evaluation.md): sparseness, faithfulness, sanity, localisation,
robustness (alignment, stability, top-k occlusion) and the stride checkerboard.

Every function is batched over images and takes maps ``[B, H, W]`` as the methods give
them; each is cross-checked against Quantus or RISE's definition in the tests.
"""

from pathscaat.saliency.metrics.faithfulness import (
    ACCURACY_FRACTIONS,
    DELETION_FRACTIONS,
    TOPK_FRACTIONS,
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
from pathscaat.saliency.metrics.robustness import (
    Stability,
    input_gradient_alignment,
    noise_draws,
    saliency_stability,
)
from pathscaat.saliency.metrics.sanity import SanityResult, cascading_randomisation, spearman
from pathscaat.saliency.metrics.sparseness import entropy, gini
from pathscaat.saliency.metrics.spectral import checkerboard_share, lattice_mask, stride_aggregate

__all__ = [
    "ACCURACY_FRACTIONS",
    "DELETION_FRACTIONS",
    "TOPK_FRACTIONS",
    "SanityResult",
    "Stability",
    "auc",
    "blur",
    "cascading_randomisation",
    "checkerboard_share",
    "deletion_curve",
    "entropy",
    "gini",
    "input_gradient_alignment",
    "insertion_curve",
    "lattice_mask",
    "masked_accuracy_curve",
    "mean_colour",
    "noise_draws",
    "normalised_area",
    "perturbation_probs",
    "pointing_game",
    "random_ranks",
    "relevance_mass",
    "saliency_ranks",
    "saliency_stability",
    "spearman",
    "stride_aggregate",
]
