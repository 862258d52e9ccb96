"""The project store: layout, every Annotation field round-trips, undo log, classes, models."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import LineString, MultiPoint, MultiPolygon, Point, Polygon, box

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, ObjectType, PathClass, ToolShape
from pathscaat.progress import PathscaatError
from pathscaat.project import DB_NAME, Project, ProjectReadOnlyError
from pathscaat.project.schema import SCHEMA_VERSION
from pathscaat.slides import SlideError


def make_slide(path: Path, seed: int = 0, size: tuple[int, int] = (96, 128)) -> Path:
    rgb = np.random.default_rng(seed).integers(0, 255, (*size, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    return path


@pytest.fixture
def project(tmp_path: Path):
    with Project.create(tmp_path / "proj #1 [100%]") as proj:  # URI-special characters
        yield proj


def every_kind() -> list[Annotation]:
    holed = Polygon([(0, 0), (100, 0), (100, 100), (0, 100)], [[(10, 10), (20, 10), (20, 20)]])
    return [
        Annotation(holed, path_class=PathClass("Tumor: Positive", (1, 2, 3)), name="holed",
                   locked=True, measurements={"a": 1.5, "nan": math.nan, "inf": math.inf},
                   metadata={"who": "me"}, tool=ToolShape.POLYGON,
                   extra={"properties": {"isEllipse": False, "nested": [1, {"k": None}]}}),
        Annotation(MultiPolygon([box(0, 0, 1, 1), box(5, 5, 7.25, 9.125)]),
                   object_type=ObjectType.DETECTION, tool=ToolShape.BRUSH),
        Annotation(LineString([(0.1, 0.2), (3.3, 4.4)]), tool=ToolShape.POLYLINE,
                   object_type=ObjectType.TILE, parent_id="parent-1"),
        Annotation(Point(1e6 + 0.123456789, 2.5), object_type=ObjectType.CELL),
        Annotation(MultiPoint([(1, 2), (3, 4)]), tool=ToolShape.POINTS, name="ünï ✓"),
    ]


def test_layout_and_pragmas(project: Project) -> None:
    assert {p.name for p in project.root.iterdir()} >= {DB_NAME, "overlays", "models", "exports"}
    conn = sqlite3.connect(project.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_every_field_round_trips_through_a_reopen(tmp_path: Path, project: Project) -> None:
    slide_id = project.add_slide(make_slide(tmp_path / "a.png"))[0].id
    objects = every_kind()
    project.apply_edit(slide_id, Edit.add(objects))
    project.close()
    with Project.open(project.root) as again:
        back = again.annotations(slide_id)
        assert back == objects  # Annotation.__eq__ compares every field; NaN equals NaN
        assert [type(o.geometry) for o in back] == [type(o.geometry) for o in objects]
        assert back[0].geometry.interiors[0].coords[:] == objects[0].geometry.interiors[0].coords[:]
        assert back[0].path_class == PathClass("Tumor: Positive", (1, 2, 3))
        assert [c.name for c in again.classes()] == ["Tumor: Positive"]


def test_history_survives_a_reopen_and_undo_redo_move_its_position(
        tmp_path: Path, project: Project) -> None:
    slide_id = project.add_slide(make_slide(tmp_path / "a.png"))[0].id
    a = Annotation(box(0, 0, 5, 5), tool=ToolShape.RECTANGLE)
    b = a.with_changes(geometry=box(1, 1, 6, 6), name="moved")
    add, move = Edit.add([a], "Add rectangle"), Edit.change([a], [b], "Move")
    project.apply_edit(slide_id, add)
    project.apply_edit(slide_id, move)
    project.record_undo(slide_id, move.inverse())
    assert project.annotations(slide_id) == [a]
    project.close()
    with Project.open(project.root) as again:
        history, pos = again.history(slide_id)
        assert [e.label for e in history] == ["Add rectangle", "Move"] and pos == 1
        assert history[1].changed == ((a, b),)
        again.record_redo(slide_id, history[1])
        assert again.annotations(slide_id) == [b] and again.history(slide_id)[1] == 2
        c = Annotation(Point(3, 3))
        again.record_undo(slide_id, history[1].inverse())
        again.apply_edit(slide_id, Edit.add([c], "Add point"))  # drops the redo stack
        history, pos = again.history(slide_id)
        assert [e.label for e in history] == ["Add rectangle", "Add point"] and pos == 2
        assert again.annotations(slide_id) == [a, c]
        with pytest.raises(PathscaatError, match="out of step"):
            again.record_redo(slide_id, history[1])


def test_non_undoable_edit_keeps_the_log(tmp_path: Path, project: Project) -> None:
    slide_id = project.add_slide(make_slide(tmp_path / "a.png"))[0].id
    project.apply_edit(slide_id, Edit.add([Annotation(Point(0, 0))]), undoable=False)
    assert project.history(slide_id) == ([], 0) and len(project.annotations(slide_id)) == 1


def test_classes_keep_order_and_colour(project: Project) -> None:
    classes = [PathClass("Stroma", (0, 255, 0)), PathClass("Tumor", (255, 0, 0))]
    project.set_classes(classes)
    assert project.classes() == classes


def test_add_slide_twice_and_counts(tmp_path: Path, project: Project) -> None:
    slide = make_slide(tmp_path / "x (1).png")
    record, added = project.add_slide(slide, mpp_override=0.5)
    assert added and (record.width_px, record.height_px) == (128, 96)
    assert record.stored_path == "../x (1).png" and record.mpp_override == 0.5
    assert project.add_slide(slide) == (record, False)
    project.apply_edit(record.id, Edit.add([Annotation(Point(0, 0), path_class=PathClass("T")),
                                            Annotation(Point(1, 1))]))
    assert project.annotation_counts() == {record.id: {None: 1, "T": 1}}


def test_models_and_runs(tmp_path: Path, project: Project) -> None:
    slide_id = project.add_slide(make_slide(tmp_path / "a.png"))[0].id
    ckpt = project.root / "models" / "best.json"
    ckpt.write_text(json.dumps({"format": "pathscaat-checkpoint", "backbone": "resnet18",
                                "objective": "scaat", "class_names": ["a", "b"],
                                "metrics": {"val_acc": 0.9}}))
    model_id = project.add_model(ckpt.with_suffix(".safetensors"))
    assert project.add_model(ckpt) == model_id  # same stem: refreshed, not duplicated
    (model,) = project.models()
    assert (model.name, model.objective, model.metrics) == ("best", "scaat", {"val_acc": 0.9})
    run_id = project.add_run(slide_id, model_id, project.root / "overlays" / "a", {"mpp": 0.5})
    (run,) = project.runs(slide_id)
    assert (run.id, run.model_id, run.params) == (run_id, model_id, {"mpp": 0.5})
    assert run.output_dir == project.root / "overlays" / "a"
    with pytest.raises(PathscaatError, match=r"a\.json is missing"):
        project.add_model(tmp_path / "a.png")
    (tmp_path / "other.json").write_text('{"type": "FeatureCollection"}')
    with pytest.raises(PathscaatError, match="not a PathSCAAT checkpoint"):
        project.add_model(tmp_path / "other.json")


def test_bad_folders_and_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(PathscaatError, match="not a PathSCAAT project"):
        Project.open(tmp_path)
    Project.create(tmp_path / "p").close()
    with pytest.raises(PathscaatError, match="already a PathSCAAT project"):
        Project.create(tmp_path / "p")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(PathscaatError, match="not a readable PathSCAAT project database"):
        Project.open(tmp_path / "junk")
    with Project.create(tmp_path / "q") as project:
        with pytest.raises(SlideError, match="no slide reader"):
            project.add_slide(tmp_path / "junk" / DB_NAME)  # not a slide: refused
        assert project.slides() == []


def test_read_only_on_request_refuses_writes(tmp_path: Path) -> None:
    Project.create(tmp_path / "p").close()
    with Project.open(tmp_path / "p", read_only=True) as project:
        assert project.read_only
        with pytest.raises(ProjectReadOnlyError):
            project.set_classes([PathClass("T")])


def test_an_inference_output_becomes_a_run_with_its_model(tmp_path: Path, project: Project) -> None:
    from pathscaat.inference.overlays import OverlayInfo, OverlaySet

    slide = make_slide(tmp_path / "a.png")
    slide_id = project.add_slide(slide)[0].id
    ckpt = tmp_path / "run" / "best.json"
    ckpt.parent.mkdir()
    ckpt.write_text(json.dumps({"backbone": "resnet18", "objective": "erm",
                                "class_names": ["a", "b"], "metrics": {}}))
    out = project.root / "overlays" / "a"
    OverlaySet(out, str(slide), (128, 96), ["a", "b"],
               [OverlayInfo("saliency", "saliency", "saliency.tif", 4.0)],
               checkpoint=str(ckpt)).save()
    run_id = project.add_inference(out)
    (run,) = project.runs(slide_id)
    (model,) = project.models()
    assert (run.id, run.model_id, run.output_dir) == (run_id, model.id, out)
    assert run.params["overlays"] == ["saliency"] and model.backbone == "resnet18"
    other = tmp_path / "other.png"
    OverlaySet(tmp_path / "o", str(make_slide(other, seed=5)), (128, 96), ["a"]).save()
    with pytest.raises(PathscaatError, match="is not in the project"):
        project.add_inference(tmp_path / "o")
