"""Annotations and edits to database values and back, losing nothing.

Geometry is WKB (exact float64 coordinates); measurements, metadata and ``extra`` are
JSON (NaN and infinities kept: Python's JSON writes them as ``NaN``/``Infinity``); the
class keeps its own colour, so an object reads back equal to the value that was stored
even where the project's class list has been recoloured since.
"""

from __future__ import annotations

import json
from typing import Any

import shapely

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import RGB, Annotation, ObjectType, PathClass, ToolShape

# Column order of an annotation row, after (slide_id, seq) in the table.
COLUMNS = (
    "id", "geometry", "object_type", "class_name", "class_colour", "name", "locked",
    "measurements", "metadata", "tool", "parent_id", "extra",
)  # fmt: skip
SELECT_COLUMNS = ", ".join(COLUMNS)


def pack_colour(colour: RGB) -> int:
    r, g, b = (int(c) & 0xFF for c in colour)
    return (r << 16) | (g << 8) | b


def unpack_colour(packed: int) -> RGB:
    return ((packed >> 16) & 0xFF, (packed >> 8) & 0xFF, packed & 0xFF)


def _dumps(values: Any) -> str:
    return json.dumps(dict(values), separators=(",", ":"), sort_keys=True)


def to_row(obj: Annotation) -> tuple[Any, ...]:
    """The values of :data:`COLUMNS` for ``obj``."""
    cls = obj.path_class
    return (
        obj.id,
        shapely.to_wkb(obj.geometry),
        obj.object_type.value,
        cls.name if cls else None,
        pack_colour(cls.colour) if cls else None,
        obj.name,
        int(obj.locked),
        _dumps(obj.measurements),
        _dumps(obj.metadata),
        obj.tool.value,
        obj.parent_id,
        _dumps(obj.extra),
    )


def from_row(row: tuple[Any, ...] | Any) -> Annotation:
    """An :class:`Annotation` from the values of :data:`COLUMNS`."""
    (obj_id, wkb, object_type, class_name, class_colour, name, locked,
     measurements, metadata, tool, parent_id, extra) = row  # fmt: skip
    path_class = None
    if class_name is not None:
        path_class = PathClass(class_name, unpack_colour(int(class_colour or 0)))
    return Annotation(
        geometry=shapely.from_wkb(bytes(wkb)),
        id=obj_id,
        object_type=ObjectType(object_type),
        path_class=path_class,
        name=name,
        locked=bool(locked),
        measurements=json.loads(measurements),
        metadata=json.loads(metadata),
        tool=ToolShape(tool),
        parent_id=parent_id,
        extra=json.loads(extra),
    )


def _obj_json(obj: Annotation) -> list[Any]:
    row = list(to_row(obj))
    row[1] = row[1].hex()
    return row


def _obj_from_json(values: list[Any]) -> Annotation:
    row = list(values)
    row[1] = bytes.fromhex(row[1])
    return from_row(tuple(row))


def edit_to_json(edit: Edit) -> str:
    """One history entry: the edit's objects as rows (WKB in hex)."""
    return json.dumps({
        "added": [_obj_json(o) for o in edit.added],
        "removed": [_obj_json(o) for o in edit.removed],
        "changed": [[_obj_json(b), _obj_json(a)] for b, a in edit.changed],
    }, separators=(",", ":"))  # fmt: skip


def edit_from_json(label: str, payload: str) -> Edit:
    data = json.loads(payload)
    return Edit(
        label=label,
        added=tuple(_obj_from_json(v) for v in data["added"]),
        removed=tuple(_obj_from_json(v) for v in data["removed"]),
        changed=tuple((_obj_from_json(b), _obj_from_json(a)) for b, a in data["changed"]),
    )
