"""The binding: a collection's edits, undos, redos and resets reach the project at once, and
a reopened project gives back the same collection, undo included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import Point, box

from pathscaat.annotations.collection import AnnotationCollection
from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, PathClass, ToolShape
from pathscaat.progress import PathscaatError
from pathscaat.project import Project, ProjectReadOnlyError
from pathscaat.project.binding import ProjectBinding, open_collection


@pytest.fixture
def root(tmp_path: Path) -> Path:
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(tmp_path / "s.png")
    with Project.create(tmp_path / "proj") as project:
        project.add_slide(tmp_path / "s.png")
    return tmp_path / "proj"


def _stored(root: Path) -> tuple[list[Annotation], list[str], int]:
    with Project.open(root, read_only=True) as project:
        history, pos = project.history(1)
        return project.annotations(1), [e.label for e in history], pos


def test_every_event_is_on_disk_when_the_call_returns(root: Path) -> None:
    project = Project.open(root)
    coll, binding = open_collection(project, 1)
    assert binding is not None and len(coll) == 0
    rect = Annotation(box(0, 0, 10, 10), tool=ToolShape.RECTANGLE)
    coll.apply(Edit.add([rect], "Add rectangle"))
    assert _stored(root) == ([rect], ["Add rectangle"], 1)
    tumour = rect.with_changes(path_class=PathClass("Tumor", (200, 0, 0)))
    coll.apply(Edit.change([rect], [tumour], "Classify"))
    coll.undo()
    assert _stored(root) == ([rect], ["Add rectangle", "Classify"], 1)
    coll.redo()
    assert _stored(root) == ([tumour], ["Add rectangle", "Classify"], 2)
    coll.undo()
    dot = Annotation(Point(3, 3), tool=ToolShape.POINTS)
    coll.apply(Edit.add([dot], "Add point"))  # the redo stack goes, here and there
    assert _stored(root) == ([rect, dot], ["Add rectangle", "Add point"], 2)
    coll.apply(Edit.remove([dot], "Import cleanup"), undoable=False)
    assert _stored(root) == ([rect], ["Add rectangle", "Add point"], 2)
    coll.select([rect.id])  # selection is view state: nothing written
    project.close()


def test_undo_after_reopen(root: Path) -> None:
    with Project.open(root) as project:
        coll, _ = open_collection(project, 1)
        a, b = Annotation(box(0, 0, 5, 5)), Annotation(box(6, 6, 9, 9))
        coll.apply(Edit.add([a], "Add a"))
        coll.apply(Edit.add([b], "Add b"))
        coll.apply(Edit.change([a], [a.with_changes(name="renamed")], "Rename"))
        coll.undo()
    with Project.open(root) as project:  # "restart the app"
        coll, _ = open_collection(project, 1)
        assert coll.objects() == [a, b]
        assert coll.history[0].added[0] is coll.get(a.id)  # parsed once, shared with the log
        assert (coll.undo_label, coll.redo_label) == ("Add b", "Rename")
        coll.redo()
        assert coll.get(a.id).name == "renamed"
        coll.undo()
        coll.undo()
        coll.undo()
        assert len(coll) == 0 and not coll.can_undo
    with Project.open(root) as project:
        coll, _ = open_collection(project, 1)
        assert len(coll) == 0 and coll.redo_label == "Add a"
        coll.redo()
        assert coll.objects() == [a]


def test_refused_edits_and_resets(root: Path) -> None:
    with Project.open(root) as project:
        coll, _ = open_collection(project, 1)
        locked = Annotation(box(0, 0, 5, 5), locked=True)
        coll.apply(Edit.add([locked], "Add"))
        with pytest.raises(PathscaatError, match="locked"):
            coll.apply(Edit.remove([locked]))
        assert _stored(root)[0] == [locked]
        with pytest.raises(PathscaatError, match="slide 9 is not in the project"):
            open_collection(project, 9)
        fresh = [Annotation(Point(1, 1)), Annotation(Point(2, 2))]
        coll.reset(fresh)
        assert _stored(root) == (fresh, [], 0)


def test_binding_resyncs_a_log_that_disagrees(root: Path) -> None:
    with Project.open(root) as project:
        a = Annotation(box(0, 0, 5, 5))
        project.apply_edit(1, Edit.add([a], "Add a"))
        # a collection built with a different history (say, trimmed by the app) wins
        coll = AnnotationCollection(project.annotations(1))
        ProjectBinding(project, 1, coll)
        assert project.history(1) == ([], 0)


def test_read_only_project_gives_an_unbound_collection(root: Path) -> None:
    with Project.open(root) as writer, Project.open(root) as reader:
        assert not writer.read_only and reader.read_only
        coll, binding = open_collection(reader, 1)
        assert binding is None
        with pytest.raises(ProjectReadOnlyError, match="read-only"):
            ProjectBinding(reader, 1, coll)


def test_a_failed_write_is_caught_up_by_the_next_event(root: Path) -> None:
    with Project.open(root) as project:
        coll, binding = open_collection(project, 1)
        assert binding is not None
        a, b, c = (Annotation(box(i, i, i + 2, i + 2)) for i in range(3))
        coll.apply(Edit.add([a], "Add a"))
        with project.transaction() as conn:  # the next insert fails, as on a full disk
            conn.execute("CREATE TEMP TRIGGER full BEFORE INSERT ON annotations "
                         "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
        with pytest.raises(PathscaatError, match=r"could not save.*disk is full"):
            coll.apply(Edit.add([b], "Add b"))
        assert binding.unsaved and len(coll) == 2  # the collection kept the edit
        assert _stored(root) == ([a], ["Add a"], 1)  # the failed transaction left nothing
        with project.transaction() as conn:
            conn.execute("DROP TRIGGER temp.full")
        coll.apply(Edit.add([c], "Add c"))
        assert not binding.unsaved
        assert _stored(root) == ([a, b, c], ["Add a", "Add b", "Add c"], 3)
