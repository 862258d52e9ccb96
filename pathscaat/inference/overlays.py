"""The overlay set a slide inference writes: a manifest plus pyramidal TIFF rasters.

``OUT/overlays.json`` (schema 1) lists every raster with its scale relative to the
slide's level 0, so any viewer can place it::

    {"schema": 1, "slide": "/abs/slide.svs", "slide_dims": [w, h],
     "checkpoint": "/abs/model.json", "classes": ["a", "b"],
     "tiles_csv": "tiles.csv",
     "overlays": [{"name": "saliency", "kind": "saliency", "class_name": null,
                   "file": "saliency.tif", "l0_per_px": 4.0,
                   "value_min": 0.0, "value_max": 1.0}, ...],
     "scale": {"slide_mpp": 0.499, "slide_mpp_source": "metadata", "model_mpp": 0.773,
               "read_mpp": 0.773, "field_um": 74.2, "text": "tiles of 74 µm ...", ...}}

A raster stores uint8 codes; code ``c`` means ``value_min + c/255*(value_max-value_min)``.
``kind`` is ``saliency``, ``probability`` (one per class) or ``tissue``. ``unit`` and
``meaning`` (optional, empty in older sets) say what a value is, for the legends: a run
writes three saliency rasters (see :mod:`pathscaat.inference.saliency_layers`), the
first (``saliency``) in percentiles of the slide's tissue. ``scale`` (absent in
sets written before it existed) is :meth:`pathscaat.inference.scale.RunScale.to_dict`: the
scale the tiles were read at and where the slide's µm/px came from.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from pathscaat.progress import PathscaatError

MANIFEST_NAME = "overlays.json"

UNIT_PERCENTILE = "percentile of this slide's tissue"
UNIT_TILE = "fraction of the tile's own 99th percentile"
UNIT_ABS = "gradient units (|d logit / d pixel|)"
"""Units of the three saliency rasters (:mod:`pathscaat.inference.saliency_layers`)."""
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class OverlayInfo:
    """One raster of an overlay set; ``l0_per_px`` is level-0 pixels per raster pixel."""

    name: str
    kind: str
    file: str
    l0_per_px: float
    class_name: str | None = None
    value_min: float = 0.0
    value_max: float = 1.0
    unit: str = ""  # what a value means, e.g. "percentile of this slide's tissue"
    meaning: str = ""  # one sentence for the legend ("where the model looks ...")


@dataclass
class OverlaySet:
    """The manifest of one inference output folder (``root``)."""

    root: Path
    slide: str
    slide_dims: tuple[int, int]
    classes: list[str]
    overlays: list[OverlayInfo] = field(default_factory=list)
    checkpoint: str | None = None
    tiles_csv: str | None = None
    scale: dict[str, Any] | None = None

    @property
    def scale_text(self) -> str:
        """The run's scale in one sentence, for legends and reports."""
        if not self.scale:
            return "scale not recorded (this run predates scale records)"
        return str(self.scale.get("text") or "scale not recorded")

    def path_of(self, info: OverlayInfo) -> Path:
        return self.root / info.file

    def get(self, name: str) -> OverlayInfo:
        for info in self.overlays:
            if info.name == name:
                return info
        raise KeyError(name)

    def save(self) -> Path:
        """Write the manifest atomically (temp file + rename)."""
        data: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "slide": self.slide,
            "slide_dims": list(self.slide_dims),
            "checkpoint": self.checkpoint,
            "classes": self.classes,
            "tiles_csv": self.tiles_csv,
            "overlays": [asdict(o) for o in self.overlays],
        }
        if self.scale is not None:
            data["scale"] = self.scale
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / MANIFEST_NAME
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(target)
        return target

    @classmethod
    def load(cls, folder: str | Path) -> OverlaySet:
        root = Path(folder)
        path = root / MANIFEST_NAME if root.is_dir() else root
        root = path.parent
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise PathscaatError(
                f"{path}: no overlay manifest here. Choose the output folder of "
                "'pathscaat infer' (it holds overlays.json)."
            ) from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PathscaatError(
                f"{path}: the overlay manifest is damaged ({exc}). Run the inference again."
            ) from exc
        if not isinstance(data, dict):
            raise PathscaatError(
                f"{path}: not an overlay manifest (a JSON {type(data).__name__}). "
                "Choose the output folder of 'pathscaat infer'."
            )
        if data.get("schema") != SCHEMA_VERSION:
            raise PathscaatError(
                f"{path}: unknown overlay manifest schema {data.get('schema')!r}; "
                "this PathSCAAT reads schema 1. Update PathSCAAT or rerun the inference."
            )
        try:
            overlays = [_checked(OverlayInfo(**o), path) for o in data["overlays"]]
            return cls(
                root=root,
                slide=str(data["slide"]),
                slide_dims=(int(data["slide_dims"][0]), int(data["slide_dims"][1])),
                classes=[str(c) for c in data["classes"]],
                overlays=overlays,
                checkpoint=data.get("checkpoint"),
                tiles_csv=data.get("tiles_csv"),
                scale=data["scale"] if isinstance(data.get("scale"), dict) else None,
            )
        except (KeyError, TypeError, IndexError, ValueError, OverflowError) as exc:
            raise PathscaatError(
                f"{path}: the overlay manifest lacks a field ({exc}). Run the inference again."
            ) from exc


MAX_L0_PER_PX = 1e5
"""Level-0 px per raster px above this is no overlay (a raster pixel larger than slides)."""


def _checked(info: OverlayInfo, path: Path) -> OverlayInfo:
    """``info`` with its numbers checked: ``l0_per_px`` finite, positive and sane, the value
    range finite and ordered, the file a name; PathscaatError names the field."""
    name = info.name

    def number(field_name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PathscaatError(
                f"{path}: overlay {name!r} has {field_name} {value!r}, not a number; "
                "the manifest was edited or damaged: run the inference again"
            )
        if not math.isfinite(value):
            raise PathscaatError(
                f"{path}: overlay {name!r} has {field_name} {value!r}; run the inference again"
            )
        return float(value)

    scale = number("l0_per_px", info.l0_per_px)
    if not 0.0 < scale <= MAX_L0_PER_PX:
        raise PathscaatError(
            f"{path}: overlay {name!r} has l0_per_px {info.l0_per_px!r} (level-0 px per raster "
            f"px must be above 0 and at most {MAX_L0_PER_PX:g}); the manifest was edited or "
            "damaged: run the inference again"
        )
    low, high = number("value_min", info.value_min), number("value_max", info.value_max)
    if high < low:
        raise PathscaatError(
            f"{path}: overlay {name!r} has value range {low:g} to {high:g}; run the "
            "inference again"
        )
    if not isinstance(info.file, str) or not info.file:
        raise PathscaatError(f"{path}: overlay {name!r} names no file; run the inference again")
    return replace(info, l0_per_px=scale, value_min=low, value_max=high)  # unit, meaning kept
