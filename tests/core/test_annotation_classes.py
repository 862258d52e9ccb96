"""The class list: order, unique names, events, and rename/recolour as one undoable edit."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from pathscaat.annotations.classes import DEFAULT_CLASSES, ClassList, classify_edit
from pathscaat.annotations.collection import AnnotationCollection
from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, PathClass
from pathscaat.progress import PathscaatError

TUMOUR = PathClass("Tumour", (200, 0, 0))


def _objects(n: int, cls: PathClass | None = TUMOUR, **kw: object) -> list[Annotation]:
    return [Annotation(box(i * 10, 0, i * 10 + 5, 5), path_class=cls, **kw) for i in range(n)]


def test_defaults_follow_qupath_and_names_stay_unique() -> None:
    classes = ClassList()
    assert classes.names()[:3] == ["Tumour", "Stroma", "Immune cells"]
    assert len(classes) == len(DEFAULT_CLASSES)
    with pytest.raises(PathscaatError, match="already a class named “Stroma”"):
        classes.add(" Stroma ")
    with pytest.raises(PathscaatError, match="needs a name"):
        classes.add("   ")
    with pytest.raises(PathscaatError, match="no class named “Nope”"):
        classes.index("Nope")


def test_events_follow_every_change() -> None:
    classes = ClassList([TUMOUR])
    seen: list[tuple[str, str | None, str | None]] = []
    unsubscribe = classes.subscribe(lambda e: seen.append((e.kind, e.name, e.old_name)))
    added = classes.add("Mucosa")
    assert added.colour == PathClass.named("Mucosa").colour  # stable colour from the name
    classes.rename("Mucosa", "Normal mucosa")
    classes.recolour("Normal mucosa", (1, 2, 3))
    classes.remove("Normal mucosa")
    unsubscribe()
    classes.add("Ignored")
    assert seen == [("added", "Mucosa", None), ("renamed", "Normal mucosa", "Mucosa"),
                    ("recoloured", "Normal mucosa", None), ("removed", "Normal mucosa", None)]


def test_rename_reclassifies_objects_in_one_undoable_edit() -> None:
    objs = _objects(3) + _objects(1, None)
    coll = AnnotationCollection(objs)
    classes = ClassList([TUMOUR])
    result = classes.rename("Tumour", "Carcinoma", coll)
    assert result.edit is not None and len(result.edit.changed) == 3
    assert [o.class_name for o in coll] == ["Carcinoma"] * 3 + [None]
    assert coll.get(objs[0].id).path_class == PathClass("Carcinoma", (200, 0, 0))
    assert coll.undo_label == "Rename class Tumour → Carcinoma"
    coll.undo()
    assert [o.class_name for o in coll] == ["Tumour"] * 3 + [None]


def test_recolour_skips_locked_objects_and_counts_them() -> None:
    free, locked = _objects(2), _objects(1, locked=True)
    coll = AnnotationCollection(free + locked)
    classes = ClassList([TUMOUR])
    result = classes.recolour("Tumour", (0, 0, 255), coll)
    assert result.locked_skipped == 1
    assert [o.path_class.colour for o in coll] == [(0, 0, 255), (0, 0, 255), (200, 0, 0)]


def test_classify_edit_leaves_objects_that_already_have_the_class() -> None:
    objs = _objects(2) + _objects(2, None)
    result = classify_edit(objs, TUMOUR)
    assert result.edit is not None
    assert [after.id for _, after in result.edit.changed] == [objs[2].id, objs[3].id]
    assert result.edit.label == "Classify 2 objects as Tumour"
    assert classify_edit(objs[:2], TUMOUR).edit is None
    none = classify_edit(objs[:1], None).edit
    assert none is not None and none.label == "Classify 1 object as Unclassified"


def test_merge_from_adds_imported_classes_once() -> None:
    classes = ClassList([TUMOUR])
    imported = _objects(2, PathClass("Stroma", (0, 200, 0))) + _objects(1)
    coll = AnnotationCollection()
    coll.apply(Edit.add(imported))
    assert classes.merge_from(coll.objects()) == 1
    assert classes.names() == ["Tumour", "Stroma"]
    assert classes.get("Stroma").colour == (0, 200, 0)
