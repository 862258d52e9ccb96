"""Keep a slide's :class:`AnnotationCollection` and its project rows in step, edit by edit.

The collection is the one owner of annotation state; the binding only listens. Each
applied, undone or redone edit becomes one committed transaction before the collection's
``apply``/``undo``/``redo`` returns, so what is on screen is on disk. A failed write (a
full disk) raises from that call and sets :attr:`ProjectBinding.unsaved`; the next event
then writes the collection's whole state, so nothing stays lost once the disk has room.
The undo log follows the collection's own ``history`` and ``history_pos``; if they ever
disagree with what was stored, the log is rewritten from the collection, the authority.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pathscaat.project.store import Project, ProjectReadOnlyError

if TYPE_CHECKING:
    from pathscaat.annotations.collection import AnnotationCollection, CollectionEvent


class ProjectBinding:
    """Persists every edit of ``collection`` (the objects of ``slide_id``) into ``project``."""

    def __init__(self, project: Project, slide_id: int, collection: AnnotationCollection) -> None:
        if project.read_only:
            raise ProjectReadOnlyError(project.notice or "the project is read-only")
        self.project = project
        self.slide_id = slide_id
        self.collection = collection
        self.unsaved = False  # True after a failed write, until a later event saves it all
        self._pos, self._len = self._collection_history()
        if project.history_shape(slide_id) != (self._len, self._pos):
            self._resync_history()
        self._unsubscribe: Callable[[], None] | None = collection.subscribe(self._on_event)

    def _collection_history(self) -> tuple[int, int]:
        return int(self.collection.history_pos), len(self.collection.history)

    def _on_event(self, event: CollectionEvent) -> None:
        if event.kind == "selection":
            return
        try:
            if self.unsaved:
                self._write_everything()
            else:
                self._write(event)
        except BaseException:
            self.unsaved = True  # the next event writes the whole state again
            raise
        self.unsaved = False

    def save(self) -> None:
        """Write the collection's whole state (after a failed write, to retry at once)."""
        self._write_everything()
        self.unsaved = False

    def _write_everything(self) -> None:
        self.project.replace_annotations(
            self.slide_id,
            self.collection.objects(),
            list(self.collection.history),
            int(self.collection.history_pos),
        )
        self._pos, self._len = self._collection_history()

    def _write(self, event: CollectionEvent) -> None:
        kind, edit = event.kind, event.edit
        pos, length = self._collection_history()
        if kind == "reset":
            self._write_everything()
        elif kind == "applied" and edit is not None:
            history = self.collection.history
            pushed = pos > 0 and (history[pos - 1] is edit or history[pos - 1] == edit)
            plain_push = pushed and pos == self._pos + 1 and length == pos
            self.project.apply_edit(
                self.slide_id, edit, undoable=plain_push, history_len=None if plain_push else length
            )
            if not plain_push and (pushed or pos != self._pos):
                self._resync_history()
        elif kind == "undone" and edit is not None:
            self.project.record_undo(self.slide_id, edit)
        elif kind == "redone" and edit is not None:
            self.project.record_redo(self.slide_id, edit)
        self._pos, self._len = pos, length

    def _resync_history(self) -> None:
        """Rewrite the stored undo log from the collection (objects are already in step)."""
        self.project.replace_history(
            self.slide_id, list(self.collection.history), int(self.collection.history_pos)
        )

    def close(self) -> None:
        """Stop persisting (the collection keeps working, unsaved)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


def open_collection(
    project: Project, slide_id: int
) -> tuple[AnnotationCollection, ProjectBinding | None]:
    """The slide's collection as last committed, with its undo log, bound to the project.

    On a read-only project the binding is None: the collection works but nothing is saved
    (show ``project.notice``).
    """
    from pathscaat.annotations.collection import AnnotationCollection

    project.slide(slide_id)  # an unknown slide is a clear error, not a foreign-key failure
    objects, history, pos = project.load_slide(slide_id)
    collection = AnnotationCollection(objects, history=history, history_pos=pos)
    if project.read_only:
        return collection, None
    return collection, ProjectBinding(project, slide_id, collection)
