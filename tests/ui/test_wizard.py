"""The training wizard's pages on real patches: scans, problems on the right page, memory.

The end-to-end runs (a child ``pathscaat train``) are in test_wizard_run.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QWizard

from ui.settings import Settings
from ui.wizard import TrainingWizard
from ui.wizard.choices import WizardChoices, build_config, load_choices, save_choices
from ui.wizard.curves import LiveCurves
from ui.wizard.run_store import RunFolder, check_writable


def scan(qtbot, wiz: TrainingWizard, folders: list[Path]) -> None:
    wiz.data_page.set_folders([str(f) for f in folders])
    qtbot.waitUntil(lambda: not wiz.data_page.scanning, timeout=60000)


def next_enabled(wiz: TrainingWizard) -> bool:
    return wiz.button(QWizard.WizardButton.NextButton).isEnabled()


def copy_classes(src: Path, dst: Path, names: list[str], n: int = 4) -> Path:
    for name in names:
        (dst / name).mkdir(parents=True)
        for f in sorted((src / name).iterdir())[:n]:
            shutil.copy(f, dst / name / f.name)
    return dst


def test_real_patches_scan_and_split(qtbot, wizard: TrainingWizard, kather_mini: Path) -> None:
    scan(qtbot, wizard, [kather_mini])
    page = wizard.data_page
    assert page.isComplete() and next_enabled(wizard), page.problem.text()
    names = [page.table.item(r, 0).text() for r in range(page.table.rowCount())]
    assert "TUM" in names and "STR" in names and len(names) == 9
    counts = {page.table.item(r, 0).text(): int(page.table.item(r, 1).text())
              for r in range(page.table.rowCount())}  # fmt: skip
    assert counts["TUM"] == len(list((kather_mini / "TUM").iterdir()))
    assert page.samples_grid.count() > len(names)  # a label and thumbnails per class
    assert "BACK" in page.notes.text()  # one tile only: warned, not blocked
    wizard.next()
    split = wizard.split_page
    assert split.isComplete()
    total = split.table.rowCount() - 1  # last row: All
    all_row = [int(split.table.item(total, c).text()) for c in (1, 2, 3)]
    assert sum(all_row) == sum(counts.values()) and all_row[1] > 0 and all_row[2] > 0
    split.val_spin.setValue(50)
    split.test_spin.setValue(50)
    assert not split.isComplete() and split.problem.text()  # nothing left to train on
    split.val_spin.setValue(15)
    assert split.isComplete()


@pytest.mark.parametrize("case", ["empty", "one_class", "not_images"])
def test_bad_data_says_why_on_the_data_page(
    qtbot, wizard: TrainingWizard, kather_mini: Path, tmp_path: Path, case: str
) -> None:
    folder = tmp_path / case
    folder.mkdir()
    if case == "one_class":
        copy_classes(kather_mini, folder, ["TUM"])
    elif case == "not_images":
        for name in ("A", "B"):
            (folder / name).mkdir()
            (folder / name / "notes.txt").write_text("not a patch")
    scan(qtbot, wizard, [folder])
    page = wizard.data_page
    assert not page.isComplete() and not next_enabled(wizard)
    assert page.problem.text(), "the page must say why Next is disabled"
    assert wizard.currentPage() is page


def test_corrupt_jpegs_are_skipped_and_counted(
    qtbot, wizard: TrainingWizard, kather_mini: Path, tmp_path: Path
) -> None:
    folder = copy_classes(kather_mini, tmp_path / "mixed", ["TUM", "STR"])
    (folder / "TUM" / "broken-1.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (folder / "STR" / "broken-2.jpg").write_bytes(b"")
    scan(qtbot, wizard, [folder])
    page = wizard.data_page
    assert page.isComplete(), page.problem.text()
    assert "2 files could not be read" in page.notes.text()
    assert "broken-1.jpg" in page.notes.text()


def test_wrong_weights_file_blocks_the_model_page(
    qtbot, wizard: TrainingWizard, kather_mini: Path, tmp_path: Path
) -> None:
    scan(qtbot, wizard, [kather_mini])
    wizard.next()
    wizard.next()
    model = wizard.model_page
    model.backbone.setCurrentText("resnet10t")
    qtbot.waitUntil(model.isComplete, timeout=60000)
    bad = tmp_path / "weights.safetensors"
    bad.write_bytes(b"this is not a safetensors file")
    model.start.set_spec(str(bad))
    model._check_weights()
    qtbot.waitUntil(lambda: bool(model.problem.text()), timeout=60000)
    assert not model.isComplete() and not next_enabled(wizard)
    assert "weights.safetensors" in model.problem.text()
    model.start.set_spec("random")
    model._check_weights()
    qtbot.waitUntil(model.isComplete, timeout=60000)
    model.backbone.setCurrentText("resnet10q_not_a_model")
    qtbot.waitUntil(lambda: bool(model.problem.text()), timeout=60000)
    assert not model.isComplete() and "resnet10q_not_a_model" in model.problem.text()


def test_model_page_lists_starting_points_and_what_they_imply(
    qtbot, wizard: TrainingWizard, kather_mini: Path, tmp_path: Path, monkeypatch
) -> None:
    from safetensors.torch import save_file

    from pathscaat.models import create_model

    monkeypatch.setenv("PATHSCAAT_DATA_DIR", str(tmp_path / "appdata"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "no-hub"))
    mine = tmp_path / "mine.safetensors"
    save_file(create_model("resnet10t", 4).backbone.state_dict(), str(mine))
    from pathscaat.models.starting_weights import add_starting_point

    add_starting_point("my-resnet", mine)
    scan(qtbot, wizard, [kather_mini])
    wizard.next()
    wizard.next()
    model = wizard.model_page
    combo = model.start.combo
    qtbot.waitUntil(lambda: combo.findData("my-resnet") >= 0, timeout=60000)
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert labels[0].startswith("ImageNet EfficientNet-Lite0 (bundled) · tf_efficientnet_lite0")
    assert combo.currentData() == "imagenet:efficientnet_lite0"  # the default start
    assert labels.index("Random weights (a research setting)") > combo.findData("my-resnet")
    qtbot.waitUntil(model.isComplete, timeout=60000)
    assert "Native input 224 px, mean (0.5, 0.5, 0.5)" in model.weights_note.text()
    assert model.backbone.currentText() == "tf_efficientnet_lite0"
    combo.setCurrentIndex(combo.findData("my-resnet"))  # no architecture: pick the network
    model.backbone.setCurrentText("resnet10t")
    qtbot.waitUntil(lambda: "fits resnet10t" in model.weights_note.text(), timeout=60000)
    assert "mean (0.485, 0.456, 0.406)" in model.weights_note.text()
    combo.setCurrentIndex(combo.findData("imagenet:efficientnet_lite0"))
    qtbot.waitUntil(lambda: "lite0 fits" in model.weights_note.text(), timeout=60000)
    assert model.backbone.currentText() == "tf_efficientnet_lite0"  # the weights' own
    model.backbone.setCurrentText("resnet10t")  # no bundled weights: random ones
    qtbot.waitUntil(lambda: "random weights" in model.weights_note.text(), timeout=60000)
    assert combo.currentData() == "random"
    assert model.isComplete()
    model.validatePage()
    assert build_config(wizard.ctx.choices).weights is None  # random


def test_unwritable_output_folder_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the folder should go")  # refused even as root
    message = check_writable(blocker / "model")
    assert str(blocker / "model") in message and "Choose another folder" in message
    assert check_writable(tmp_path / "fine") == ""


def test_choices_are_remembered_and_survive_a_damaged_value(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "s.ini")
    choices = WizardChoices(folders=["/data/a"], backbone="resnet10t", epochs=3, eps_255=8.0)
    save_choices(settings, choices)
    assert load_choices(Settings(tmp_path / "s.ini")) == choices
    settings.set("wizard/last", '{"epochs": "many", "backbone": "vit_small", "bogus": 1')
    assert load_choices(settings) == WizardChoices()  # unreadable: defaults
    settings.set("wizard/last", '{"epochs": "many", "backbone": "vit_small", "lam": 2}')
    kept = load_choices(settings)
    assert (kept.epochs, kept.backbone, kept.lam) == (10, "vit_small", 2.0)
    settings.set("wizard/last", '{"weights_file": "/w/old.pth"}')  # before starting points
    assert load_choices(settings).weights == "/w/old.pth"
    assert WizardChoices().weights == "imagenet:efficientnet_lite0"


def test_config_carries_the_choices(tmp_path: Path) -> None:
    c = WizardChoices(
        folders=[str(tmp_path)], backbone="resnet10t", objective="scaat", eps_255=8.0,
        gamma=2.0, epochs=2, input_px=64, out_dir=str(tmp_path / "o"),
    )  # fmt: skip
    config = build_config(c)
    assert config.weights is None  # the bundled Lite0 weights do not fit resnet10t: random
    assert build_config(WizardChoices(folders=[str(tmp_path)])).weights == (
        "imagenet:efficientnet_lite0"
    )
    assert config.scaat.objective == "scaat" and config.scaat.gamma == 2.0
    assert config.scaat.eps == pytest.approx(8 / 255) and config.img_size == 64
    assert [s.path for s in config.sources] == [tmp_path]
    erm = build_config(c, objective="erm", out=tmp_path / "b")
    assert erm.scaat.lam == 0.0 and erm.out == tmp_path / "b"


def test_curves_take_batch_and_epoch_records(qtbot) -> None:
    curves = LiveCurves()
    qtbot.addWidget(curves)
    curves.clear(epochs=2)  # 8 steps over 2 epochs: a batch is a quarter epoch
    for step in range(1, 5):
        curves.add_batch(step, 8, {"epoch": 1, "ce": 2.0 / step, "reg": 0.1})
    curves.add_batch(5, 8, {"epoch": 2, "ce": float("nan"), "reg": 0.1})
    curves.add_epoch({"epoch": 1, "val_acc": 0.5, "val_bal_acc": 0.4})
    curves.add_epoch({"epoch": 2, "val_acc": None})
    curves.redraw()
    x, y = curves.ce_curve.getData()
    assert list(x) == [0.25, 0.5, 0.75, 1.0] and y[0] == 2.0
    assert list(curves.bal_curve.getData()[1]) == [0.4]
    # the x axis spans the whole run from the start, so it never re-lays out while training
    for plot in (curves.loss_plot, curves.acc_plot):
        lo, hi = plot.getViewBox().viewRange()[0]
        assert lo <= 0.0 and 2.0 <= hi < 2.2


def test_a_redraw_touches_only_the_curves_with_new_points(qtbot) -> None:
    from PySide6.QtWidgets import QGraphicsItem

    curves = LiveCurves()
    qtbot.addWidget(curves)
    curves.clear(epochs=2)
    curves.add_batch(1, 8, {"ce": 1.0, "reg": 0.1})
    curves.add_epoch({"epoch": 1, "val_acc": 0.5, "val_bal_acc": 0.4})
    curves.redraw()
    changed: list[str] = []
    for name in ("ce_curve", "acc_curve", "bal_curve"):
        getattr(curves, name).sigPlotChanged.connect(lambda *_a, n=name: changed.append(n))
    for step in range(2, 6):  # batches only: the epoch curves' markers are not rebuilt
        curves.add_batch(step, 8, {"ce": 1.0 / step, "reg": 0.1})
    curves.redraw()
    assert changed == ["ce_curve"]
    curves.add_epoch({"epoch": 2, "val_acc": 0.6, "val_bal_acc": 0.5})
    curves.redraw()
    assert changed == ["ce_curve", "acc_curve", "bal_curve"]
    cached = QGraphicsItem.CacheMode.DeviceCoordinateCache  # tick labels not redrawn per point
    for plot in (curves.loss_plot, curves.acc_plot):
        assert all(plot.getAxis(a).cacheMode() == cached for a in ("left", "bottom"))


def test_the_progress_bar_follows_the_batches_at_the_curves_pace(qtbot, wizard) -> None:
    page = wizard.train_page
    page._run_started("Training", Path("."))
    for step in range(1, 41):  # a burst of records: QProgressBar repaints on every value
        page.controller.sigBatch.emit(step, 100, {"ce": 1.0, "reg": 0.1})
    assert page.bar.value() != 40  # not yet: one update per redraw interval
    qtbot.waitUntil(lambda: page.bar.value() == 40 and page.bar.maximum() == 100)


def test_unfinished_run_is_recognised(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    assert not run.is_unfinished()
    (tmp_path / "run_config.json").write_text('{"epochs": 3}')
    for name in ("last.json", "last.safetensors"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "history.json").write_text('[{"epoch": 1}]')
    assert run.is_unfinished()
    (tmp_path / "history.json").write_text('[{"epoch": 1}, {"epoch": 2}, {"epoch": 3}]')
    assert not run.is_unfinished()


def test_tiny_png_patches_scan(qtbot, wizard: TrainingWizard, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (tmp_path / "png" / name).mkdir(parents=True)
        for i in range(3):
            rgb = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(rgb).save(tmp_path / "png" / name / f"{i}.png")
    scan(qtbot, wizard, [tmp_path / "png"])
    assert wizard.data_page.isComplete(), wizard.data_page.problem.text()


def test_models_panel_lists_remembered_and_folder_runs(qtbot, tmp_path: Path) -> None:
    from ui.panels.models_panel import ModelsPanel
    from ui.wizard.models_list import remember_model

    settings = Settings(tmp_path / "s.ini")
    for run, acc in (("a-scaat", 0.8), ("b-erm", 0.7)):
        (tmp_path / "models" / run).mkdir(parents=True)
        meta = {"backbone": "resnet10t", "objective": run.split("-")[1], "class_names": ["x"],
                "metrics": {"balanced_accuracy": acc}}  # fmt: skip
        (tmp_path / "models" / run / "best.json").write_text(json.dumps(meta))
    remember_model(settings, tmp_path / "models" / "a-scaat" / "best.json")
    panel = ModelsPanel(settings)
    qtbot.addWidget(panel)
    assert [r.objective for r in panel.rows] == ["scaat"]
    settings.set("wizard/models_dir", str(tmp_path / "models"))
    panel.refresh()
    assert [r.objective for r in panel.rows] == ["scaat", "erm"]  # no duplicate of a-scaat
    assert panel.table.item(0, 4).text() == "80%"
    panel.table.selectRow(0)
    assert panel.buttons["evaluate"].isEnabled() and not panel.buttons["run"].isEnabled()
    panel.set_slide_open(True)
    assert panel.buttons["run"].isEnabled() and not panel.buttons["report"].isEnabled()
    panel.buttons["remove"].click()
    assert settings.get("wizard/models") == []


def test_strip_view_loads_off_the_ui_thread_and_keeps_the_last_good_strip(
    qtbot, tmp_path: Path
) -> None:
    from ui.wizard.strip_view import StripView

    view = StripView()
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    good = tmp_path / "epoch_001.png"
    Image.fromarray(np.full((100, 400, 3), 200, np.uint8)).save(good)
    view.show_strip(good, 1)
    qtbot.waitUntil(lambda: view.path == good, timeout=5000)
    assert not view.image_label.pixmap().isNull() and "epoch 1" in view.caption.text()
    broken = tmp_path / "epoch_002.png"
    broken.write_bytes(b"not a png")
    view.show_strip(broken, 2)
    qtbot.wait(300)
    assert view.path == good and "epoch 1" in view.caption.text()


def test_trained_model_is_registered_in_the_open_project(qtbot, tmp_path: Path) -> None:
    from ui.main_window import MainWindow

    win = MainWindow(Settings(tmp_path / "s.ini"), interactive=False)
    qtbot.addWidget(win)
    checkpoint = tmp_path / "run" / "best.json"
    checkpoint.parent.mkdir()
    checkpoint.write_text(json.dumps({"backbone": "resnet10t", "objective": "scaat",
                                      "class_names": ["a", "b"], "metrics": {}}))  # fmt: skip
    assert "open a project" in win.training.register_model(checkpoint)
    assert win.projects.new_project(tmp_path / "proj")
    where = win.training.register_model(checkpoint)
    assert "proj" in where
    models = win.projects.session.project.models()
    assert [m.backbone for m in models] == ["resnet10t"]
    win.close()
