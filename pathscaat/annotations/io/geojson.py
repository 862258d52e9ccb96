"""QuPath GeoJSON, read and written losslessly.

Read: a FeatureCollection, a bare array of Features or one Feature; ``objectType`` (or the
older ``object_type``/``type``, or v0.2's class name in ``id``); classification, locked,
measurements, metadata, ``isEllipse``; holes, MultiPolygon; ``childObjects`` nested under a
feature become objects with ``parent_id``. UUID ids are kept; a missing id gets a new
UUID; a non-UUID or duplicate id gets a new UUID and the original is kept and written back.

What we do not model is kept in ``Annotation.extra["geojson"]``: ``properties`` (unknown
properties, e.g. QuPath's object ``color``), ``members`` (unknown Feature members, e.g.
``nucleusGeometry``) and ``raw`` (the file's own encoding of a modelled field, written back
while the value is unchanged). So a file read and written back is equal as JSON.

Frame: coordinates are in QuPath's frame; ``l0_offset`` (openslide.bounds-x/y) is added on
read and subtracted on write. Files we write record it in a top-level ``pathscaat``
member, which a later read uses when it is given no offset.
"""

from __future__ import annotations

import json
import math
import re
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pathscaat.annotations.io import shapes
from pathscaat.annotations.io.base import (
    FRAME_QUPATH,
    AnnotationFileError,
    ReadResult,
    bulk_objects,
    file_error,
    read_text,
    write_atomic,
)
from pathscaat.annotations.io.geojson_fields import (
    OBJECT_TYPES,
    TYPE_KEYS,
    FieldError,
    decode_fields,
    encode_fields,
)
from pathscaat.annotations.io.geojson_geometry import (
    GEOMETRY_TYPES,
    GeometryError,
    Offset,
    geometry_from_json,
    geometry_to_json,
)
from pathscaat.annotations.model import Annotation, ObjectType, ToolShape

EXTRA_KEY = "geojson"
FRAME_MEMBER = "pathscaat"
_TOOL_PROPERTY = "pathscaatTool"  # our drawing tool, so a round trip edits as drawn
_KNOWN_TYPES = "annotation, detection, tile or cell"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class _FeatureError(ValueError):
    pass


def read_geojson(path: str | Path, *, l0_offset: Offset = (0.0, 0.0)) -> ReadResult:
    """Read a QuPath GeoJSON file into level-0 annotations (see the module docstring)."""
    text, replaced = _without_lone_surrogates(read_text(path))
    with bulk_objects():
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise file_error(
                path,
                f"line {exc.lineno}, column {exc.colno}",
                f"not valid JSON ({exc.msg}); export the file again",
            ) from None
        except RecursionError:  # the C parser recurses once per nested array or object
            raise file_error(
                path,
                None,
                "nested too deeply (arrays or objects inside one another more than about "
                f"{sys.getrecursionlimit()} levels); no annotation tool writes this, "
                "so the file is damaged or not an annotation export",
            ) from None
        result = parse_geojson(data, path, l0_offset=l0_offset)
    if replaced:
        result.skipped.append(
            f"{replaced} lone surrogate escape(s) (\\ud800-\\udfff, half a character that "
            "no text file can hold) replaced by U+FFFD"
        )
    return result


