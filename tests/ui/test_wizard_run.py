"""The wizard end to end: a real child ``pathscaat train --config`` on real patches.

One slow test drives the main window's wizard through every page on kather-crc-mini with
a tiny resnet10t: it trains, cancels after the first epoch (a loadable checkpoint stays),
resumes to the end, shows the curves and the saliency strip, registers the model, and
"Run on This Slide" opens the run dialog with the new model chosen.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ui.dialogs.run_model_dialog import RunModelDialog
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.wizard import TrainingWizard
from ui.wizard.run_store import RunFolder

TRAIN_TIMEOUT_MS = 300_000


def fill_pages(qtbot, wiz: TrainingWizard, data: Path, out: Path, epochs: int) -> None:
    """Data, split, model, objective and compute pages with a tiny, quick run."""
    wiz.data_page.set_folders([str(data)])
    qtbot.waitUntil(wiz.data_page.isComplete, timeout=120_000)
    wiz.next()
    assert wiz.split_page.isComplete()
    wiz.next()
    wiz.model_page.backbone.setCurrentText("resnet10t")
    wiz.model_page.input_px.setValue(32)
    qtbot.waitUntil(wiz.model_page.isComplete, timeout=120_000)
    wiz.next()
    assert wiz.objective_page.objective() == "scaat"
    wiz.next()
    page = wiz.compute_page
    page.epochs.setValue(epochs)
    page.batch.setValue(16)
    page.workers.setValue(0)
    page.device.setCurrentIndex(max(0, page.device.findData("cpu")))
    wiz.next()
    assert wiz.currentPage() is wiz.train_page
    wiz.train_page.out_edit.setText(str(out))


def modal_checkpoint_after(qtbot, action) -> str:
    """Run ``action``, which opens a modal run dialog; read its checkpoint, then close it."""
    seen: list[str] = []

    def grab() -> None:
        dlg = QApplication.activeModalWidget()
        if isinstance(dlg, RunModelDialog):
            seen.append(dlg.checkpoint_edit.text())
            dlg.reject()
        else:
            QTimer.singleShot(50, grab)

    QTimer.singleShot(50, grab)
    action()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    return seen[0]


@pytest.mark.slow
def test_wizard_trains_cancels_resumes_and_runs_on_the_slide(
    qtbot, tmp_path: Path, kather_mini: Path, cmu_svs: Path
) -> None:
    win = MainWindow(Settings(tmp_path / "settings.ini"), interactive=False)
    qtbot.addWidget(win)
    win.show()
    win.open_slide(cmu_svs)
    qtbot.waitUntil(lambda: win.slide is not None, timeout=30_000)
    wiz = win.training.open_wizard()
    out = tmp_path / "models" / "tiny-scaat"
    fill_pages(qtbot, wiz, kather_mini, out, epochs=2)
    page = wiz.train_page
    page.copy_button.click()
    command = QApplication.clipboard().text()
    assert "train" in command and str(out) in command

    page.start()
    qtbot.waitUntil(lambda: len(page.curves.epoch_x) >= 1, timeout=TRAIN_TIMEOUT_MS)
    page.cancel()
    qtbot.waitUntil(lambda: wiz.outcome is not None, timeout=60_000)
    assert wiz.outcome.kind == "cancelled", wiz.outcome.message
    assert "Resume" in page.problem.text() and not page.isComplete()
    import torch

    from pathscaat.models import load_checkpoint

    model, meta = load_checkpoint(out / "last")  # the cancelled run's checkpoint loads and runs
    assert meta.backbone == "resnet10t" and meta.epoch >= 1
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, len(meta.class_names))
    assert RunFolder(out).is_unfinished() and page.resume_button.isEnabled()
    later = TrainingWizard(win.settings)  # the wizard opened again offers to resume
    qtbot.addWidget(later)
    assert not later.data_page.resume_button.isHidden()
    assert str(out) in later.data_page.resume_note.text()
    later.shutdown()

    page.resume()
    qtbot.waitUntil(lambda: wiz.outcome is not None, timeout=TRAIN_TIMEOUT_MS)
    assert wiz.outcome.kind == "done", wiz.outcome.message
    history = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]  # resumed, not restarted
    assert page.curves.batch_x and page.curves.epoch_x[-1] == 2
    qtbot.waitUntil(lambda: page.strip.path is not None, timeout=10_000)
    assert page.strip.path.is_file() and page.strip.path.suffix == ".png"
    assert not page.strip.image_label.pixmap().isNull()
    assert page.isComplete()

    wiz.next()
    done = wiz.done_page
    assert done.checkpoint == out / "best.json" and done.checkpoint.is_file()
    assert str(done.checkpoint.resolve()) in win.settings.get("wizard/models")
    win.models_panel.refresh()
    assert [r.checkpoint for r in win.models_panel.rows] == [done.checkpoint.resolve()]
    chosen = modal_checkpoint_after(qtbot, done.run_button.click)
    assert Path(chosen) == done.checkpoint.resolve()
    wiz.reject()
    win.close()


def test_killed_child_gives_a_clear_message(qtbot, tmp_path: Path, kather_mini: Path) -> None:
    wiz = TrainingWizard(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(wiz)
    wiz.show()
    wiz.data_page.set_folders([str(kather_mini)])
    qtbot.waitUntil(wiz.data_page.isComplete, timeout=120_000)
    for _ in range(5):
        wiz.next()
    page = wiz.train_page
    page.out_edit.setText(str(tmp_path / "run"))
    page.start()
    assert wiz.controller.is_running()
    wiz.controller.runner.kill()
    qtbot.waitUntil(lambda: wiz.outcome is not None, timeout=30_000)
    assert wiz.outcome.kind == "failed"
    text = page.problem.text()
    assert "Training stopped" in text and "killed" in text, text
    assert page.start_button.isEnabled() and not page.isComplete()
    wiz.shutdown()
