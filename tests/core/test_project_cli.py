"""``pathscaat project init|add|list|relink|export``: outputs, exit codes, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import box

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation, PathClass
from pathscaat.cli.main import main
from pathscaat.project import Project


def _png(path: Path, seed: int = 0) -> Path:
    rgb = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("pathscaat: error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_init_add_list(tmp_path: Path, cmu_svs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "proj"
    assert main(["project", "init", str(root)]) == 0
    assert (root / "project.sqlite").is_file() and (root / "exports").is_dir()
    png = _png(tmp_path / "a slide [1].png")
    bad = tmp_path / "broken.svs"
    bad.write_bytes(b"\0garbage" * 50)
    code = main(["project", "add", str(root), str(png), str(bad), str(cmu_svs),
                 "--progress", "none"])
    out, err = capsys.readouterr()
    assert code == 1 and str(bad) in _one_line_error(err)  # the bad one named, others added
    assert f"added: [1] {png}" in out and f"added: [2] {cmu_svs}" in out
    assert main(["project", "add", str(root), str(png), "--progress", "none"]) == 0
    assert "already in the project: [1]" in capsys.readouterr().out

    with Project.open(root) as project:
        tumour = PathClass("Tumor", (200, 0, 0))
        project.apply_edit(2, Edit.add([Annotation(box(0, 0, 9, 9), path_class=tumour),
                                        Annotation(box(1, 1, 5, 5), path_class=tumour),
                                        Annotation(box(2, 2, 3, 3))]))
    assert main(["project", "list", str(root), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [s["path"] for s in info["slides"]] == [str(png), str(cmu_svs)]
    assert info["slides"][1]["annotations"] == {"": 1, "Tumor": 2}
    assert info["slides"][1]["size_px"] == [2220, 2967] and info["classes"][0]["name"] == "Tumor"
    assert main(["project", "list", str(root)]) == 0
    text = capsys.readouterr().out
    assert "annotations: 3 (unclassified 1, Tumor 2)" in text and "models:  0" in text


def test_changes_refused_while_another_holds_it(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "proj"
    assert main(["project", "init", str(root)]) == 0
    with Project.open(root):  # the app, say: this process now holds the writer's lock
        assert main(["project", "add", str(root), str(_png(tmp_path / "a.png"))]) == 1
        assert "read-only" in _one_line_error(capsys.readouterr().err)
        assert main(["project", "list", str(root)]) == 0  # reading is fine
        assert "note:    " in capsys.readouterr().out


def test_relink_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "proj"
    png = _png(tmp_path / "s.png")
    assert main(["project", "init", str(root)]) == 0
    assert main(["project", "add", str(root), str(png), "--progress", "none"]) == 0
    (tmp_path / "moved").mkdir()
    shutil.move(png, tmp_path / "moved" / "s2.png")
    assert main(["project", "relink", str(root), str(tmp_path / "nowhere")]) == 1
    assert "still missing: [1]" in capsys.readouterr().err
    assert main(["project", "relink", str(root), str(tmp_path / "moved")]) == 0
    assert f"relinked: [1] {tmp_path / 'moved' / 's2.png'}" in capsys.readouterr().out


def test_errors_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["project", "list", str(tmp_path)]) == 1
    assert "not a PathSCAAT project" in _one_line_error(capsys.readouterr().err)
    assert main(["project", "init", str(tmp_path / "p")]) == 0
    assert main(["project", "init", str(tmp_path / "p")]) == 1
    assert "already a PathSCAAT project" in _one_line_error(capsys.readouterr().err)
    for argv in (["project"], ["project", "add", str(tmp_path / "p")],
                 ["project", "export", str(tmp_path / "p")],
                 ["project", "add", str(tmp_path / "p"), "x.svs", "--mpp", "0"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
