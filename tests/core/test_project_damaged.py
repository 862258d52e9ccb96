"""A damaged project store: one clear line and a read-only way in, never an sqlite3
traceback; an empty file is not taken as a new project; a failed write on a damaged file
does not ask for disk space."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pathscaat.cli.main import main
from pathscaat.project import DB_NAME, Project, ProjectDamagedError
from pathscaat.project.connection import _sqlite_failure


def _project(tmp_path: Path, cmu_svs: Path) -> Path:
    root = tmp_path / "proj"
    with Project.create(root) as project:
        project.add_slide(cmu_svs)
    return root


def _undecodable(root: Path) -> None:
    """Bytes that are not UTF-8 in the middle of a stored slide path (a bit flip, a bad
    sector): SQLite's own check passes, Python's text decoding fails."""
    db = root / DB_NAME
    data = db.read_bytes()
    at = data.find(b"CMU-1-Small")
    db.write_bytes(data[:at] + b"\xff\xfe\xff" + data[at + 3:])


def _malformed(root: Path) -> None:
    """Garbage over the file's last pages (tables and indexes)."""
    db = root / DB_NAME
    data = bytearray(db.read_bytes())
    for k in range(len(data) - 8192, len(data) - 4096):
        data[k] = (k * 131) % 256
    db.write_bytes(bytes(data))


def _one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    lines = [x for x in err if x.startswith("pathscaat")]
    assert len(lines) == 1 and lines[0].startswith("pathscaat: error:"), lines
    assert err[-1] == lines[0], err  # nothing after it (a progress line, say)
    return lines[0]


@pytest.mark.parametrize("damage", [_undecodable, _malformed])
def test_damaged_store_gives_one_line_and_a_read_only_way_in(
    tmp_path: Path, cmu_svs: Path, capsys: pytest.CaptureFixture[str], damage: object
) -> None:
    root = _project(tmp_path, cmu_svs)
    damage(root)  # type: ignore[operator]
    before = (root / DB_NAME).read_bytes()
    for argv in (["list", str(root)], ["relink", str(root), str(tmp_path)],
                 ["export", str(root), "--out", str(tmp_path / "out")],
                 ["add", str(root), str(cmu_svs)]):  # fmt: skip
        assert main(["project", *argv]) == 1, argv
        line = _one_error(capsys)
        assert "is damaged" in line and "--read-only" in line, line
        assert "Free disk space" not in line and "Traceback" not in line
    assert (root / DB_NAME).read_bytes() == before  # nothing written, nothing migrated
    with pytest.raises(ProjectDamagedError), Project.open(root) as project:
        project.slides()  # bad text passes SQLite's check on open; reading it fails cleanly


def test_read_only_open_of_damaged_text_shows_what_is_left(
    tmp_path: Path, cmu_svs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, cmu_svs)
    _undecodable(root)
    assert main(["project", "list", str(root), "--read-only"]) == 0
    assert "opened read-only" in capsys.readouterr().out
    with Project.open(root, read_only=True) as project:
        assert project.read_only and len(project.slides()) == 1


def test_malformed_store_opened_read_only_says_it_is_damaged(
    tmp_path: Path, cmu_svs: Path
) -> None:
    root = _project(tmp_path, cmu_svs)
    _malformed(root)
    with Project.open(root, read_only=True) as project:
        assert project.notice is not None and "is damaged" in project.notice


def test_empty_store_is_not_taken_as_a_new_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / DB_NAME).touch()
    assert main(["project", "list", str(root)]) == 1
    assert "is empty (0 bytes)" in _one_error(capsys)
    assert (root / DB_NAME).stat().st_size == 0  # no schema written into it
    with Project.create(tmp_path / "fresh") as project:  # init still works
        assert project.slides() == []


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    conn = sqlite3.connect(root / DB_NAME)
    conn.execute("CREATE TABLE moz_places (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(Exception, match="another program"):
        Project.open(root)
    assert [r[0] for r in sqlite3.connect(root / DB_NAME).execute(
        "SELECT name FROM sqlite_master")] == ["moz_places"]  # fmt: skip


def test_only_a_full_disk_asks_for_disk_space(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorname = "SQLITE_FULL"  # type: ignore[attr-defined]
    assert "Free disk space" in _sqlite_failure(db, full)
    corrupt = sqlite3.DatabaseError("database disk image is malformed")
    corrupt.sqlite_errorname = "SQLITE_CORRUPT"  # type: ignore[attr-defined]
    assert "Free disk space" not in _sqlite_failure(db, corrupt)
    assert "is damaged" in _sqlite_failure(db, corrupt)
