"""Does a slide look like the data a model was trained on? (brightfield vs fluorescence)

Every model PathSCAAT trains learns from brightfield patches (H&E and H&E-like synthetic
tissue); a checkpoint records no stain of its own. A fluorescence slide (dark background,
bright signal, e.g. DAPI) is a different kind of image altogether, so the model's output on
it means little: say so before the run, not after a pathologist has read the heatmaps.
"""

from __future__ import annotations

from pathlib import Path

from pathscaat.slides import open_slide
from pathscaat.tiling.tissue import detect_tissue

TRAINED_ON = "brightfield"


def slide_stain(slide_path: str | Path, slide_mpp: float | None = None) -> str:
    """``brightfield`` or ``darkfield``, as tissue detection judges the slide's thumbnail."""
    with open_slide(slide_path, mpp_override=slide_mpp) as slide:
        return detect_tissue(slide).method


def stain_warning(slide_path: str | Path, meta: object, stain: str) -> str | None:
    """The warning for a model run on a slide of another kind, or None when they match."""
    trained_on = str(getattr(meta, "stain", None) or TRAINED_ON)
    if stain == trained_on:
        return None
    kind = "a fluorescence (dark-field) scan" if stain == "darkfield" else f"a {stain} scan"
    return (
        f"{slide_path} looks like {kind}, but the model was trained on {trained_on} "
        "(H&E-like) patches: the stain differs from its training data, so its classes and "
        "saliency on this slide are unlikely to mean anything"
    )
