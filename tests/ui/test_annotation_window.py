"""The annotation part inside the real main window, on the real CMU-1 slide."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from tests.ui.annotation_helpers import drag, zoom_to
from tests.ui.test_main_window import open_and_wait, window  # noqa: F401  (fixture)
from ui.main_window import MainWindow


def test_draw_on_a_real_slide_then_close_it(qtbot, window: MainWindow, cmu_svs: Path) -> None:  # noqa: F811
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    items = [a.text().replace("&", "") for a in menus["Annotations"].actions() if a.text()]
    assert items[:6] == ["Move / Select", "Rectangle", "Ellipse", "Polygon", "Brush", "Points"]
    assert not window.annotations.actions.tools["rectangle"].isEnabled()  # no slide yet
    open_and_wait(qtbot, window, cmu_svs)
    viewer, ann = window.viewer, window.annotations
    zoom_to(viewer, 2.0, 1100, 1500)
    QTest.keyClick(viewer, Qt.Key.Key_R)
    drag(viewer, [(1000, 1400), (1200, 1600)])
    coll = ann.collection
    assert coll is not None and len(coll) == 1
    obj = coll.objects()[0]
    assert obj.geometry.bounds == pytest.approx((1000, 1400, 1200, 1600), abs=2.5)
    mpp = window.slide.mpp.x  # the slide's own 0.499 µm/px
    assert ann.panel.model.data(ann.panel.model.index(0, 3)) == f"{200 * 200 * mpp**2:,.0f}"
    assert ann.is_dirty()
    window.close_slide()  # not interactive: closes without asking
    assert ann.collection is None and window.slide is None
    assert ann.panel.model.rowCount() == 0


def test_redo_keys_reach_the_redo_action(qtbot, window: MainWindow, cmu_svs: Path) -> None:  # noqa: F811
    """Ctrl+Shift+Z (and Ctrl+Y off macOS) redo once, with no 'Ambiguous shortcut' warning."""
    import sys

    keys = [sq.toString() for sq in window.annotations.actions.redo.shortcuts()]
    assert len(keys) == len(set(keys)), keys  # one registration per key
    open_and_wait(qtbot, window, cmu_svs)
    viewer, ann = window.viewer, window.annotations
    zoom_to(viewer, 2.0, 1100, 1500)
    viewer.setFocus()
    QTest.keyClick(viewer, Qt.Key.Key_R)
    drag(viewer, [(1000, 1400), (1200, 1600)])
    coll = ann.collection
    assert coll is not None and len(coll) == 1
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    redo_keys = [(Qt.Key.Key_Z, ctrl | shift)]
    if sys.platform != "darwin":
        redo_keys.append((Qt.Key.Key_Y, ctrl))
    for key, mods in redo_keys:
        QTest.keyClick(viewer, Qt.Key.Key_Z, ctrl)
        assert len(coll) == 0
        with qtbot.captureExceptions():
            QTest.keyClick(viewer, key, mods)
        assert len(coll) == 1, QKeySequence(key.value | mods.value).toString()


@pytest.mark.parametrize("scheme", [["Ctrl+Shift+Z", "Redo"],  # X11 (KDE, GNOME)
                                    ["Ctrl+Y", "Alt+Shift+Backspace", "Ctrl+Shift+Z", "Redo"]])
def test_redo_holds_each_key_once_whatever_the_platform_scheme(qapp, scheme: list[str]) -> None:
    from ui.annotations.actions import redo_keys

    keys = [k.toString() for k in redo_keys([QKeySequence(k) for k in scheme], macos=False)]
    assert sorted(keys) == sorted(set(keys) | {"Ctrl+Y", "Ctrl+Shift+Z"})
    assert len(keys) == len(set(keys))
    mac = [k.toString() for k in redo_keys([QKeySequence("Ctrl+Shift+Z")], macos=True)]
    assert mac == ["Ctrl+Shift+Z"]  # Qt's Ctrl is ⌘ there; Ctrl+Y is no Mac convention
