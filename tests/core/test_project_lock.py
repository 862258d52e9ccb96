"""One writer: a second process gets the project read-only with a notice; a dead one's lock
is taken over."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import box

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation
from pathscaat.project import Project, ProjectReadOnlyError

REPO_ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sys
from shapely.geometry import box
from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation
from pathscaat.project import Project
project = Project.open(sys.argv[1])
project.apply_edit(1, Edit.add([Annotation(box(0, 0, 3, 3), id="from-holder")]))
print("ready" if not project.read_only else "read-only", flush=True)
sys.stdin.read()
"""


def _project_with_slide(tmp_path: Path) -> Path:
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "s.png")
    with Project.create(tmp_path / "proj") as project:
        project.add_slide(tmp_path / "s.png")
    return tmp_path / "proj"


def _holder(root: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_second_process_reads_only_and_a_killed_holder_is_taken_over(tmp_path: Path) -> None:
    root = _project_with_slide(tmp_path)
    proc = _holder(root)
    try:
        with Project.open(root) as second:
            assert second.read_only and second.notice is not None
            assert f"pid {proc.pid}" in second.notice and "read-only" in second.notice
            assert [a.id for a in second.annotations(1)] == ["from-holder"]  # sees commits
            with pytest.raises(ProjectReadOnlyError, match="not saved"):
                second.apply_edit(1, Edit.add([Annotation(box(0, 0, 1, 1))]))
    finally:
        proc.kill()  # SIGKILL: no clean-up runs in the holder
        proc.wait()
    with Project.open(root) as third:
        assert not third.read_only and third.integrity_check() == "ok"
        third.apply_edit(1, Edit.add([Annotation(box(0, 0, 1, 1))]))
        assert len(third.annotations(1)) == 2


def test_same_process_second_opener_is_read_only_until_the_first_closes(tmp_path: Path) -> None:
    root = _project_with_slide(tmp_path)
    first = Project.open(root)
    with Project.open(root) as second:
        assert second.read_only and f"pid {os.getpid()}" in (second.notice or "")
    first.close()
    with Project.open(root) as third:
        assert not third.read_only
