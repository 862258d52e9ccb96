"""The annotation object model: QuPath's objects, in level-0 pixels, as immutable values.

An :class:`Annotation` is a frozen value: an edit makes a new value with the same ``id``
(``dataclasses.replace`` or :meth:`Annotation.with_changes`). That keeps undo, the
project store and the spatial index simple: an edit is a before/after pair of values
(:mod:`pathscaat.annotations.edits`), never a mutation seen by half the listeners.

Geometry is a shapely geometry in the slide's level-0 pixel frame with the origin at the
top-left of the full level-0 image (OpenSlide's frame). QuPath's frame differs only on
slides with ``openslide.bounds-x/y``; readers and writers convert at the file boundary.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from shapely.geometry.base import BaseGeometry

RGB = tuple[int, int, int]


class ObjectType(str, enum.Enum):
    """QuPath's object kinds (``objectType`` in its GeoJSON)."""

    ANNOTATION = "annotation"
    DETECTION = "detection"
    TILE = "tile"
    CELL = "cell"


class ToolShape(str, enum.Enum):
    """The drawing tool that made an object, so it edits as it was drawn."""

    RECTANGLE = "rectangle"
    ELLIPSE = "ellipse"
    POLYGON = "polygon"
    POLYLINE = "polyline"
    BRUSH = "brush"
    POINTS = "points"
    IMPORTED = "imported"
    REGION = "region"  # made from an overlay by regions_from_overlay


# QuPath's default colour when a class has none: a stable hash of the name, as its
# PathClass does for derived classes; ours keeps it reproducible across runs.
_FALLBACK_COLOURS: tuple[RGB, ...] = (
    (200, 0, 0),
    (0, 150, 0),
    (0, 0, 200),
    (230, 160, 0),
    (150, 0, 150),
    (0, 160, 160),
    (120, 80, 40),
    (255, 105, 180),
    (100, 100, 100),
    (160, 200, 0),
)


def default_colour(name: str) -> RGB:
    """A stable colour for a class name that came without one."""
    h = sum((i + 1) * ord(c) for i, c in enumerate(name))
    return _FALLBACK_COLOURS[h % len(_FALLBACK_COLOURS)]


@dataclass(frozen=True, slots=True)
class PathClass:
    """A classification: a name (derived classes as ``"Tumor: Positive"``) and its colour.

    ``names`` holds the parts of a derived class (QuPath 0.4+ writes ``names`` for
    multi-part classifications); ``name`` is them joined by ``": "``.
    """

    name: str
    colour: RGB = (200, 0, 0)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.name.split(":"))

    @classmethod
    def named(cls, name: str, colour: RGB | None = None) -> PathClass:
        return cls(name, colour if colour is not None else default_colour(name))


def _frozen_map(values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class Annotation:
    """One object on a slide (annotation, detection, tile or cell), as QuPath models it.

    - ``geometry``: shapely Polygon (holes allowed), MultiPolygon, LineString, Point or
      MultiPoint, in level-0 px.
    - ``measurements``: name -> float; NaN is allowed (QuPath writes it as ``"NaN"``).
    - ``metadata``: str -> str, QuPath's per-object metadata.
    - ``extra``: properties and GeoJSON members we do not model, kept verbatim so that a
      file read and written back loses nothing.
    - ``parent_id``: the containing object's id in a hierarchy (QuPath ``childObjects``).
    """

    geometry: BaseGeometry
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    object_type: ObjectType = ObjectType.ANNOTATION
    path_class: PathClass | None = None
    name: str | None = None
    locked: bool = False
    measurements: Mapping[str, float] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)
    tool: ToolShape = ToolShape.IMPORTED
    parent_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "measurements", _frozen_map({k: float(v) for k, v in self.measurements.items()})
        )
        object.__setattr__(
            self, "metadata", _frozen_map({str(k): str(v) for k, v in self.metadata.items()})
        )
        object.__setattr__(self, "extra", _frozen_map(self.extra))

    def with_changes(self, **changes: Any) -> Annotation:
        """A copy with ``changes`` (same id unless ``id`` is given)."""
        return dataclasses.replace(self, **changes)

    @property
    def class_name(self) -> str | None:
        return self.path_class.name if self.path_class else None

    @property
    def l0_bounds(self) -> tuple[float, float, float, float]:
        """(min x, min y, max x, max y) in level-0 px."""
        return tuple(self.geometry.bounds)  # type: ignore[return-value]

    def area_um2(self, mpp: float | None) -> float:
        """Area in µm² given the slide's µm/px (NaN when the slide has no mpp)."""
        if mpp is None:
            return math.nan
        return float(self.geometry.area) * mpp * mpp

    def __hash__(self) -> int:  # identity is the id; geometry is not hashable by value
        return hash(self.id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Annotation):
            return NotImplemented
        return (
            self.id == other.id
            and self.object_type == other.object_type
            and self.path_class == other.path_class
            and self.name == other.name
            and self.locked == other.locked
            and _same_measurements(self.measurements, other.measurements)
            and dict(self.metadata) == dict(other.metadata)
            and self.tool == other.tool
            and self.parent_id == other.parent_id
            and dict(self.extra) == dict(other.extra)
            and self.geometry.equals_exact(other.geometry, 1e-9)
        )


def _same_measurements(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    if a.keys() != b.keys():
        return False
    return all((math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a)
