"""Schema versions: a v1 file (as the first store wrote it) migrates; a newer one is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import shapely
from PIL import Image
from shapely.geometry import box

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, PathClass, ToolShape
from pathscaat.progress import PathscaatError
from pathscaat.project import DB_NAME, Project
from pathscaat.project.relink import quick_hash
from pathscaat.project.schema import SCHEMA_VERSION

# The v1 schema exactly as released; frozen here so that editing the step in code fails.
V1 = """
CREATE TABLE slides (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, mpp_override REAL,
                     added_at TEXT NOT NULL);
CREATE TABLE classes (name TEXT PRIMARY KEY, colour INTEGER NOT NULL, sort_order INTEGER NOT NULL);
CREATE TABLE annotations (
    slide_id INTEGER NOT NULL REFERENCES slides(id) ON DELETE CASCADE, id TEXT NOT NULL,
    seq INTEGER NOT NULL, geometry BLOB NOT NULL, object_type TEXT NOT NULL, class_name TEXT,
    class_colour INTEGER, name TEXT, locked INTEGER NOT NULL DEFAULT 0,
    measurements TEXT NOT NULL DEFAULT '{}', metadata TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (slide_id, id));
CREATE INDEX annotations_by_seq ON annotations (slide_id, seq);
PRAGMA user_version = 1;
"""


def _v1_project(tmp_path: Path) -> Path:
    root = tmp_path / "old"
    (root / "slides").mkdir(parents=True)
    Image.fromarray(np.full((40, 50, 3), 200, np.uint8)).save(root / "slides" / "s.png")
    conn = sqlite3.connect(root / DB_NAME)
    conn.executescript(V1)
    conn.execute("INSERT INTO slides VALUES (1, 'slides/s.png', 0.25, '2026-01-01T00:00:00')")
    conn.execute("INSERT INTO classes VALUES ('Tumor', ?, 0)", (0xC80000,))
    rows = [("a", 0, shapely.to_wkb(box(0, 0, 10, 10)), "annotation", "Tumor", 0xC80000, "first",
             1, '{"area": 100.0, "x": NaN}', '{"by": "v1"}'),
            ("b", 1, shapely.to_wkb(box(5, 5, 8, 8)), "detection", None, None, None, 0, "{}",
             "{}")]
    conn.executemany("INSERT INTO annotations VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return root


def test_v1_file_migrates_and_keeps_everything(tmp_path: Path) -> None:
    root = _v1_project(tmp_path)
    with Project.open(root) as project:
        assert sqlite3.connect(root / DB_NAME).execute(
            "PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        a, b = project.annotations(1)
        assert (a.id, a.name, a.locked, a.path_class) == ("a", "first", True,
                                                          PathClass("Tumor", (200, 0, 0)))
        assert a.measurements["area"] == 100.0 and np.isnan(a.measurements["x"])
        assert dict(a.metadata) == {"by": "v1"} and a.tool == ToolShape.IMPORTED
        assert a.geometry.equals(box(0, 0, 10, 10)) and b.object_type.value == "detection"
        (slide,) = project.slides()
        assert slide.found and slide.mpp_override == 0.25
        assert slide.quick_hash == quick_hash(root / "slides" / "s.png")  # backfilled
        assert project.history(1) == ([], 0)
        project.apply_edit(1, Edit.add([Annotation(box(1, 1, 2, 2))]))  # v2 tables work
        assert project.integrity_check() == "ok"
    with Project.open(root) as again:  # a second open runs no step twice
        assert len(again.annotations(1)) == 3


def test_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    Project.create(tmp_path / "p").close()
    db = tmp_path / "p" / DB_NAME
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(PathscaatError, match=r"newer PathSCAAT.*update PathSCAAT"):
        Project.open(tmp_path / "p")
    with pytest.raises(PathscaatError, match="newer PathSCAAT"):
        Project.open(tmp_path / "p", read_only=True)
    assert db.read_bytes() == before
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.close()
    with Project.open(tmp_path / "p") as project:  # the refusal released the writer's lock
        assert not project.read_only


def test_a_failing_migration_leaves_the_v1_file_as_it_was(tmp_path: Path) -> None:
    root = _v1_project(tmp_path)
    conn = sqlite3.connect(root / DB_NAME)
    conn.execute("CREATE TABLE history (x)")  # v2 creates this table: the step must fail
    conn.commit()
    conn.close()
    with pytest.raises(PathscaatError, match=r"could not be upgraded.*unchanged"):
        Project.open(root)
    conn = sqlite3.connect(root / DB_NAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    columns = [r[1] for r in conn.execute("PRAGMA table_info(slides)")]
    assert "quick_hash" not in columns  # the ALTERs before the failure were rolled back
    assert conn.execute("SELECT COUNT(*) FROM annotations").fetchone()[0] == 2
    conn.close()
