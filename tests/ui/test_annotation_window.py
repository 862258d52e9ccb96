"""The annotation part inside the real main window, on the real CMU-1 slide."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
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
