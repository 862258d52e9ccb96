"""Annotations and edits to database values and back, losing nothing.

Geometry is WKB (exact float64 coordinates); measurements, metadata and ``extra`` are
JSON (NaN and infinities kept: Python's JSON writes them as ``NaN``/``Infinity``); the
class keeps its own colour, so an object reads back equal to the value that was stored
even where the project's class list has been recoloured since.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
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


Row = tuple[Any, ...]


def _dumps(values: Any) -> str:
    if not values:
        return "{}"
    return json.dumps(dict(values), separators=(",", ":"), sort_keys=True)


def to_rows(objects: Sequence[Annotation]) -> list[Row]:
    """The values of :data:`COLUMNS` for each object (geometries encoded in one call)."""
    if not objects:
        return []
    wkbs = shapely.to_wkb(np.array([o.geometry for o in objects], dtype=object))
    return [_row(obj, bytes(wkb)) for obj, wkb in zip(objects, wkbs, strict=True)]


def to_row(obj: Annotation) -> Row:
    return _row(obj, shapely.to_wkb(obj.geometry))


def _row(obj: Annotation, wkb: bytes) -> Row:
    cls = obj.path_class
    return (
        obj.id,
        wkb,
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


@dataclass(frozen=True)
class EncodedEdit:
    """An edit as rows, encoded once for both the annotation table and the undo log."""

    label: str
    added: list[Row]
    removed: list[Row]
    changed: list[tuple[Row, Row]]

    def payload(self) -> str:
        """The undo-log entry: the rows as JSON, WKB in hex."""

        def js(row: Row) -> list[Any]:
            return [row[0], row[1].hex(), *row[2:]]

        return json.dumps({
            "added": [js(r) for r in self.added],
            "removed": [js(r) for r in self.removed],
            "changed": [[js(b), js(a)] for b, a in self.changed],
        }, separators=(",", ":"))  # fmt: skip


def encode_edit(edit: Edit) -> EncodedEdit:
    n_add, n_rem = len(edit.added), len(edit.removed)
    rows = to_rows([*edit.added, *edit.removed, *(o for pair in edit.changed for o in pair)])
    pairs = rows[n_add + n_rem :]
    return EncodedEdit(
        edit.label,
        rows[:n_add],
        rows[n_add : n_add + n_rem],
        list(zip(pairs[0::2], pairs[1::2], strict=True)),
    )


def _loads(text: str) -> Any:
    return {} if text == "{}" else json.loads(text)


RowKey = tuple[Any, ...]


def _row_key(row: Sequence[Any], wkb_hex: bool) -> RowKey:
    return tuple(row) if wkb_hex else (row[0], bytes(row[1]).hex(), *row[2:])


def from_rows(
    rows: Iterable[Sequence[Any]],
    *,
    wkb_hex: bool = False,
    known: dict[RowKey, Annotation] | None = None,
) -> list[Annotation]:
    """Annotations from rows of :data:`COLUMNS`; geometries parsed in one vectorised call.

    ``known`` (row -> value, filled as it goes) lets the same stored value, met again in
    the undo log, be shared instead of parsed twice: values are immutable.
    """
    rows = list(rows)
    keys = [_row_key(r, wkb_hex) for r in rows] if known is not None else []
    out: list[Annotation | None] = (
        [known.get(k) for k in keys] if known is not None else [None] * len(rows)
    )
    todo = [i for i, obj in enumerate(out) if obj is None]
    wkbs = np.array([rows[i][1] if wkb_hex else bytes(rows[i][1]) for i in todo], dtype=object)
    for i, geometry in zip(todo, shapely.from_wkb(wkbs) if todo else [], strict=True):
        out[i] = obj = _annotation(rows[i], geometry)
        if known is not None:
            known[keys[i]] = obj
    return out  # type: ignore[return-value]


def _annotation(row: Sequence[Any], geometry: Any) -> Annotation:
    (obj_id, _wkb, object_type, class_name, class_colour, name, locked,
     measurements, metadata, tool, parent_id, extra) = row  # fmt: skip
    path_class = None
    if class_name is not None:
        path_class = PathClass(class_name, unpack_colour(int(class_colour or 0)))
    return Annotation(
        geometry=geometry,
        id=obj_id,
        object_type=ObjectType(object_type),
        path_class=path_class,
        name=name,
        locked=bool(locked),
        measurements=_loads(measurements),
        metadata=_loads(metadata),
        tool=ToolShape(tool),
        parent_id=parent_id,
        extra=_loads(extra),
    )


def edit_from_json(label: str, payload: str, known: dict[RowKey, Annotation] | None = None) -> Edit:
    data = json.loads(payload)
    added, removed, changed = data["added"], data["removed"], data["changed"]
    flat = from_rows(
        [*added, *removed, *(r for pair in changed for r in pair)], wkb_hex=True, known=known
    )
    n_add, n_rem = len(added), len(removed)
    pairs = flat[n_add + n_rem :]
    return Edit(
        label=label,
        added=tuple(flat[:n_add]),
        removed=tuple(flat[n_add : n_add + n_rem]),
        changed=tuple(zip(pairs[0::2], pairs[1::2], strict=True)),
    )
