"""When a saliency claim about a model counts: the one accuracy rule of the protocol.

docs/evaluation.md: a model whose accuracy is more than 1 point below the best model of the
comparison earns no saliency claim (a sparser map bought with accuracy is no gain). The
report's accuracy check and the demo's printed reading both call :func:`below_best`, so the
two can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping

ACCURACY_TOLERANCE = 0.01
"""Accuracy (as a fraction) a model may lose against the best before its claims stop counting."""

_ROUNDING = 1e-9  # exactly one point below still counts as "within 1 point"


def below_best(
    accuracies: Mapping[str, float], tolerance: float = ACCURACY_TOLERANCE
) -> dict[str, float]:
    """``{name: gap}`` of the models more than ``tolerance`` below the best (gap > 0)."""
    if not accuracies:
        return {}
    best = max(accuracies.values())
    return {
        name: best - acc for name, acc in accuracies.items() if acc < best - tolerance - _ROUNDING
    }


def claim_note(name: str, accuracy: float, best: float) -> str:
    """The sentence that says a model's saliency claims do not count, and why."""
    return (
        f"{name}: accuracy {accuracy:.3f} is more than {ACCURACY_TOLERANCE * 100:g} point "
        f"below the best ({best:.3f}); no saliency claim about it counts."
    )
