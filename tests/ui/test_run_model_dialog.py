"""The run-model dialog: checkpoint check, defaults, the request it returns."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialogButtonBox

from ui.dialogs.run_model_dialog import (
    RunModelDialog,
    checkpoint_problem,
    default_output_dir,
)


def test_checkpoint_problem(tmp_path: Path) -> None:
    assert "Choose a checkpoint" in checkpoint_problem("")
    assert ".json or .safetensors" in checkpoint_problem(str(tmp_path / "m.pt"))
    (tmp_path / "m.json").write_text("{}")
    assert "missing" in checkpoint_problem(str(tmp_path / "m.json"))
    (tmp_path / "m.safetensors").write_bytes(b"")
    assert checkpoint_problem(str(tmp_path / "m.json")) == ""
    assert checkpoint_problem(str(tmp_path / "m.safetensors")) == ""


def test_default_output_next_to_slide_or_under_root(tmp_path: Path) -> None:
    slide = tmp_path / "case 7.svs"
    out = default_output_dir(slide, tmp_path / "tumour.json")
    assert out == tmp_path / "case 7-tumour-pathscaat"
    assert default_output_dir(slide, None, "/data/runs") == Path(
        "/data/runs/case 7-model-pathscaat"
    )


def test_dialog_request(qtbot, tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text("{}")
    (tmp_path / "m.safetensors").write_bytes(b"")
    slide = tmp_path / "s.svs"
    dlg = RunModelDialog(slide, device="cpu", saliency="gradcam")
    qtbot.addWidget(dlg)
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled() and dlg.problem.text()
    dlg.checkpoint_edit.setText(str(tmp_path / "m.json"))
    assert ok.isEnabled() and dlg.problem.text() == ""
    req = dlg.request()
    assert req.checkpoint == tmp_path / "m.json"
    assert req.out == tmp_path / "s-m-pathscaat"
    assert (req.device, req.saliency, req.slide) == ("cpu", "gradcam", slide)
    dlg.out_edit.setText(str(tmp_path / "mine"))
    dlg.out_edit.textEdited.emit(str(tmp_path / "mine"))
    dlg.checkpoint_edit.setText(str(tmp_path / "m.safetensors"))
    assert dlg.request().out == tmp_path / "mine"  # a folder the user typed is kept


def test_default_output_is_per_user_when_the_slide_folder_is_read_only_or_shared(
    qtbot, tmp_path: Path
) -> None:
    from ui.dialogs.run_model_dialog import is_private_folder, user_runs_dir

    own, read_only, shared = tmp_path / "own", tmp_path / "scanner", tmp_path / "lab"
    for folder, mode in ((own, 0o755), (read_only, 0o555), (shared, 0o775)):
        folder.mkdir()
        folder.chmod(mode)
    try:
        assert is_private_folder(own)
        assert not is_private_folder(read_only) and not is_private_folder(shared)
        assert default_output_dir(own / "a.svs", None) == own / "a-model-pathscaat"
        for folder in (read_only, shared):
            out = default_output_dir(folder / "case 7.svs", tmp_path / "m.json")
            assert out.parent == user_runs_dir() and out.name.startswith("case 7-m-pathscaat-")
        other = default_output_dir(shared / "x" / "case 7.svs", tmp_path / "m.json")
        assert other != default_output_dir(shared / "case 7.svs", tmp_path / "m.json")
        project = tmp_path / "project"
        assert default_output_dir(read_only / "a.svs", None, project=project) == (
            project / "overlays" / "a-model-pathscaat"
        )
        (tmp_path / "m.json").write_text("{}")
        (tmp_path / "m.safetensors").write_bytes(b"")
        dlg = RunModelDialog(read_only / "s.svs", checkpoint=str(tmp_path / "m.json"))
        qtbot.addWidget(dlg)
        assert dlg.request().out.parent == user_runs_dir()  # what the user sees and gets
    finally:
        read_only.chmod(0o755)


def test_a_project_slide_has_no_output_folder_to_type(qtbot, tmp_path: Path) -> None:
    kept = tmp_path / "proj" / "overlays" / "s"
    dlg = RunModelDialog(tmp_path / "s.svs", project_output=kept)
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.out_edit.isVisible()
    assert dlg.request().out == kept
