"""AnnotationCollection: spatial queries, hit tests, events, undo/redo and locked objects."""

from __future__ import annotations

import random

import pytest
from shapely.geometry import LineString, Point, Polygon, box

from pathscaat.annotations.collection import AnnotationCollection, CollectionEvent
from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, PathClass
from pathscaat.annotations.spatial_index import REBUILD_PENDING
from pathscaat.progress import PathscaatError


def _square(x: float, y: float, side: float = 10.0, **kw: object) -> Annotation:
    return Annotation(box(x, y, x + side, y + side), **kw)  # type: ignore[arg-type]


def _brute(objs: list[Annotation], l0_box: tuple[float, float, float, float]) -> list[str]:
    x0, y0, x1, y1 = l0_box
    out = []
    for o in objs:
        bx0, by0, bx1, by1 = o.l0_bounds
        if bx0 <= x1 and bx1 >= x0 and by0 <= y1 and by1 >= y0:
            out.append(o.id)
    return out


def test_query_matches_brute_force_through_edits() -> None:
    rng = random.Random(7)
    objs = [_square(rng.uniform(0, 5000), rng.uniform(0, 5000), rng.uniform(1, 80))
            for _ in range(2000)]
    coll = AnnotationCollection(objs)
    # edits after the tree was built: adds, removals, moves, more than one rebuild's worth
    coll.query((0, 0, 1, 1))
    for step in range(REBUILD_PENDING * 2 + 50):
        current = coll.objects()
        kind = step % 3
        if kind == 0:
            coll.apply(Edit.add([_square(rng.uniform(0, 5000), rng.uniform(0, 5000))]))
        elif kind == 1:
            coll.apply(Edit.remove([rng.choice(current)]))
        else:
            old = rng.choice(current)
            moved = old.with_changes(geometry=box(*[v + 300 for v in old.l0_bounds]))
            coll.apply(Edit.change([old], [moved]))
        if step % 37 == 0:
            q = (rng.uniform(0, 4000), rng.uniform(0, 4000), 0.0, 0.0)
            l0_box = (q[0], q[1], q[0] + 700, q[1] + 500)
            assert [o.id for o in coll.query(l0_box)] == _brute(coll.objects(), l0_box)
    everything = (-1e9, -1e9, 1e9, 1e9)
    assert [o.id for o in coll.query(everything)] == [o.id for o in coll.objects()]


def test_hit_is_topmost_and_respects_holes_and_tolerance() -> None:
    ring = Polygon(box(0, 0, 100, 100).exterior.coords, [box(40, 40, 60, 60).exterior.coords])
    below = Annotation(ring, name="below")
    above = _square(80, 80, 50, name="above")
    line = Annotation(LineString([(200, 0), (300, 0)]), name="line")
    dot = Annotation(Point(500, 500), name="dot")
    coll = AnnotationCollection([below, above, line, dot])
    assert coll.hit(10, 10) is below
    assert coll.hit(90, 90) is above  # both cover it; the last added wins
    assert coll.hit(50, 50) is None  # inside the hole
    assert coll.hit(250, 3) is None
    assert coll.hit(250, 3, l0_tolerance=4) is line
    assert coll.hit(502, 502, l0_tolerance=3) is dot
    assert coll.hit(1000, 1000, l0_tolerance=5) is None


def test_events_undo_redo_and_labels() -> None:
    events: list[CollectionEvent] = []
    coll = AnnotationCollection()
    unsubscribe = coll.subscribe(events.append)
    a = _square(0, 0)
    coll.apply(Edit.add([a], label="Add rectangle"))
    tumour = a.with_changes(path_class=PathClass.named("Tumour"))
    coll.apply(Edit.change([a], [tumour], label="Classify"))
    assert coll.get(a.id).class_name == "Tumour"
    assert (coll.undo_label, coll.redo_label, coll.history_pos) == ("Classify", None, 2)

    undone = coll.undo()
    assert undone is not None and undone.changed == ((tumour, a),)
    assert coll.get(a.id).path_class is None
    assert (coll.undo_label, coll.redo_label) == ("Add rectangle", "Classify")
    coll.undo()
    assert a.id not in coll and len(coll) == 0 and coll.undo() is None
    coll.redo()
    coll.redo()
    assert coll.get(a.id) == tumour and coll.redo() is None
    assert [e.kind for e in events] == ["applied", "applied", "undone", "undone",
                                        "redone", "redone"]
    assert events[2].edit == Edit("Classify", changed=((tumour, a),))

    # a new edit after an undo drops the redo stack
    coll.undo()
    b = _square(50, 50)
    coll.apply(Edit.add([b]))
    assert not coll.can_redo and [e.label for e in coll.history] == ["Add rectangle", "Add"]
    unsubscribe()
    coll.apply(Edit.remove([b]))
    assert len(events) == 8


