"""The ordered list of classes a user annotates with, and the edits that classify objects.

The list is a small model with change events (the app's classes panel listens; keys 1-9
pick by position). Objects hold their :class:`PathClass` by value, so renaming or
recolouring a class re-classifies every object that has it, through one undoable
:class:`Edit` on the collection. Locked objects are left as they are and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import RGB, Annotation, PathClass
from pathscaat.progress import PathscaatError

DEFAULT_CLASSES: tuple[PathClass, ...] = (
    PathClass("Tumour", (200, 0, 0)),
    PathClass("Stroma", (150, 200, 150)),
    PathClass("Immune cells", (160, 90, 160)),
    PathClass("Necrosis", (50, 50, 50)),
    PathClass("Other", (255, 200, 0)),
    PathClass("Region*", (0, 0, 180)),
    PathClass("Ignore*", (180, 180, 180)),
)
"""QuPath's default class list and colours (British spelling of Tumour, as our models)."""

ClassesEventKind = Literal["added", "removed", "renamed", "recoloured", "reset"]


@dataclass(frozen=True)
class ClassesEvent:
    """What changed: ``name`` is the class now (for ``renamed``, ``old_name`` was before)."""

    kind: ClassesEventKind
    name: str | None = None
    old_name: str | None = None


class EditTarget(Protocol):
    """What a class change needs from the collection: its objects, and apply."""

    def objects(self) -> list[Annotation]: ...
    def apply(self, edit: Edit, *, undoable: bool = True) -> None: ...


@dataclass(frozen=True)
class ClassifyResult:
    """The edit made (None when nothing changed) and how many locked objects were skipped."""

    edit: Edit | None
    locked_skipped: int


def classify_edit(
    objects: Iterable[Annotation], path_class: PathClass | None, label: str | None = None
) -> ClassifyResult:
    """One edit giving ``objects`` the class ``path_class`` (None: unclassified)."""
    before: list[Annotation] = []
    locked = 0
    for obj in objects:
        if obj.path_class == path_class:
            continue
        if obj.locked:
            locked += 1
            continue
        before.append(obj)
    if not before:
        return ClassifyResult(None, locked)
    after = [obj.with_changes(path_class=path_class) for obj in before]
    what = path_class.name if path_class is not None else "Unclassified"
    text = label or f"Classify {len(before)} object{'s' if len(before) > 1 else ''} as {what}"
    return ClassifyResult(Edit.change(before, after, text), locked)


class ClassList:
    """Classes in the user's order; names are unique (case-sensitive, as QuPath)."""

    def __init__(self, classes: Iterable[PathClass] = DEFAULT_CLASSES) -> None:
        self._classes: list[PathClass] = []
        self._subscribers: list[Callable[[ClassesEvent], None]] = []
        for c in classes:
            self._check_new_name(c.name)
            self._classes.append(c)

    def __len__(self) -> int:
        return len(self._classes)

    def __iter__(self) -> Iterator[PathClass]:
        return iter(list(self._classes))

    def __getitem__(self, index: int) -> PathClass:
        return self._classes[index]

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self._classes)

    def names(self) -> list[str]:
        return [c.name for c in self._classes]

    def index(self, name: str) -> int:
        for i, c in enumerate(self._classes):
            if c.name == name:
                return i
        raise PathscaatError(f"There is no class named “{name}”; add it in the classes panel.")

    def get(self, name: str) -> PathClass:
        return self._classes[self.index(name)]

    def subscribe(self, callback: Callable[[ClassesEvent], None]) -> Callable[[], None]:
        """Call ``callback`` after every change; returns the function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def add(self, name: str, colour: RGB | None = None) -> PathClass:
        """Append a class (a stable colour from its name when none is given)."""
        name = self._check_new_name(name)
        new = PathClass.named(name, colour)
        self._classes.append(new)
        self._emit(ClassesEvent("added", name))
        return new

    def remove(self, name: str) -> None:
        """Drop a class from the list; objects keep it (as QuPath does)."""
        del self._classes[self.index(name)]
        self._emit(ClassesEvent("removed", name))

    def merge_from(self, objects: Iterable[Annotation]) -> int:
        """Append the classes of ``objects`` that the list lacks (after an import)."""
        added = 0
        for obj in objects:
            c = obj.path_class
            if c is not None and c.name not in self:
                self._classes.append(c)
                added += 1
        if added:
            self._emit(ClassesEvent("reset"))
        return added

    def rename(self, old: str, new: str, target: EditTarget | None = None) -> ClassifyResult:
        """Rename a class; objects of that class in ``target`` follow through one edit."""
        i = self.index(old)
        new = self._check_new_name(new) if new != old else new
        before = self._classes[i]
        self._classes[i] = PathClass(new, before.colour)
        result = self._reclassify(before, self._classes[i], target, f"Rename class {old} → {new}")
        self._emit(ClassesEvent("renamed", new, old))
        return result

    def recolour(self, name: str, colour: RGB, target: EditTarget | None = None) -> ClassifyResult:
        """Give a class a new colour; its objects in ``target`` follow through one edit."""
        i = self.index(name)
        before = self._classes[i]
        self._classes[i] = PathClass(name, tuple(int(v) for v in colour))  # type: ignore[arg-type]
        result = self._reclassify(before, self._classes[i], target, f"Recolour class {name}")
        self._emit(ClassesEvent("recoloured", name))
        return result

    def _reclassify(
        self, before: PathClass, after: PathClass, target: EditTarget | None, label: str
    ) -> ClassifyResult:
        if target is None:
            return ClassifyResult(None, 0)
        members = [o for o in target.objects() if o.path_class == before]
        result = classify_edit(members, after, label)
        if result.edit is not None:
            target.apply(result.edit)
        return result

    def _check_new_name(self, name: str) -> str:
        name = name.strip()
        if not name:
            raise PathscaatError("A class needs a name; type one and try again.")
        if name in self:
            raise PathscaatError(f"There is already a class named “{name}”; choose another name.")
        return name

    def _emit(self, event: ClassesEvent) -> None:
        for callback in list(self._subscribers):
            callback(event)
