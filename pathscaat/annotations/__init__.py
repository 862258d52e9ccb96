"""Annotations: QuPath-style objects in level-0 px, their collection, edits and file formats.

Contract (see docs/DEVELOPING.md):
- ``model``: ``Annotation`` (frozen value), ``PathClass``, ``ObjectType``, ``ToolShape``.
- ``edits``: ``Edit`` (before/after diff; ``inverse()`` is its undo).
- ``collection``: ``AnnotationCollection`` (spatial index, change events, undo/redo).
- ``io``: ``read_annotations(path, ...) -> ReadResult``, ``write_annotations(path, objs, ...)``.
"""
