"""QuPath GeoJSON properties <-> Annotation fields, every encoding QuPath has written.

Each modelled property has a decoder (any form QuPath or older versions wrote) and an
encoder (the form QuPath 0.5 writes). When a file used another form (a packed-int colour,
the pre-0.4 measurement list, ``isLocked: false``...), the raw value is kept and written
back as long as the object's value is unchanged, so reading and writing loses nothing.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pathscaat.annotations.model import RGB, ObjectType, PathClass

OMIT: Any = object()  # an encoder's "write nothing"


class FieldError(ValueError):
    """A property QuPath could not have written; the message says which and why."""


# objectType values, QuPath's and the v0.2 class names (which it wrote in the feature id).
OBJECT_TYPES: dict[str, ObjectType] = {
    "annotation": ObjectType.ANNOTATION,
    "PathAnnotationObject": ObjectType.ANNOTATION,
    "detection": ObjectType.DETECTION,
    "PathDetectionObject": ObjectType.DETECTION,
    "tile": ObjectType.TILE,
    "PathTileObject": ObjectType.TILE,
    "cell": ObjectType.CELL,
    "PathCellObject": ObjectType.CELL,
}
TYPE_KEYS = ("objectType", "object_type")


def decode_colour(raw: Any, what: str) -> RGB | None:
    """[r, g, b], [r, g, b, a] or QuPath's packed (A)RGB int -> (r, g, b)."""
    if raw is None:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return ((raw >> 16) & 255, (raw >> 8) & 255, raw & 255)
    if (
        isinstance(raw, list)
        and len(raw) in (3, 4)
        and all(isinstance(v, int | float) and 0 <= v <= 255 for v in raw)
    ):
        return (int(raw[0]), int(raw[1]), int(raw[2]))
    raise FieldError(f"{what} {raw!r} is not [r, g, b] with values 0-255 or a packed int")


@functools.lru_cache(maxsize=4096)
def _class(name: str, colour: RGB | None) -> PathClass:
    return PathClass.named(name, colour)


def decode_class(raw: Any) -> PathClass | None:
    if raw is None:
        return None
    if isinstance(raw, str) and raw:
        return PathClass.named(raw)
    if not isinstance(raw, dict):
        raise FieldError(f"classification {raw!r} is not an object with a name")
    names, name = raw.get("names"), raw.get("name")
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        name = ": ".join(names)
    if not isinstance(name, str) or not name:
        raise FieldError(f"classification {raw!r} has no name")
    colour = decode_colour(raw.get("color", raw.get("colorRGB")), "classification colour")
    return _class(name, colour)  # files repeat a few classes 100,000 times


def encode_class(value: PathClass | None) -> Any:
    if value is None:
        return OMIT
    names = value.names
    key: dict[str, Any] = {"names": list(names)} if len(names) > 1 else {"name": value.name}
    return {**key, "color": list(value.colour)}


def _number(name: str, raw: Any) -> float:
    if raw is None:
        return math.nan
    if isinstance(raw, bool):
        raise FieldError(f"measurement {name!r} is {raw!r}, not a number")
    try:
        return float(raw)  # numbers and "NaN", "Infinity", "-Infinity"
    except (TypeError, ValueError):
        raise FieldError(f"measurement {name!r} is {raw!r}, not a number") from None


def decode_measurements(raw: Any) -> dict[str, float]:
    """A name -> value map (0.4+) or the pre-0.4 list of {name, value}."""
    if isinstance(raw, dict):
        return {str(k): _number(str(k), v) for k, v in raw.items()}
    if isinstance(raw, list):
        out = {}
        for item in raw:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise FieldError(f"measurement list entry {item!r} is not {{name, value}}")
            out[item["name"]] = _number(item["name"], item.get("value"))
        return out
    raise FieldError(f"measurements {raw!r} are neither a map nor a list")


def _encode_number(v: float) -> Any:
    if math.isfinite(v):
        return v
    return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")


def encode_measurements(value: Mapping[str, float]) -> Any:
    return {k: _encode_number(v) for k, v in value.items()} if value else OMIT


def same_measurements(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    if a.keys() != b.keys():
        return False
    return all(a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)


def decode_metadata(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise FieldError(f"metadata {raw!r} is not a map of names to text")
    return {str(k): v if isinstance(v, str) else str(v) for k, v in raw.items()}


def _decode_name(raw: Any) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    return str(raw)


def _decode_bool(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise FieldError(f"isLocked {raw!r} is not true or false")
    return raw


@dataclass(frozen=True)
class Field:
    """One modelled property: its key, the Annotation attribute, and how to code it."""

    key: str
    attr: str
    decode: Callable[[Any], Any]
    encode: Callable[[Any], Any]
    same: Callable[[Any, Any], bool] = lambda a, b: bool(a == b)


FIELDS: tuple[Field, ...] = (
    Field("name", "name", _decode_name, lambda v: OMIT if v is None else v),
    Field("classification", "path_class", decode_class, encode_class),
    Field("isLocked", "locked", _decode_bool, lambda v: True if v else OMIT),
    Field(
        "measurements", "measurements", decode_measurements, encode_measurements, same_measurements
    ),
    Field(
        "metadata",
        "metadata",
        decode_metadata,
        lambda v: dict(v) if v else OMIT,
        lambda a, b: dict(a) == dict(b),
    ),
)


def decode_fields(
    props: dict[str, Any], raw_out: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    """Pop the modelled properties from ``props``; returns Annotation keyword arguments.

    Raw values whose canonical re-encoding would differ go into ``raw_out``. A property
    that cannot be decoded stays in ``props`` (kept verbatim) with a line in ``notes``.
    """
    kwargs: dict[str, Any] = {}
    for fld in FIELDS:
        if fld.key not in props:
            continue
        try:
            value = fld.decode(props[fld.key])
        except FieldError as exc:
            notes.append(f"{exc}; kept the object and that property as it was")
            continue
        raw = props.pop(fld.key)
        kwargs[fld.attr] = value
        if fld.encode(value) != raw:
            raw_out[fld.key] = raw
    return kwargs


def encode_fields(values: Mapping[str, Any], raw: Mapping[str, Any], out: dict[str, Any]) -> None:
    """Write the modelled properties of ``values`` (attr -> value) into ``out``."""
    for fld in FIELDS:
        value = values[fld.attr]
        if fld.key in raw:
            try:
                unchanged = fld.same(fld.decode(raw[fld.key]), value)
            except FieldError:
                unchanged = False
            if unchanged:
                out[fld.key] = raw[fld.key]
                continue
        encoded = fld.encode(value)
        if encoded is not OMIT:
            out[fld.key] = encoded
