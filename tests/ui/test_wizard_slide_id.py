"""The data page's Slide id choice on generated Case-N and hospital-id patches: the rule's
preview of groups, the warning, the split page and the run config follow it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from ui.wizard import TrainingWizard
from ui.wizard.choices import build_config, load_choices


def case_patches(root: Path) -> Path:
    """Two classes, 6 cases of 4 tiles each, named as a hospital export might: Case-N_H<id>."""
    rng = np.random.default_rng(1)
    for k, cls in enumerate(("Tumor", "Stroma")):
        (root / cls).mkdir(parents=True)
        for case in range(1, 7):
            for t in range(4):
                pixels = rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / cls / f"Case-{case}_H{900 + case}_{k}{t}.png")
    return root


def test_choosing_case_n_groups_the_tiles_by_case(qtbot, wizard: TrainingWizard,
                                                  tmp_path: Path) -> None:  # fmt: skip
    page = wizard.data_page
    page.set_folders([str(case_patches(tmp_path / "cases"))])
    qtbot.waitUntil(lambda: not page.scanning, timeout=60000)
    assert "48 tiles have no slide id" in page.notes.text()
    assert "CRC-Prim" not in page.notes.text()  # no data set's token as the user's problem
    assert page.table.item(0, 2).text() == "—"
    row = page.slide_id
    row.combo.setCurrentIndex(row.combo.findData("case"))
    assert row.preview.text().startswith("6 slides by Case-N in the file name: Case-1 (8)")
    assert "no slide id" not in page.notes.text()
    assert [page.table.item(r, 2).text() for r in range(2)] == ["6", "6"]
    assert wizard.ctx.choices.slide_id == "case"
    row.combo.setCurrentIndex(row.combo.findData("regex"))
    assert "Type the pattern" in row.preview.text()
    row.value.setText("_H(9")
    row.value.editingFinished.emit()
    assert "not valid" in row.preview.text() and wizard.ctx.choices.slide_id == "case"
    row.value.clear()
    QTest.keyClicks(row.value, r"_(H\d+)_")
    QTest.keyClick(row.value, Qt.Key.Key_Return)  # applies the pattern; no Next
    assert wizard.currentPage() is page
    assert row.preview.text().startswith("6 slides by the pattern _(H\\d+)_: H901 (8)")
    assert build_config(wizard.ctx.choices).slide_id == r"regex:_(H\d+)_"
    wizard.next()
    split = wizard.split_page
    assert split.isComplete() and "split by slide" in split.how.text().lower()
    assert not any("leaks" in w for w in split.warnings.text().splitlines())
    wizard.shutdown()  # remembers the choices
    assert load_choices(wizard.ctx.settings).slide_id == r"regex:_(H\d+)_"


def test_curve_captions_fit_and_accuracy_is_not_hidden(qtbot) -> None:
    """At the plots' smallest height the axis labels and two-line keys were cut off, and
    the accuracy curve lay under balanced accuracy drawn the same way."""
    from ui.wizard.curves import LiveCurves

    curves = LiveCurves()
    qtbot.addWidget(curves)
    curves.resize(950, 180)
    curves.show()
    qtbot.waitExposed(curves)
    for plot in (curves.loss_plot, curves.acc_plot):
        axis = plot.getAxis("left")
        assert axis.label.boundingRect().width() <= axis.boundingRect().height()
        title = plot.plotItem.titleLabel
        assert title.item.boundingRect().height() <= title.size().height()
    acc, bal = curves.acc_curve, curves.bal_curve
    assert bal.zValue() > acc.zValue()  # dashes on the solid line: both show
    assert bal.opts["pen"].style() == Qt.PenStyle.DashLine != acc.opts["pen"].style()
    assert acc.opts["symbol"] != bal.opts["symbol"]
    assert acc.opts["symbolSize"] > bal.opts["symbolSize"]  # a ring around the square


def test_strip_caption_wraps(qtbot) -> None:
    from ui.wizard.strip_view import StripView

    view = StripView()
    qtbot.addWidget(view)
    assert view.caption.wordWrap()


def test_done_page_says_it_in_words_first_and_folds_the_table(qtbot, wizard: TrainingWizard,
                                                              tmp_path: Path) -> None:  # fmt: skip
    """The 20-column report came first and alone; README names the button that tests."""
    import json

    from ui.wizard.done_page import TEST_BUTTON

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    done = wizard.done_page
    assert done.eval_button.text() == TEST_BUTTON and f"**{TEST_BUTTON}**" in readme
    entry = {
        "name": "scaat/best", "objective": "scaat", "accuracy": 0.9, "balanced_accuracy": 0.85,
        "images": {"n": 40}, "per_class_accuracy": {"TUM": 0.95, "STR": 0.75},
        "methods": {"vanilla": {"summary": {"gini": {"mean": 0.6}}}},
    }  # fmt: skip
    base = {**entry, "objective": "erm", "accuracy": 0.88,
            "methods": {"vanilla": {"summary": {"gini": {"mean": 0.5}}}}}  # fmt: skip
    (tmp_path / "metrics.json").write_text(json.dumps({"models": [entry, base]}))
    report = tmp_path / "report.md"
    report.write_text("# Saliency quality report\n\n| model | acc | Gini ↑ |\n|---|---|---|\n")
    done.show()
    done._report_ready(report)
    text = done.summary.text()
    assert "right 90% of the time" in text and "STR 75%, TUM 95%" in text
    assert "sparser than the baseline's" in text
    assert done.report.isHidden() and done.details_button.isEnabled()
    done.details_button.click()
    assert not done.report.isHidden() and "Saliency quality report" in done.report.toPlainText()
