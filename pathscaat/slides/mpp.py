"""Level-0 µm/px and objective power from slide properties, through a stated fallback chain.

Missing mpp is normal, so every value says where it came from (``Mpp.source``) and nothing
is guessed silently. The chain, first hit wins:

1. ``openslide``: ``openslide.mpp-x``/``-y`` (OpenSlide's own reading of the vendor metadata);
2. ``vendor:<key>``: a vendor key OpenSlide did not map (``aperio.MPP``...);
3. ``tiff-resolution``: ``tiff.XResolution``/``YResolution`` with ``tiff.ResolutionUnit``
   centimeter or inch (a unit of ``none`` carries no physical size);
4. ``objective-power``: the assumption 10 µm / objective power (20x -> 0.5 µm/px), a rule of
   thumb for common scanners, stated in ``Mpp.note``.

Backends expose their metadata under openslide property names so this one chain serves all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from pathscaat.slides.base import Mpp

MPP_PLAUSIBLE_UM = (0.01, 100.0)
"""µm/px outside this range is not a microscope scan (72 dpi defaults give ~353 µm/px)."""

OBJECTIVE_KEYS = (
    "openslide.objective-power",
    "aperio.AppMag",
    "ome.NominalMagnification",
    "hamamatsu.SourceLens",
    "leica.objective",
    "philips.PIXEL_DATA_REPRESENTATION_MAGNIFICATION",
)

# (key for x, key for y, factor that turns the stored value into µm/px)
_VENDOR_MPP_KEYS: tuple[tuple[str, str, float], ...] = (
    ("aperio.MPP", "aperio.MPP", 1.0),
    (
        "mirax.LAYER_0_LEVEL_0_SECTION.MICROMETER_PER_PIXEL_X",
        "mirax.LAYER_0_LEVEL_0_SECTION.MICROMETER_PER_PIXEL_Y",
        1.0,
    ),
    ("ventana.ScanRes", "ventana.ScanRes", 1.0),
    ("ome.PhysicalSizeX", "ome.PhysicalSizeY", 1.0),  # tifffile backend converts to µm
    ("dicom.PixelSpacing.x", "dicom.PixelSpacing.y", 1000.0),  # mm -> µm
)

_UNIT_UM = {"centimeter": 1e4, "cm": 1e4, "3": 1e4, "inch": 25400.0, "2": 25400.0}


def _to_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(str(value).strip().split()[0])
    except (ValueError, IndexError):
        return None
    return number if math.isfinite(number) else None


def _plausible(value: float | None) -> bool:
    return value is not None and MPP_PLAUSIBLE_UM[0] <= value <= MPP_PLAUSIBLE_UM[1]


def _pair(x: float | None, y: float | None, source: str, note: str = "") -> Mpp | None:
    if not _plausible(x):
        return None
    assert x is not None
    return Mpp(x, y if _plausible(y) and y is not None else x, source, note)


def mpp_from_openslide(props: Mapping[str, str]) -> Mpp | None:
    """OpenSlide's mpp; for generic TIFF it is the resolution tags, so labelled as such."""
    mpp = _pair(
        _to_float(props.get("openslide.mpp-x")),
        _to_float(props.get("openslide.mpp-y")),
        "openslide",
    )
    if mpp is not None and props.get("openslide.vendor") == "generic-tiff":
        return Mpp(mpp.x, mpp.y, "tiff-resolution", "OpenSlide read the TIFF resolution tags")
    return mpp


def mpp_from_vendor(props: Mapping[str, str]) -> Mpp | None:
    for key_x, key_y, factor in _VENDOR_MPP_KEYS:
        x = _to_float(props.get(key_x))
        if x is None:
            continue
        y = _to_float(props.get(key_y))
        mpp = _pair(x * factor, None if y is None else y * factor, f"vendor:{key_x}")
        if mpp is not None:
            return mpp
    return None


def mpp_from_tiff_resolution(props: Mapping[str, str]) -> Mpp | None:
    """``tiff.XResolution`` is pixels per unit; µm/px = µm per unit / resolution."""
    unit = str(props.get("tiff.ResolutionUnit", "")).strip().lower()
    um_per_unit = _UNIT_UM.get(unit)
    x_res = _to_float(props.get("tiff.XResolution"))
    if um_per_unit is None or not x_res or x_res <= 0:
        return None
    y_res = _to_float(props.get("tiff.YResolution"))
    y = um_per_unit / y_res if y_res and y_res > 0 else None
    return _pair(um_per_unit / x_res, y, "tiff-resolution", f"ResolutionUnit={unit}")


def objective_power(props: Mapping[str, str]) -> float | None:
    """Scanning objective magnification from the first known key, or None."""
    for key in OBJECTIVE_KEYS:
        value = _to_float(props.get(key))
        if value is not None and 0 < value <= 200:
            return value
    return None


def mpp_from_objective(props: Mapping[str, str]) -> Mpp | None:
    power = objective_power(props)
    if power is None:
        return None
    um = 10.0 / power
    note = (
        f"assumed 10 µm / {power:g}x objective = {um:.3g} µm/px; the file states no pixel "
        "size: set the real value if known"
    )
    return Mpp(um, um, "objective-power", note)


def resolve_mpp(props: Mapping[str, str]) -> Mpp | None:
    """The first mpp of the fallback chain (see module docstring), or None."""
    for step in (mpp_from_openslide, mpp_from_vendor, mpp_from_tiff_resolution, mpp_from_objective):
        mpp = step(props)
        if mpp is not None:
            return mpp
    return None
