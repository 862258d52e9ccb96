"""The one model of a slide's annotations: objects, spatial index, selection, undo/redo.

Tools build :class:`~pathscaat.annotations.edits.Edit` values and ``apply`` them; the app's
layer and panels, and the project store, ``subscribe`` to the :class:`CollectionEvent`
that follows every change (as napari layers and QuPath hierarchy listeners do). Undo and
redo are edits too (``Edit.inverse()``), so no widget holds state that the model lacks.
Locked objects refuse to be changed or removed, except to be unlocked. Objects keep their
drawing order (insertion order, last on top); an undone delete puts one back at its depth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import shapely

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation
from pathscaat.annotations.spatial_index import Box, SpatialIndex
from pathscaat.progress import PathscaatError

EventKind = Literal["applied", "undone", "redone", "selection", "reset"]
Listener = Callable[["CollectionEvent"], None]


@dataclass(frozen=True)
class CollectionEvent:
    """What changed: ``edit`` as it changed the state (for "undone", the inverse)."""

    kind: EventKind
    edit: Edit | None
    selection: frozenset[str]


class AnnotationCollection:
    """Annotations of one slide in insertion order (last added is drawn on top)."""

    def __init__(
        self,
        objects: Iterable[Annotation] = (),
        *,
        history: Sequence[Edit] = (),
        history_pos: int | None = None,
    ) -> None:
        self._objects: dict[str, Annotation] = {}  # in drawing order (sequence numbers)
        self._order: dict[str, int] = {}
        self._retired: dict[str, int] = {}  # sequence numbers of removed ids, for undo
        self._next_seq = 0
        self._index = SpatialIndex(lambda: list(self._objects.values()), self._order)
        self._history: list[Edit] = list(history)
        pos = len(self._history) if history_pos is None else int(history_pos)
        if not 0 <= pos <= len(self._history):
            raise ValueError(f"history_pos {pos} is outside 0..{len(self._history)}")
        self._pos = pos
        self._selection: frozenset[str] = frozenset()
        self._listeners: list[Listener] = []
        self._load(objects)

    # -- reading -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._objects)

    def __iter__(self) -> Iterator[Annotation]:
        return iter(list(self._objects.values()))

    def __contains__(self, obj_id: object) -> bool:
        return obj_id in self._objects

    def get(self, obj_id: str) -> Annotation:
        """The object with ``obj_id`` (KeyError if there is none)."""
        return self._objects[obj_id]

    def objects(self) -> list[Annotation]:
        return list(self._objects.values())

    def query(self, l0_box: Box) -> list[Annotation]:
        """Objects whose bounding box intersects ``l0_box`` (x0, y0, x1, y1), in order."""
        return self._index.query(l0_box)

    def hit(self, l0_x: float, l0_y: float, l0_tolerance: float = 0.0) -> Annotation | None:
        """The topmost (last added) object covering the point, or within ``l0_tolerance``."""
        tol = max(0.0, float(l0_tolerance))
        candidates = self._index.query((l0_x - tol, l0_y - tol, l0_x + tol, l0_y + tol))
        point = shapely.Point(l0_x, l0_y)
        for obj in reversed(candidates):
            near = (
                shapely.dwithin(obj.geometry, point, tol)
                if tol > 0
                else shapely.intersects(obj.geometry, point)
            )
            if near:
                return obj
        return None

    # -- edits ---------------------------------------------------------------------------

    def apply(self, edit: Edit, *, undoable: bool = True) -> None:
        """Apply ``edit``; if ``undoable``, push it on the undo stack and clear redo.

        Raises PathscaatError (and changes nothing) if the edit removes or changes a locked
        object (other than unlocking it), touches an unknown id or adds an existing one.
        A non-undoable edit leaves the history as it is.
        """
        if edit.is_empty:
            return
        self._apply_checked(edit)
        if undoable:
            del self._history[self._pos :]
            self._history.append(edit)
            self._pos += 1
        self._emit("applied", edit)

    def undo(self) -> Edit | None:
        """Undo the last edit; returns the edit as applied to the state (its inverse)."""
        if self._pos == 0:
            return None
        inverse = self._history[self._pos - 1].inverse()
        self._apply_checked(inverse)
        self._pos -= 1
        self._emit("undone", inverse)
        return inverse

    def redo(self) -> Edit | None:
        """Redo the next undone edit; returns it."""
        if self._pos >= len(self._history):
            return None
        edit = self._history[self._pos]
        self._apply_checked(edit)
        self._pos += 1
        self._emit("redone", edit)
        return edit

    @property
    def can_undo(self) -> bool:
        return self._pos > 0

    @property
    def can_redo(self) -> bool:
        return self._pos < len(self._history)

    @property
    def undo_label(self) -> str | None:
        return self._history[self._pos - 1].label if self.can_undo else None

    @property
    def redo_label(self) -> str | None:
        return self._history[self._pos].label if self.can_redo else None

    @property
    def history(self) -> list[Edit]:
        """The undo stack followed by the redo stack (``history_pos`` of them are done)."""
        return list(self._history)

    @property
    def history_pos(self) -> int:
        return self._pos

    def reset(self, objects: Iterable[Annotation]) -> None:
        """Replace every object, clear history and selection; emits "reset"."""
        self._objects.clear()
        self._order.clear()
        self._retired.clear()
        self._history.clear()
        self._pos = 0
        self._selection = frozenset()
        self._load(objects)
        self._emit("reset", None)

    # -- selection -----------------------------------------------------------------------

    @property
    def selection(self) -> frozenset[str]:
        return self._selection

    def select(self, ids: Iterable[str], *, replace: bool = True) -> None:
        """Select ``ids`` (unknown ids are ignored), replacing or extending the selection."""
        chosen = frozenset(i for i in ids if i in self._objects)
        new = chosen if replace else self._selection | chosen
        if new != self._selection:
            self._selection = new
            self._emit("selection", None)

    def clear_selection(self) -> None:
        self.select((), replace=True)

    # -- events --------------------------------------------------------------------------

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback`` after every change; returns the function that unsubscribes."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    def _emit(self, kind: EventKind, edit: Edit | None) -> None:
        event = CollectionEvent(kind, edit, self._selection)
        first_error: BaseException | None = None
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception as exc:  # every listener hears the event; the first error wins
                first_error = first_error or exc
        if first_error is not None:
            raise first_error

    # -- internals -----------------------------------------------------------------------

    def _load(self, objects: Iterable[Annotation]) -> None:
        for obj in objects:
            if obj.id in self._objects:
                raise PathscaatError(
                    f"two annotations share the id {obj.id}; give each object its own id"
                )
            self._insert(obj)
        self._index.invalidate()

    def _insert(self, obj: Annotation) -> bool:
        """Add ``obj`` on top, or back at its old depth if it was removed (an undo).

        Returns True when it went back below the top (the order must be re-sorted).
        """
        self._objects[obj.id] = obj
        seq = self._retired.pop(obj.id, None)
        if seq is None:
            self._order[obj.id] = self._next_seq
            self._next_seq += 1
            return False
        self._order[obj.id] = seq
        return True

    def _resort(self) -> None:
        order = self._order
        self._objects = dict(sorted(self._objects.items(), key=lambda kv: order[kv[0]]))
        self._index.invalidate()

    def _check(self, edit: Edit) -> None:
        new_ids: set[str] = set()
        for obj in edit.added:
            if obj.id in self._objects or obj.id in new_ids:
                raise PathscaatError(
                    f"{edit.label}: an object with id {obj.id} already exists; new objects "
                    "need new ids"
                )
            new_ids.add(obj.id)
        for obj in edit.removed:
            current = self._current(edit, obj.id)
            if current.locked:
                raise PathscaatError(
                    f"{edit.label}: {_describe(current)} is locked; unlock it to delete it"
                )
        for before, after in edit.changed:
            current = self._current(edit, before.id)
            if current.locked and after.with_changes(locked=True) != current:
                raise PathscaatError(
                    f"{edit.label}: {_describe(current)} is locked; unlock it to edit it"
                )

    def _current(self, edit: Edit, obj_id: str) -> Annotation:
        try:
            return self._objects[obj_id]
        except KeyError:
            raise PathscaatError(
                f"{edit.label}: no annotation with id {obj_id} (it was deleted); "
                "nothing was changed"
            ) from None

    def _apply_checked(self, edit: Edit) -> None:
        self._check(edit)
        index = self._index
        for obj in edit.removed:
            del self._objects[obj.id]
            self._retired[obj.id] = self._order.pop(obj.id)
            index.remove(obj.id)
        for _, after in edit.changed:
            self._objects[after.id] = after
            index.change(after)
        restored = False
        for obj in edit.added:
            restored = self._insert(obj) or restored
            index.add(obj)
        if restored:
            self._resort()
        if edit.removed:
            gone = {o.id for o in edit.removed}
            self._selection = frozenset(i for i in self._selection if i not in gone)


def _describe(obj: Annotation) -> str:
    label = obj.name or obj.class_name or obj.object_type.value
    return f"'{label}' ({obj.id[:8]})"
