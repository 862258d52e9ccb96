"""Kill -9 at random points: every committed edit survives and the file stays sound.

A forked child reopens the project into an ``AnnotationCollection`` bound to it and makes
random edits (add, change, remove, non-undoable edits, undo, redo). Before each commit it
reports the digest the state will have, after it "done". The parent kills it with SIGKILL
after a random delay, reopens the project and checks that the stored state is the last
done one, or the one in flight (committed but not yet reported), and nothing else.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import Polygon

from pathscaat.annotations.collection import AnnotationCollection
from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, PathClass, ToolShape
from pathscaat.project import Project
from pathscaat.project.binding import ProjectBinding
from pathscaat.project.codec import to_row

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs os.fork and SIGKILL"),
]
CLASSES = [PathClass.named("Tumor"), PathClass.named("Stroma"), None]


def digest(objects: list[Annotation], history: list[Edit], pos: int) -> str:
    h = hashlib.sha1(f"{pos}/{len(history)}/{[e.label for e in history]}".encode())
    for obj in sorted(objects, key=lambda o: o.id):
        h.update(repr(to_row(obj)).encode())
    return h.hexdigest()


def _random_edit(rng: random.Random, objects: dict[str, Annotation], n: int) -> Edit:
    kind = rng.choice(["add", "add", "change", "remove"]) if objects else "add"
    if kind == "add":
        x, y = rng.uniform(0, 1000), rng.uniform(0, 1000)
        poly = Polygon([(x, y), (x + 30, y), (x + 15, y + rng.uniform(5, 40))])
        obj = Annotation(poly, path_class=rng.choice(CLASSES), tool=ToolShape.POLYGON,
                         measurements={"score": rng.choice([rng.random(), float("nan")])})
        return Edit.add([obj], label=f"add {n}")
    target = objects[rng.choice(sorted(objects))]
    if kind == "remove":
        return Edit.remove([target], label=f"remove {n}")
    after = target.with_changes(name=f"edit {n}", path_class=rng.choice(CLASSES))
    return Edit.change([target], [after], label=f"change {n}")


def _child(root: Path, slide_id: int, fd: int, seed: int) -> None:
    """Edit forever through a bound collection, as the app does.

    A listener subscribed before the binding reports ``pending <digest>`` of the new
    state before the binding commits it; ``done`` follows once the call returned.
    """
    rng = random.Random(seed)
    project = Project.open(root)
    assert not project.read_only
    history, pos = project.history(slide_id)
    coll = AnnotationCollection(project.annotations(slide_id), history=history, history_pos=pos)

    def report(_event: object) -> None:
        state = digest(coll.objects(), coll.history, coll.history_pos)
        os.write(fd, f"pending {state}\n".encode())

    coll.subscribe(report)
    ProjectBinding(project, slide_id, coll)
    for n in range(10_000):
        op = rng.random()
        if op < 0.15 and coll.can_undo:
            coll.undo()
        elif op < 0.25 and coll.can_redo:
            coll.redo()
        else:
            objects = {o.id: o for o in coll.objects()}
            coll.apply(_random_edit(rng, objects, n), undoable=op < 0.95)
        os.write(fd, b"done\n")


def _run_child(root: Path, slide_id: int, seed: int, delay_s: float) -> list[str]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        os.close(read_fd)
        try:
            _child(root, slide_id, write_fd, seed)
        finally:
            os._exit(0)
    os.close(write_fd)
    time.sleep(delay_s)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    with os.fdopen(read_fd, "rb") as pipe:
        return pipe.read().decode().split()


def _allowed(lines: list[str], committed: str) -> set[str]:
    """The last reported-done digest, and the in-flight one if any."""
    states = [committed]
    for i, word in enumerate(lines):
        if word == "pending":
            states.append(lines[i + 1])
    done = lines.count("done")
    return set(states[done:done + 2])


def test_kill_9_loses_nothing_committed(tmp_path: Path) -> None:
    slide = tmp_path / "slide.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(slide)
    with Project.create(tmp_path / "proj") as project:
        slide_id = project.add_slide(slide)[0].id
    committed = digest([], [], 0)
    rng = random.Random(7)
    edits_seen = 0
    for trial in range(50):
        lines = _run_child(tmp_path / "proj", slide_id, seed=trial, delay_s=rng.uniform(0, 0.25))
        allowed = _allowed(lines, committed)
        edits_seen += lines.count("done")
        with Project.open(tmp_path / "proj") as project:
            assert not project.read_only, "the killed child's lock was not taken over"
            assert project.integrity_check() == "ok"
            history, pos = project.history(slide_id)
            committed = digest(project.annotations(slide_id), history, pos)
        assert committed in allowed, f"trial {trial}: stored state is not a committed one"
    assert edits_seen > 50, "the children were killed before they made enough edits"