def test_selection_events_and_removal_drops_selected() -> None:
    a, b = _square(0, 0), _square(20, 0)
    coll = AnnotationCollection([a, b])
    seen: list[frozenset[str]] = []
    coll.subscribe(lambda e: seen.append(e.selection))
    coll.select([a.id, "no-such-id"])
    coll.select([b.id], replace=False)
    coll.select([b.id], replace=False)  # no change, no event
    assert coll.selection == {a.id, b.id}
    coll.apply(Edit.remove([a]))
    assert coll.selection == {b.id}
    coll.clear_selection()
    assert seen == [{a.id}, {a.id, b.id}, {b.id}, frozenset()]


def test_locked_objects_refuse_edits_but_can_be_unlocked() -> None:
    locked = _square(0, 0, locked=True, name="capsule")
    coll = AnnotationCollection([locked])
    with pytest.raises(PathscaatError, match=r"'capsule'.*locked; unlock it to delete"):
        coll.apply(Edit.remove([locked]))
    moved = locked.with_changes(geometry=box(5, 5, 15, 15))
    with pytest.raises(PathscaatError, match="locked; unlock it to edit"):
        coll.apply(Edit.change([locked], [moved]))
    assert coll.get(locked.id) is locked and coll.history == []
    unlocked = locked.with_changes(locked=False)
    coll.apply(Edit.change([locked], [unlocked], label="Unlock"))
    coll.apply(Edit.remove([unlocked]))
    assert len(coll) == 0
    coll.undo()
    coll.undo()
    assert coll.get(locked.id).locked


def test_bad_edits_change_nothing() -> None:
    a = _square(0, 0)
    coll = AnnotationCollection([a])
    with pytest.raises(PathscaatError, match="already exists"):
        coll.apply(Edit.add([_square(1, 1), a]))
    with pytest.raises(PathscaatError, match="no annotation with id"):
        coll.apply(Edit.remove([_square(3, 3)]))
    assert coll.objects() == [a] and not coll.can_undo
    with pytest.raises(PathscaatError, match="share the id"):
        AnnotationCollection([a, a])


def test_reset_history_restore_and_non_undoable_edits() -> None:
    a, b = _square(0, 0), _square(30, 0)
    history = [Edit.add([a]), Edit.add([b])]
    coll = AnnotationCollection([a], history=history, history_pos=1)
    assert coll.can_undo and coll.can_redo and coll.redo_label == "Add"
    coll.redo()
    assert [o.id for o in coll] == [a.id, b.id]
    measured = b.with_changes(measurements={"Area": 900.0})
    coll.apply(Edit.change([b], [measured]), undoable=False)
    assert coll.history_pos == 2 and coll.get(b.id).measurements["Area"] == 900.0
    kinds: list[str] = []
    coll.subscribe(lambda e: kinds.append(e.kind))
    coll.reset([b])
    assert kinds == ["reset"] and coll.history == [] and coll.objects() == [b]
    assert [o.id for o in coll.query((0, 0, 100, 100))] == [b.id]
    with pytest.raises(ValueError):
        AnnotationCollection(history=history, history_pos=3)


def test_a_failing_listener_does_not_silence_the_others() -> None:
    coll = AnnotationCollection()
    heard: list[str] = []

    def broken(_: CollectionEvent) -> None:
        raise RuntimeError("listener bug")

    coll.subscribe(broken)
    coll.subscribe(lambda e: heard.append(e.kind))
    with pytest.raises(RuntimeError):
        coll.apply(Edit.add([_square(0, 0)]))
    assert heard == ["applied"] and len(coll) == 1


def test_undoing_a_delete_puts_the_object_back_at_its_depth() -> None:
    a, b, c = _square(0, 0, 50), _square(10, 10, 50), _square(20, 20, 50)
    coll = AnnotationCollection([a, b, c])
    coll.query((0, 0, 1, 1))  # build the index first
    coll.apply(Edit.remove([b]))
    d = _square(30, 30, 50)
    coll.apply(Edit.add([d]))
    coll.undo()
    coll.undo()
    assert [o.id for o in coll] == [a.id, b.id, c.id]
    assert [o.id for o in coll.query((0, 0, 100, 100))] == [a.id, b.id, c.id]
    assert coll.hit(25, 25) is c  # b is below c again, not on top
    coll.redo()
    coll.redo()
    assert [o.id for o in coll] == [a.id, c.id, d.id]
