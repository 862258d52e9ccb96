"""The names of the measurements an overlay gives an annotation, in one place.

Regions made from an overlay and annotations measured from one carry the same names
(QuPath shows them as its own measurements): ``Mean prob <class>`` and ``Max prob
<class>`` for each class probability, ``Mean saliency`` and ``Saliency share``; with
several overlay sets each name starts with its set's label (``kather: Mean prob TUM``).
Light on purpose: the app's tables read these names without the rasters' libraries.
"""

from __future__ import annotations

AREA = "Area µm^2"
SALIENCY_SHARE = "Saliency share"
SALIENCY_MEAN = "Mean saliency"
MEAN_PROB = "Mean prob "
MAX_PROB = "Max prob "


def is_overlay_measurement(name: str) -> bool:
    """True for a plain name an overlay gives (no set label)."""
    return name in (SALIENCY_MEAN, SALIENCY_SHARE) or name.startswith((MEAN_PROB, MAX_PROB))


def split_name(name: str) -> tuple[str, str] | None:
    """(overlay set label, plain name) of an overlay measurement's name, else None:
    ``"kather: Mean prob Tumor"`` -> ``("kather", "Mean prob Tumor")``, ``"Mean saliency"``
    -> ``("", "Mean saliency")``, ``"Score"`` -> None."""
    if is_overlay_measurement(name):
        return "", name
    label, sep, rest = name.partition(": ")
    return (label, rest) if sep and is_overlay_measurement(rest) else None
