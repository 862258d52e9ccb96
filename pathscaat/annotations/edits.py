"""An edit is a before/after diff of annotation values: the unit of undo and persistence.

The collection applies edits and emits them as events; the project store writes each edit
in one transaction and logs it for undo that survives a restart; tools and panels only
build edits. ``inverse()`` is the undo of an edit, so no command class holds widget state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pathscaat.annotations.model import Annotation


@dataclass(frozen=True, slots=True)
class Edit:
    """Objects ``added``, ``removed`` and ``changed`` (pairs of before, after; same id).

    ``label`` is what an undo menu shows ("Add rectangle", "Classify 3 objects").
    """

    label: str
    added: tuple[Annotation, ...] = ()
    removed: tuple[Annotation, ...] = ()
    changed: tuple[tuple[Annotation, Annotation], ...] = field(default=())

    def __post_init__(self) -> None:
        for before, after in self.changed:
            if before.id != after.id:
                raise ValueError(f"a change keeps the id: {before.id} != {after.id}")

    def inverse(self) -> Edit:
        """The edit that undoes this one."""
        return Edit(
            label=self.label,
            added=self.removed,
            removed=self.added,
            changed=tuple((after, before) for before, after in self.changed),
        )

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    @classmethod
    def add(cls, objects: Iterable[Annotation], label: str = "Add") -> Edit:
        return cls(label, added=tuple(objects))

    @classmethod
    def remove(cls, objects: Iterable[Annotation], label: str = "Delete") -> Edit:
        return cls(label, removed=tuple(objects))

    @classmethod
    def change(
        cls, before: Sequence[Annotation], after: Sequence[Annotation], label: str = "Edit"
    ) -> Edit:
        if len(before) != len(after):
            raise ValueError("before and after must pair up")
        return cls(label, changed=tuple(zip(before, after, strict=True)))
