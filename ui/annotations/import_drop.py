"""Import annotation files onto the open slide (File ▸ Import Annotations…, or drop them).

The readers are the core's (``pathscaat.annotations.io``): QuPath GeoJSON in QuPath's
frame (shifted by the slide's ``openslide.bounds-x/y``), ASAP and ImageScope XML, HALO
``.annotations`` and vertex CSV. Everything a file holds arrives as ONE edit (one undo);
objects whose id is already on the slide (the same file imported twice) get new ids, so
nothing on the slide is overwritten. What a reader skipped is reported once per file.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pathscaat.annotations.edits import Edit
from pathscaat.progress import PathscaatError

if TYPE_CHECKING:
    from pathscaat.annotations.collection import AnnotationCollection
    from pathscaat.annotations.model import Annotation, PathClass

IMPORT_SUFFIXES = (".geojson", ".json", ".xml", ".annotations", ".csv")
IMPORT_FILTER = (
    "Annotations (*.geojson *.json *.xml *.annotations *.csv);;QuPath GeoJSON (*.geojson "
    "*.json);;ASAP / ImageScope XML (*.xml);;HALO (*.annotations);;Vertex CSV (*.csv);;"
    "All files (*)"
)
NOT_ANNOTATIONS = ("overlays.json", "tiles.csv", "cohort.csv", "manifest.csv")
"""Files our own jobs write next to annotations that are not annotations."""
MAX_SKIPPED_SHOWN = 8


def is_annotation_file(path: Path) -> bool:
    """A file the importer takes (by extension; our own job outputs excluded)."""
    return path.suffix.lower() in IMPORT_SUFFIXES and path.name not in NOT_ANNOTATIONS


@dataclass
class ImportOutcome:
    """One file's import: what was added, and the lines to tell the user (once)."""

    path: Path
    added: list[Annotation] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    renamed: int = 0
    error: str = ""
    repaired: str = ""  # the reader's line on shapes repaired with make_valid
    outside: int = 0  # objects wholly off the slide
    warning: str = ""  # why they are off it (another slide, a frame offset)

    def summary(self) -> str:
        if self.error:
            return self.error
        n = len(self.added)
        text = f"Imported {n} object{'s' * (n != 1)} from {self.path.name}"
        if self.outside:
            text += f", {self.outside} of them outside the slide"
        if self.renamed:
            text += f" ({self.renamed} given new ids: they were on the slide already)"
        return text

    def skipped_text(self) -> str:
        """The reader's skipped items (at most :data:`MAX_SKIPPED_SHOWN` lines) and its
        repairs, or ""."""
        if not self.skipped:
            return f"{self.path.name}: {self.repaired}" if self.repaired else ""
        shown = self.skipped[:MAX_SKIPPED_SHOWN]
        more = len(self.skipped) - len(shown)
        tail = f"\n… and {more} more." if more else ""
        repaired = f"\n{self.repaired}" if self.repaired else ""
        return (f"{self.path.name}: {len(self.skipped)} item(s) were skipped or kept as "
                "they were:\n" + "\n".join(f"• {s}" for s in shown) + tail + repaired)


def fresh_ids(objects: Sequence[Annotation], taken: Any) -> tuple[list[Annotation], int]:
    """``objects`` with a new UUID for each id in ``taken``; parents follow their children."""
    new_id = {o.id: str(uuid.uuid4()) for o in objects if o.id in taken}
    if not new_id:
        return list(objects), 0
    out = [
        dataclasses.replace(
            o, id=new_id.get(o.id, o.id),
            parent_id=new_id.get(o.parent_id, o.parent_id) if o.parent_id else None,
        )
        for o in objects
    ]
    return out, len(new_id)


def read_file(path: Path, slide: Any) -> ImportOutcome:
    """Read ``path`` in the frame of ``slide``; a bad file is ``error``, never an exception."""
    from pathscaat.annotations.io import qupath_l0_offset, read_annotations

    outcome = ImportOutcome(Path(path))
    try:
        result = read_annotations(path, l0_offset=qupath_l0_offset(slide))
    except (PathscaatError, OSError, ValueError) as exc:
        outcome.error = f"{exc}"
        return outcome
    outcome.added = list(result.annotations)
    outcome.skipped = list(result.skipped)
    outcome.repaired = result.repaired_text()
    if not outcome.added and not outcome.skipped:
        outcome.error = f"{path}: the file holds no annotations"
    size = getattr(slide, "dimensions", None)
    if outcome.added and size is not None:
        from pathscaat.annotations.placement import off_slide

        placed = off_slide(outcome.added, size)
        if placed is not None:
            outcome.outside, outcome.warning = placed.outside, placed.message()
    return outcome


def import_file(collection: AnnotationCollection, path: Path, slide: Any) -> ImportOutcome:
    """Read ``path`` and add its objects to ``collection`` as one undoable edit."""
    return add_outcome(collection, read_file(path, slide))


def read_each(
    paths: Sequence[Path], slide: Any, should_stop: Callable[[], bool]
) -> Iterator[tuple[int, ImportOutcome]]:
    """(index, outcome) of each file in turn (in a worker); stops between files."""
    for i, path in enumerate(paths):
        if should_stop():
            return
        yield i, read_file(path, slide)


def add_outcome(collection: AnnotationCollection, outcome: ImportOutcome) -> ImportOutcome:
    """Add what ``outcome`` read to ``collection`` as one undoable edit (UI thread)."""
    path = outcome.path
    if outcome.error or not outcome.added:
        return outcome
    outcome.added, outcome.renamed = fresh_ids(outcome.added, collection)
    try:
        collection.apply(Edit.add(outcome.added, f"Import {Path(path).name}"))
    except PathscaatError as exc:
        outcome.error = f"{path}: {exc}"
        outcome.added = []
    return outcome


def classes_of(objects: Iterable[Annotation]) -> list[PathClass]:
    """The distinct classes of ``objects`` in first-seen order (to add to the class list)."""
    seen: dict[str, PathClass] = {}
    for o in objects:
        if o.path_class is not None and o.path_class.name not in seen:
            seen[o.path_class.name] = o.path_class
    return list(seen.values())
