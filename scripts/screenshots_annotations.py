"""Screenshots of the annotation tools and panels (``screenshots.py --annotations``).

Each tool is driven with real mouse events on the real window (QTest), and the window is
grabbed mid-gesture where the gesture is the point (a rectangle being dragged, a polygon
being clicked), so the PNGs show what a user sees: ``08-ann-*.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

RECTANGLE = ((560, 1150), (900, 1420))
POLYGON = ((1250, 1200), (1520, 1150), (1650, 1380), (1450, 1560), (1230, 1480))
BRUSH = [(700 + 12 * i, 1700 + 40 * ((i // 6) % 2)) for i in range(40)]
POINTS = ((1020, 1030), (1060, 1080), (1110, 1010), (1150, 1100), (990, 1120))


def _port(window: Any) -> Any:
    return window.viewer.view_box.scene().views()[0].viewport()


def _pt(window: Any, l0: tuple[float, float]) -> Any:
    return window.viewer.view_from_l0(*l0).toPoint()


def _press(window: Any, l0: tuple[float, float], alt: bool = False) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    mod = Qt.KeyboardModifier.AltModifier if alt else Qt.KeyboardModifier.NoModifier
    QTest.mousePress(_port(window), Qt.MouseButton.LeftButton, mod, _pt(window, l0))


def _move(window: Any, l0: tuple[float, float]) -> None:
    from PySide6.QtTest import QTest

    QTest.mouseMove(_port(window), _pt(window, l0))


def _release(window: Any, l0: tuple[float, float], alt: bool = False) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    mod = Qt.KeyboardModifier.AltModifier if alt else Qt.KeyboardModifier.NoModifier
    QTest.mouseRelease(_port(window), Qt.MouseButton.LeftButton, mod, _pt(window, l0))


def _click(window: Any, l0: tuple[float, float]) -> None:
    _press(window, l0)
    _release(window, l0)


def _grab(app: Any, window: Any, out: Path, name: str, settle: Any) -> None:
    settle(app, window, 0.3)
    window.annotations.layer.ensure_built()
    window.grab().save(str(out / f"08-ann-{name}.png"))


def _show_panel(window: Any, dock: Any) -> None:
    dock.show()
    dock.raise_()


def shoot_annotations(app: Any, window: Any, out: Path, settle: Any) -> bool:
    """Draw with each tool on the open slide; grab each gesture and the panels."""
    ann = window.annotations
    viewer = window.viewer
    viewer.fit()
    settle(app, window, 0.5)
    viewer.zoom_by(1.6)
    viewer.center_on(1100, 1400)
    settle(app, window, 1.0)
    _show_panel(window, window.classes_dock)
    ann.classes_panel.list.setCurrentRow(0)  # Tumour for the first shapes

    ann.tools.set_tool("rectangle")
    _press(window, RECTANGLE[0])
    _move(window, ((RECTANGLE[0][0] + RECTANGLE[1][0]) / 2, RECTANGLE[1][1] - 60))
    _move(window, RECTANGLE[1])
    _grab(app, window, out, "rectangle-drawing", settle)
    _release(window, RECTANGLE[1])

    ann.classes_panel.list.setCurrentRow(1)  # Stroma
    ann.tools.set_tool("polygon")
    for p in POLYGON:
        _click(window, p)
    _move(window, (1300, 1380))
    _grab(app, window, out, "polygon-drawing", settle)
    ann.tools.finish()

    ann.classes_panel.list.setCurrentRow(2)  # Immune cells
    ann.tools.set_tool("brush")
    ann.ctx.brush_um = 30.0
    ann.collection.clear_selection()
    _press(window, BRUSH[0])
    for p in BRUSH[1:]:
        _move(window, p)
    _grab(app, window, out, "brush-painting", settle)
    _release(window, BRUSH[-1])
    _press(window, (900, 1690), alt=True)  # rub a notch out of the selected region
    _move(window, (900, 1790))
    _release(window, (900, 1790), alt=True)

    ann.classes_panel.list.setCurrentRow(4)  # Other
    ann.tools.set_tool("points")
    ann.collection.clear_selection()
    for p in POINTS:
        _click(window, p)
    _grab(app, window, out, "points", settle)

    ann.tools.set_tool("move")
    polygon = next(o for o in ann.collection if o.tool.value == "polygon")
    ann.collection.select([polygon.id])
    _show_panel(window, window.annotations_dock)
    _grab(app, window, out, "move-vertex-handles", settle)

    _show_panel(window, window.classes_dock)
    _grab(app, window, out, "classes-panel", settle)
    return _shoot_detections(app, window, out, settle)


def _shoot_detections(app: Any, window: Any, out: Path, settle: Any) -> bool:
    """Tile detections over the whole slide, zoomed out: the level of detail at work."""
    import numpy as np
    from shapely.geometry import box

    from pathscaat.annotations.edits import Edit
    from pathscaat.annotations.model import Annotation, ObjectType

    ann = window.annotations
    w, h = window.slide.dimensions
    rng = np.random.default_rng(0)
    classes = [ann.classes[0], ann.classes[1], ann.classes[2]]
    tiles = [Annotation(box(x, y, x + 32, y + 32), object_type=ObjectType.TILE,
                        path_class=classes[int(rng.integers(0, 3))],
                        measurements={"prob": float(rng.random())})
             for x in range(0, w - 32, 32) for y in range(0, h - 32, 32)]  # fmt: skip
    ann.collection.apply(Edit.add(tiles, f"Add {len(tiles)} tiles"))
    ann.collection.clear_selection()
    window.viewer.fit()
    _show_panel(window, window.annotations_dock)
    _grab(app, window, out, "detections-zoomed-out", settle)
    window.viewer.zoom_by(4.0)
    window.viewer.center_on(1100, 1500)
    _grab(app, window, out, "detections-zoomed-in", settle)
    ann.collection.undo()
    return not window.errors.history
