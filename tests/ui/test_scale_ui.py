"""Scale in the app: the Run dialog asks for a missing µm/px, a project keeps the µm/px the
user set across a restart, overlays state their scale, the wizard shows the model's.

Real widgets and a real project store; checkpoints are their JSON half plus an empty
weights file (the dialog reads only the JSON), patches tiny generated PNGs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QDialog

from pathscaat.slides.base import Mpp
from tests.ui.project_fixtures import make_window, open_and_wait, overlays_for, picture
from ui.dialogs.run_model_dialog import RunModelDialog
from ui.wizard.scale_text import scale_text


def checkpoint(folder: Path, mpp: float | None, input_px: int = 96) -> Path:
    """A checkpoint's JSON (what the dialog reads) and a stand-in weights file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "m.json").write_text(json.dumps({"mpp": mpp, "input_px": input_px}))
    (folder / "m.safetensors").write_bytes(b"")
    return folder / "m.json"


class Prompt:
    """Stands in for the window's Set µm/px prompt: answers each call from ``answers``."""

    def __init__(self, *answers: Mpp | None) -> None:
        self.answers, self.reasons = list(answers), []

    def __call__(self, reason: str) -> Mpp | None:
        self.reasons.append(reason)
        return self.answers.pop(0)


def test_run_dialog_asks_for_a_missing_mpp_before_running(qtbot, tmp_path: Path) -> None:
    prompt = Prompt(None, Mpp(0.5, 0.5, "user"))
    dlg = RunModelDialog(tmp_path / "tcga.svs", checkpoint=str(checkpoint(tmp_path, 0.773)),
                         slide_mpp=None, ask_mpp=prompt)  # fmt: skip
    qtbot.addWidget(dlg)
    assert dlg.scale.needs_mpp and not dlg.scale.set_button.isHidden()
    assert "does not record its pixel size" in dlg.scale.text.text()
    dlg.accept()  # Run: the prompt comes; cancelling it keeps the dialog open
    assert dlg.result() != QDialog.DialogCode.Accepted
    assert "0.773 µm/px" in prompt.reasons[0] and "tcga.svs" in prompt.reasons[0]
    dlg.accept()  # Run again: this time a µm/px is given
    assert dlg.result() == QDialog.DialogCode.Accepted
    assert not dlg.scale.needs_mpp and dlg.scale.set_button.isHidden()
    assert "this slide is 0.5 µm/px" in dlg.scale.text.text()


def test_run_dialog_states_the_scale_and_takes_a_minimum_tissue(qtbot, tmp_path: Path) -> None:
    slide_mpp = Mpp(0.499, 0.499, "openslide")
    dlg = RunModelDialog(tmp_path / "s.svs", checkpoint=str(checkpoint(tmp_path / "a", 0.773)),
                         slide_mpp=slide_mpp, min_tissue=0.5)  # fmt: skip
    qtbot.addWidget(dlg)
    text = dlg.scale.text.text()
    assert "74 µm tiles (96 px at 0.773 µm/px)" in text and "0.499 µm/px" in text
    assert dlg.scale.set_button.isHidden() and "⚠" not in text
    dlg.min_tissue.setValue(10)
    assert dlg.request().min_tissue == 0.1
    dlg.checkpoint_edit.setText(str(checkpoint(tmp_path / "b", 16.0, 64)))  # 1 mm tiles
    text = dlg.scale.text.text()
    assert "coarser than the usual" in text and "lower Minimum tissue" in text
    dlg.checkpoint_edit.setText(str(checkpoint(tmp_path / "c", None)))
    assert "records no µm/px" in dlg.scale.text.text() and not dlg.scale.needs_mpp


def test_a_projects_mpp_survives_a_restart_and_can_be_reset(qtbot, tmp_path: Path) -> None:
    slide = picture(tmp_path / "slides", "no-mpp.png")
    win = make_window(qtbot, tmp_path / "settings.ini")
    assert win.projects.new_project(tmp_path / "proj")
    win.projects.add_slides([slide])
    open_and_wait(qtbot, win, slide)
    assert win.slide.mpp is None
    win.info_panel.apply_mpp(0.5)  # what Set µm/px… does
    project = win.projects.session.project
    assert project.slides()[0].mpp_override == 0.5
    assert win.slide.mpp.source == "project"
    assert "saved in the project" in win.info_panel.fields["Source"].text()
    win.close()

    again = make_window(qtbot, tmp_path / "settings.ini")  # reopens the last project
    assert again.projects.session.project is not None
    open_and_wait(qtbot, again, slide)
    assert again.slide.mpp == Mpp(0.5, 0.5, "project")
    assert "saved in the project" in again.info_panel.fields["Source"].text()
    assert not again.info_panel.reset_mpp_button.isHidden()
    again.info_panel.clear_mpp()
    assert again.slide.mpp is None
    assert again.projects.session.project.slides()[0].mpp_override is None
    again.close()


