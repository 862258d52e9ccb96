"""Measurements of the open slide's annotations from its overlay sets, off the UI thread.

Every annotation (hand-drawn, imported or made from an overlay) is measured from every
overlay set shown on the slide (:func:`pathscaat.annotations.measure.measure_annotation`):
when it is drawn or edited, when a run's overlays arrive, when the slide's annotations
are loaded. The work runs in one worker thread at a time, in batches gathered over a
short delay; a batch made stale by new overlay sets is dropped (a generation counter),
and a value is shown only while the annotation still has the geometry it was measured
on. The measurements are derived values: they are not edits, not undoable and not
saved in the project (exports measure again from the same rasters).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from shapely.geometry.base import BaseGeometry
from superqt.utils import create_worker

from pathscaat.annotations.collection import AnnotationCollection, CollectionEvent
from pathscaat.annotations.model import Annotation

log = logging.getLogger(__name__)

Measurements = dict[str, float]
BATCH_DELAY_MS = 150


class AnnotationMeasurer(QObject):
    """Keeps each annotation's overlay measurements current (see the module docstring)."""

    sigMeasured = Signal()  # new values arrived
    sigBusy = Signal(str)  # what is being measured; "" when done

    def __init__(self, report: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._report = report
        self._folders: tuple[Path, ...] = ()
        self._rasters: dict[Path, Any] = {}  # folder -> OverlayRasters, read once
        self._values: dict[str, tuple[BaseGeometry, Measurements]] = {}
        self._pending: dict[str, Annotation] = {}
        self._generation = 0
        self._worker: Any = None
        self._stop = threading.Event()
        self._collection: AnnotationCollection | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._timer = QTimer(self, singleShot=True, interval=BATCH_DELAY_MS)
        self._timer.timeout.connect(self._start)

    # -- inputs ----------------------------------------------------------------------------
    @property
    def folders(self) -> tuple[Path, ...]:
        return self._folders

    def set_collection(self, collection: AnnotationCollection | None) -> None:
        """Measure ``collection`` (None: nothing) and follow its edits."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._collection = collection
        self._restart()
        if collection is not None:
            self._unsubscribe = collection.subscribe(self._on_event)
            self._queue(collection.objects())

    def set_overlays(self, folders: Sequence[Path]) -> None:
        """The overlay sets on the slide (inference output folders), in load order."""
        folders = tuple(dict.fromkeys(Path(f) for f in folders))
        if folders == self._folders:
            return
        self._folders = folders
        self._rasters = {f: r for f, r in self._rasters.items() if f in folders}
        self._restart()
        if self._collection is not None:
            self._queue(self._collection.objects())
        self.sigMeasured.emit()  # columns of sets no longer shown go

    def _restart(self) -> None:
        """Drop every value and the batch in flight (its answer will be stale)."""
        self._generation += 1
        self._stop.set()
        self._values.clear()
        self._pending.clear()

    def _on_event(self, event: CollectionEvent) -> None:
        if event.kind == "reset" and self._collection is not None:
            self._values.clear()
            self._queue(self._collection.objects())
        elif event.edit is not None:
            edit = event.edit
            for obj in edit.removed:
                self._values.pop(obj.id, None)
                self._pending.pop(obj.id, None)
            self._queue([*edit.added, *(after for _, after in edit.changed)])

    def _queue(self, objects: Sequence[Annotation]) -> None:
        if not self._folders or not objects:
            return
        self._pending.update((o.id, o) for o in objects)
        self._timer.start()

    # -- outputs ---------------------------------------------------------------------------
    def measured(self, obj: Annotation) -> Measurements | None:
        """``obj``'s measurements from the sets, or None while they are being made."""
        found = self._values.get(obj.id)
        if found is None:
            return None
        geom, values = found
        return values if geom is obj.geometry or geom.equals_exact(obj.geometry, 0) else None

    def measurements(self, obj: Annotation) -> Measurements:
        """What the panel shows: ``obj``'s own measurements with the overlay ones in place."""
        from pathscaat.annotations.measure import with_measurements

        values = self.measured(obj)
        if values is None:
            return dict(obj.measurements)
        return dict(with_measurements(obj, values).measurements)

    def names(self) -> list[str]:
        """Every measurement name the sets give (the panel's columns, also while an
        edited annotation waits for its new values)."""
        names: dict[str, None] = {}
        for _geom, values in self._values.values():
            names.update(dict.fromkeys(values))
            break  # every annotation gets the same names from the same sets
        return list(names)

    def pending(self) -> bool:
        """True while annotations wait to be measured (or are being measured)."""
        return bool(self._pending) or self._worker is not None

    # -- the worker ------------------------------------------------------------------------
    def _start(self) -> None:
        if self._worker is not None or not self._pending:
            return  # the running batch starts the next one when it ends
        batch, self._pending = list(self._pending.values()), {}
        gen, folders = self._generation, self._folders
        self._stop = threading.Event()
        n = len(batch)
        self.sigBusy.emit(f"Measuring {n:,} annotation{'s' * (n != 1)} from "
                          f"{len(folders)} model run{'s' * (len(folders) != 1)}…")  # fmt: skip
        worker = create_worker(self._measure, batch, folders, self._stop.is_set,
                               _start_thread=False, _ignore_errors=True)  # fmt: skip
        worker.returned.connect(lambda values: self._arrived(gen, values))
        worker.errored.connect(lambda exc: self._failed(gen, exc))
        worker.finished.connect(self._finished)
        self._worker = worker
        worker.start()

    def _measure(
        self, batch: list[Annotation], folders: tuple[Path, ...], should_stop: Callable[[], bool]
    ) -> dict[str, tuple[BaseGeometry, Measurements]]:
        """In the worker: read the sets (once) and measure the batch."""
        from pathscaat.annotations.measure import labelled, measure_annotation
        from pathscaat.annotations.overlay_rasters import OverlayRasters
        from pathscaat.progress import JobCancelled

        for folder in folders:
            if folder not in self._rasters:
                self._rasters[folder] = OverlayRasters(folder)
        sets = labelled([self._rasters[f] for f in folders])
        out = {}
        for obj in batch:
            if should_stop():
                raise JobCancelled("measuring stopped: the overlays changed")
            out[obj.id] = (obj.geometry, measure_annotation(obj, sets))
        return out

    def _arrived(self, gen: int, values: dict[str, tuple[BaseGeometry, Measurements]]) -> None:
        if gen == self._generation:
            self._values.update(values)
            self.sigMeasured.emit()

    def _failed(self, gen: int, exc: BaseException) -> None:
        from pathscaat.progress import JobCancelled, PathscaatError

        if gen != self._generation or isinstance(exc, JobCancelled):
            return
        if not isinstance(exc, PathscaatError):
            log.error("measuring annotations failed", exc_info=exc)
        self._pending.clear()  # the same rasters would fail again; new sets retry
        self._report(f"The annotations could not be measured from the overlays: {exc}")

    def _finished(self, *_: object) -> None:
        self._worker = None
        if self._pending:
            self._start()
        else:
            self.sigBusy.emit("")

    def shutdown(self, msecs: int = 5000) -> None:
        """Stop measuring and wait for the worker (window close, tests)."""
        from PySide6.QtCore import QThreadPool

        self._timer.stop()
        self._restart()
        if self._worker is not None:
            QThreadPool.globalInstance().waitForDone(msecs)
