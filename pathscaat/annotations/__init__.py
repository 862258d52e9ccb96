"""Annotations: QuPath-style objects in level-0 px, their collection, edits and file formats.

Contract (see docs/DEVELOPING.md):
- ``model``: ``Annotation`` (frozen value), ``PathClass``, ``ObjectType``, ``ToolShape``.
- ``edits``: ``Edit`` (before/after diff; ``inverse()`` is its undo).
- ``collection``: ``AnnotationCollection`` (spatial index, change events, undo/redo).
- ``io``: ``read_annotations(path, ...) -> ReadResult``, ``write_annotations(path, objs, ...)``.

The names below are importable from this package; modules load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Annotation": "model",
    "PathClass": "model",
    "ObjectType": "model",
    "ToolShape": "model",
    "Edit": "edits",
    "AnnotationCollection": "collection",
    "CollectionEvent": "collection",
    "read_annotations": "io",
    "write_annotations": "io",
    "ReadResult": "io",
    "AnnotationFileError": "io",
    "qupath_l0_offset": "io",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