def test_overlays_state_their_scale_in_the_panel_and_the_exported_legend(
    qtbot, tmp_path: Path
) -> None:
    from pathscaat.inference.overlays import OverlaySet
    from pathscaat.inference.scale import RunScale, SlideMpp
    from ui.export_paint import legend_spec, paint_legends

    slide = picture(tmp_path / "slides", "s.png")
    folder = overlays_for(slide, tmp_path / "run")
    overlay_set = OverlaySet.load(folder)
    overlay_set.scale = RunScale(SlideMpp(0.5, "user"), 2.0, 32, 128.0).to_dict()
    overlay_set.save()
    win = make_window(qtbot, tmp_path / "settings.ini")
    open_and_wait(qtbot, win, slide)
    win.load_overlays(folder)
    note = win.layers_panel.scale_note
    assert not note.isHidden()
    assert note.text() == f"Scale: {overlay_set.scale_text}"
    assert "user-set in the app" in note.text() and "2 µm/px" in note.text()
    layers = win.viewer.overlays()

    def legend(with_scale: bool) -> QImage:
        for layer in layers:
            layer.scale_text = overlay_set.scale_text if with_scale else ""
        image = QImage(800, 600, QImage.Format.Format_RGB32)
        image.fill(0)
        painter = QPainter(image)
        paint_legends(painter, image, [legend_spec(layer) for layer in layers])
        painter.end()
        return image

    def legend_top(image: QImage) -> int:
        """First row of the legend box (painted near-white on black)."""
        column = [image.pixelColor(790, y).lightness() for y in range(image.height())]
        return next(y for y, v in enumerate(column) if v > 200)

    assert legend_top(legend(True)) < legend_top(legend(False))  # a taller box: the scale
    win.close()


def _patches(folder: Path, side: int) -> Path:
    rng = np.random.default_rng(0)
    for name in ("bone", "tumour"):
        (folder / name).mkdir(parents=True)
        for i in range(2):
            rgb = rng.integers(0, 255, (side, side, 3), dtype=np.uint8)
            Image.fromarray(rgb).save(folder / name / f"{i}.png")
    return folder


def test_wizard_shows_the_models_field_of_view_and_warns(qtbot, tmp_path: Path) -> None:
    from ui.settings import Settings
    from ui.wizard import TrainingWizard

    wiz = TrainingWizard(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(wiz)
    wiz.show()
    wiz.data_page.set_folders([str(_patches(tmp_path / "patches", 512))])
    qtbot.waitUntil(lambda: not wiz.data_page.scanning, timeout=60000)
    wiz.next()
    wiz.next()
    page = wiz.model_page
    page.mpp.setValue(2.0)  # 512 px patches at 2 µm/px: 1 mm of tissue each
    page.input_px.setValue(64)
    assert "1.02 mm × 1.02 mm" in page.scale_line.text()
    assert "reads slides at 16 µm/px" in page.scale_line.text()
    warning = page.scale_warning.text()
    assert "coarser" in warning and "Raise Input size" in warning
    page.validatePage()
    summary = wiz.train_page._summary_html()
    assert "64 px input at 16 µm/px" in summary and "at 2 µm/px" not in summary
    assert "Field of view" in summary and "coarser" in summary
    page.mpp.setValue(0.5)
    page.input_px.setValue(512)  # 256 µm at 0.5 µm/px: nothing to warn about
    assert "0.5 µm/px" in page.scale_line.text() and page.scale_warning.isHidden()
    qtbot.waitUntil(lambda: not wiz.ctx.background.busy(), timeout=120000)  # timm checks
    wiz.shutdown()


def test_scale_text_wording() -> None:
    osteo = scale_text(1.0, 1024, 64, from_project=True)
    assert osteo.model_mpp == 16.0 and osteo.field_um == 1024.0
    assert any("smaller tile size on the Data page" in w for w in osteo.warnings)
    assert len(osteo.warnings) == 2  # too coarse, and tiles larger than many biopsies
    assert "enlarged" in scale_text(0.25, 64, 224).line
    assert scale_text(None, 224, 224).model_mpp is None
    assert "several sizes" in scale_text(0.5, None, 224).line


def test_set_mpp_prompt_fills_in_no_guess(qtbot) -> None:
    from PySide6.QtWidgets import QDialogButtonBox, QPushButton

    from ui.dialogs.mpp_dialog import MppDialog

    dlg = MppDialog("tcga.svs", None, "the model was trained at 0.773 µm/px")
    qtbot.addWidget(dlg)
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert dlg.spin.value() == 0 and not ok.isEnabled()  # Enter alone sets nothing
    twenty = next(b for b in dlg.findChildren(QPushButton) if b.text() == "0.5 (20×)")
    twenty.click()
    assert dlg.value() == 0.5 and ok.isEnabled()
    assert MppDialog("s.svs", 0.2527, "").value() == 0.2527  # a known value is kept