_LONE_SURROGATE = re.compile(
    r"(?<!\\)\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})(?<!\\)\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _without_lone_surrogates(text: str) -> tuple[str, int]:
    """JSON text with each escaped lone surrogate made U+FFFD (UTF-8, SQLite and Qt cannot
    hold one); surrogate pairs (an emoji) are kept."""
    if "\\ud" not in text and "\\uD" not in text:
        return text, 0
    return _LONE_SURROGATE.subn(r"\\ufffd", text)


def parse_geojson(data: Any, source: str | Path, *, l0_offset: Offset = (0.0, 0.0)) -> ReadResult:
    """Annotations from already-parsed GeoJSON; ``source`` names it in errors."""
    features = _features(data, source)
    offset = _offset(data, l0_offset)
    result = ReadResult([], [], FRAME_QUPATH, offset)
    seen: set[str] = set()
    stack: list[tuple[Any, str, str | None]] = [
        (f, f"feature {i}", None) for i, f in reversed(list(enumerate(features)))
    ]
    while stack:
        feature, where, parent_id = stack.pop()
        try:
            ann, children, notes, repaired = _decode_feature(feature, offset, seen, parent_id)
        except _FeatureError as exc:
            result.skipped.append(f"{where}: {exc}; skipped it and its child objects")
            continue
        result.skipped.extend(f"{where}: {note}" for note in notes)
        if repaired:
            result.repaired.append(f"{where}: {repaired}")
        result.annotations.append(ann)
        stack.extend(
            (c, f"{where} child {j}", ann.id) for j, c in reversed(list(enumerate(children)))
        )
    if result.skipped and not result.annotations:
        more = f" ({len(result.skipped) - 1} more like it)" if len(result.skipped) > 1 else ""
        first = result.skipped[0].removesuffix("; skipped it and its child objects")
        raise AnnotationFileError(f"{source}: {first}{more}; no object could be read")
    return result


def _features(data: Any, source: str | Path) -> list[Any]:
    if isinstance(data, list):
        return data
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise file_error(source, None, "a FeatureCollection without a 'features' list")
        return features
    if kind == "Feature" or kind in GEOMETRY_TYPES:
        return [data]
    what = f"type {kind!r}" if isinstance(data, dict) else f"a JSON {type(data).__name__}"
    raise file_error(
        source,
        None,
        f"not GeoJSON ({what}); expected a FeatureCollection, an "
        "array of Features or a Feature, as QuPath exports them",
    )


def _offset(data: Any, l0_offset: Offset) -> Offset:
    if tuple(l0_offset) != (0.0, 0.0) or not isinstance(data, dict):
        return (float(l0_offset[0]), float(l0_offset[1]))
    recorded = data.get(FRAME_MEMBER)
    off = recorded.get("l0_offset") if isinstance(recorded, dict) else None
    if isinstance(off, list) and len(off) == 2 and all(isinstance(v, int | float) for v in off):
        return (float(off[0]), float(off[1]))
    return (0.0, 0.0)


def _object_type(props: dict[str, Any], member_id: Any, raw: dict[str, Any]) -> ObjectType:
    for key in TYPE_KEYS:
        if key in props:
            value = props.pop(key)
            found = OBJECT_TYPES.get(value) if isinstance(value, str) else None
            if found is None:
                raise _FeatureError(f"unknown {key} {value!r} (expected {_KNOWN_TYPES})")
            if key != "objectType" or value != found.value:
                raw["objectType"] = [key, value]
            return found
    alias = props.get("type")
    if isinstance(alias, str) and alias in OBJECT_TYPES:
        del props["type"]
        raw["objectType"] = ["type", alias]
        return OBJECT_TYPES[alias]
    if isinstance(member_id, str) and member_id in OBJECT_TYPES:  # QuPath v0.2
        raw["objectType"] = ["id", member_id]
        return OBJECT_TYPES[member_id]
    raw["objectType"] = ["", "annotation"]  # no property: QuPath's default
    return ObjectType.ANNOTATION


def _is_uuid(text: str) -> bool:
    if _UUID.fullmatch(text):
        return True
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _object_id(member_id: Any, seen: set[str], raw: dict[str, Any]) -> str:
    if isinstance(member_id, str) and member_id not in seen and _is_uuid(member_id):
        seen.add(member_id)
        return member_id
    new_id = str(uuid.uuid4())
    seen.add(new_id)
    if member_id is not None:
        raw["id"] = member_id
    return new_id


def _tool(props: dict[str, Any], raw: dict[str, Any]) -> ToolShape:
    tool = ToolShape.IMPORTED
    name = props.pop(_TOOL_PROPERTY, None)
    if isinstance(name, str) and name in ToolShape._value2member_map_:
        tool = ToolShape(name)
    if "isEllipse" in props:
        ellipse = props.pop("isEllipse")
        if ellipse is True:
            return ToolShape.ELLIPSE
        raw["isEllipse"] = ellipse
    return tool


def _split_feature(feature: Any) -> tuple[Any, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(geometry, unknown members, properties, raw) of a Feature, or _FeatureError."""
    if not isinstance(feature, dict):
        raise _FeatureError(f"is a JSON {type(feature).__name__}, not a GeoJSON Feature")
    kind = feature.get("type")
    if kind in GEOMETRY_TYPES:
        feature = {"type": "Feature", "geometry": feature}
    elif kind != "Feature" and not (kind is None and "geometry" in feature):
        raise _FeatureError(f"has type {kind!r}, expected 'Feature'")
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise _FeatureError("its 'properties' is not a JSON object")
    if feature.get("geometry") is None:
        raise _FeatureError("has no geometry")
    raw: dict[str, Any] = {}
    if feature.get("properties") is None:  # absent or null: written back as it was
        raw["properties"] = "null" if "properties" in feature else "absent"
    members = {k: v for k, v in feature.items() if k not in ("type", "geometry", "properties")}
    return feature["geometry"], members, dict(props), raw


def _decode_feature(
    feature: Any, offset: Offset, seen: set[str], parent_id: str | None
) -> tuple[Annotation, list[Any], list[str], str | None]:
    """The annotation, its child Features, notes on properties kept undecoded and, for an
    invalid shape that was repaired, why it was invalid."""
    geometry_json, members, props, raw = _split_feature(feature)
    children, raw_children = _children(members, props)
    if raw_children:
        raw["childObjects"] = raw_children
    notes: list[str] = []
    try:
        geometry, repaired = shapes.clean(geometry_from_json(geometry_json, offset))
        kwargs = decode_fields(props, raw, notes)
        object_type = _object_type(props, members.get("id"), raw)
    except (GeometryError, FieldError, ValueError) as exc:
        raise _FeatureError(str(exc)) from None
    obj_id = _object_id(members.pop("id", None), seen, raw)
    tool = _tool(props, raw)
    geo = {k: v for k, v in (("properties", props), ("members", members), ("raw", raw)) if v}
    ann = Annotation(
        geometry,
        id=obj_id,
        object_type=object_type,
        tool=tool,
        parent_id=parent_id,
        extra={EXTRA_KEY: geo} if geo else {},
        **kwargs,
    )
    return ann, children, notes, repaired


def _children(members: dict[str, Any], props: dict[str, Any]) -> tuple[list[Any], str]:
    """``childObjects`` as a Feature member or a property; the place is kept for writing."""
    for place, holder in (("members", members), ("properties", props)):
        value = holder.get("childObjects")
        if isinstance(value, list) and value:
            del holder["childObjects"]
            return value, "" if place == "members" else "properties"
    return [], ""


# -- writing ------------------------------------------------------------------------------


def feature_of(ann: Annotation, l0_offset: Offset = (0.0, 0.0)) -> dict[str, Any]:
    """The QuPath GeoJSON Feature of one annotation (without its child objects)."""
    geo = ann.extra.get(EXTRA_KEY) or {}
    raw: dict[str, Any] = geo.get("raw") or {}
    feature: dict[str, Any] = {"type": "Feature", "id": raw.get("id", ann.id)}
    try:
        feature["geometry"] = geometry_to_json(ann.geometry, l0_offset)
    except GeometryError as exc:
        raise AnnotationFileError(f"object {ann.id}: {exc}") from None
    props: dict[str, Any] = {}
    key, value = raw.get("objectType") or ("objectType", ann.object_type.value)
    if OBJECT_TYPES.get(value) is not ann.object_type:
        key, value = "objectType", ann.object_type.value
    if key not in ("", "id"):  # "": the file had no type; "id": QuPath v0.2 wrote it there
        props[key] = value
    encode_fields(
        {
            "name": ann.name,
            "path_class": ann.path_class,
            "locked": ann.locked,
            "measurements": ann.measurements,
            "metadata": ann.metadata,
        },
        raw,
        props,
    )
    if ann.tool is ToolShape.ELLIPSE:
        props["isEllipse"] = True
    elif "isEllipse" in raw:
        props["isEllipse"] = raw["isEllipse"]
    if ann.tool not in (ToolShape.IMPORTED, ToolShape.ELLIPSE):
        props[_TOOL_PROPERTY] = ann.tool.value
    props.update((k, v) for k, v in (geo.get("properties") or {}).items() if k not in props)
    empty_as = raw.get("properties") if not props else None
    if empty_as != "absent":
        feature["properties"] = None if empty_as == "null" else props
    feature.update((k, v) for k, v in (geo.get("members") or {}).items() if k not in feature)
    return feature


def features_of(annotations: Iterable[Annotation], l0_offset: Offset = (0.0, 0.0)) -> list[Any]:
    """Top-level Features; objects whose parent is written too nest in its childObjects."""
    objs = {a.id: a for a in annotations}
    features = {obj_id: feature_of(a, l0_offset) for obj_id, a in objs.items()}
    top: list[Any] = []
    for ann in objs.values():
        pid = ann.parent_id
        parent = features.get(pid) if pid is not None and pid != ann.id else None
        if parent is None or pid is None:
            top.append(features[ann.id])
            continue
        parent_geo = objs[pid].extra.get(EXTRA_KEY) or {}
        in_props = (parent_geo.get("raw") or {}).get("childObjects") == "properties"
        holder = parent["properties"] if in_props else parent
        holder.setdefault("childObjects", []).append(features[ann.id])
    return top


def write_geojson(
    path: str | Path, annotations: Iterable[Annotation], *, l0_offset: Offset = (0.0, 0.0)
) -> None:
    """Write a QuPath GeoJSON FeatureCollection, recording its frame."""
    offset = (float(l0_offset[0]), float(l0_offset[1]))
    with bulk_objects():
        doc = {
            "type": "FeatureCollection",
            "features": features_of(annotations, offset),
            FRAME_MEMBER: {"frame": FRAME_QUPATH, "l0_offset": list(offset), "version": 1},
        }
        try:
            text = json.dumps(doc, ensure_ascii=False, allow_nan=False)
        except ValueError:  # a NaN kept verbatim in a property: strict JSON has none
            text = json.dumps(_finite(doc), ensure_ascii=False, allow_nan=False)
        except RecursionError:
            raise AnnotationFileError(
                f"{path}: the objects nest too deeply to write as JSON "
                "(child objects or properties inside one another); nothing was written"
            ) from None
    write_atomic(path, text)


def _finite(doc: Any) -> Any:
    """``doc`` with each NaN or infinite number written as QuPath's "NaN"/"Infinity" text
    (a copy, made without recursion)."""

    def fix(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        if isinstance(value, dict):
            copy: Any = dict(value)
        elif isinstance(value, list):
            copy = list(value)
        else:
            return value
        stack.append(copy)
        return copy

    stack: list[Any] = []
    out = fix(doc)
    while stack:
        holder = stack.pop()
        keys = holder.keys() if isinstance(holder, dict) else range(len(holder))
        for key in keys:
            holder[key] = fix(holder[key])
    return out
