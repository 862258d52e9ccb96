"""The main window's panels: which docks exist, where they sit, and how one is made.

Split from ``ui.main_window`` so the window keeps its behaviour (slides, overlays, runs)
and this module its layout; ``win`` is the MainWindow, given its panel attributes here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QStackedWidget, QWidget

from ui.actions import icon
from ui.annotations.controller import AnnotationController
from ui.panels.info_panel import InfoPanel
from ui.panels.layers_panel import LayersPanel
from ui.panels.models_panel import ModelsPanel
from ui.viewer import Minimap

DEFAULT_SIZE = (1280, 800)
DOCK_WIDTH = 340
OVERVIEW_HEIGHT = 240


def build_docks(win: Any) -> None:
    """Overview on top; slide info and overlays as tabs below it, on the right."""
    win.minimap = Minimap(win.viewer)
    win.overview = QStackedWidget()
    no_slide = QLabel("No slide open.")
    no_slide.setObjectName("hint")
    no_slide.setAlignment(Qt.AlignmentFlag.AlignCenter)
    win.overview.addWidget(no_slide)
    win.overview.addWidget(win.minimap)
    win.overview_dock = add_dock(win, "Overview", "overviewDock", win.overview, "overview")
    win.info_panel = InfoPanel()
    win.layers_panel = LayersPanel()
    win.info_dock = add_dock(win, "Slide", "infoDock", win.info_panel, "info")
    win.layers_dock = add_dock(win, "Overlays", "layersDock", win.layers_panel, "layers")
    win.models_panel = ModelsPanel(win.settings)
    win.models_dock = add_dock(win, "Models", "modelsDock", win.models_panel, "run-model")
    win.tabifyDockWidget(win.info_dock, win.layers_dock)
    win.tabifyDockWidget(win.layers_dock, win.models_dock)
    win.info_dock.raise_()
    win.resize(*DEFAULT_SIZE)
    win.resizeDocks([win.info_dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)
    win.resizeDocks(
        [win.overview_dock, win.info_dock],
        [OVERVIEW_HEIGHT, DEFAULT_SIZE[1] - OVERVIEW_HEIGHT],
        Qt.Orientation.Vertical,
    )


def build_annotation_docks(win: Any) -> None:
    """Tools, layer and the Classes and Annotations panels (tabs with the others)."""
    win.annotations = AnnotationController(
        win, win.viewer, win._flash,
        lambda text: win.errors.report(text, title="Annotations"),
    )  # fmt: skip
    win.classes_dock = add_dock(
        win,
        "Classes", "classesDock", win.annotations.classes_panel, "classes")
    win.annotations_dock = add_dock(
        win,
        "Annotations", "annotationsDock", win.annotations.panel, "annotations")
    win.tabifyDockWidget(win.layers_dock, win.classes_dock)
    win.tabifyDockWidget(win.classes_dock, win.annotations_dock)
    win.info_dock.raise_()


def add_dock(win: Any, title: str, name: str, widget: QWidget, icon_name: str) -> QDockWidget:
    """A closable, movable panel on the right, with its toggle action named and iconed."""
    dock = QDockWidget(title, win)
    dock.setObjectName(name)
    dock.setWidget(widget)
    dock.setMinimumWidth(280)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetClosable
        | QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
    )
    win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    act = dock.toggleViewAction()
    act.setIcon(icon(icon_name))
    act.setText(f"{title} Panel")
    act.setToolTip(f"Show or hide the {title.lower()} panel")
    return dock
