"""The Annotations menu and tool bar: tools with QuPath's keys, delete, undo/redo, classify."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from ui.actions import icon
from ui.annotations.tools.controller import TOOL_KEYS

TOOL_TEXT = {
    "move": ("&Move / Select", "Click selects (Shift adds), drag moves, a yellow handle "
             "reshapes; drag empty slide to pan"),
    "rectangle": ("&Rectangle", "Drag from corner to corner"),
    "ellipse": ("&Ellipse", "Drag the box the ellipse fills"),
    "polygon": ("&Polygon", "Click each corner; double-click or Enter closes, Backspace "
                "takes the last one back, Esc abandons"),
    "brush": ("&Brush", "Paint a region; a stroke that touches the selected region adds "
              "to it, one apart from it is a new object; Alt+drag rubs out"),
    "points": ("Poin&ts", "Click to place points; they join the selected points set"),
}  # fmt: skip
CLASS_KEYS = 9


@dataclass
class AnnotationActions:
    tools: dict[str, QAction]
    delete: QAction
    undo: QAction
    redo: QAction
    save_as: QAction
    classify: list[QAction] = field(default_factory=list)
    unclassify: QAction | None = None
    """Set after construction (needs the window); always set by build_annotation_actions."""


def _action(win: QMainWindow, text: str, tip: str, key: str | QKeySequence.StandardKey | None,
            icon_name: str | None = None) -> QAction:  # fmt: skip
    act = QAction(icon(icon_name), text, win) if icon_name else QAction(text, win)
    if key is not None:
        act.setShortcut(QKeySequence(key))
    act.setStatusTip(tip)
    shown = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    act.setToolTip(f"{text.replace('&', '')} ({shown})\n{tip}" if shown else tip)
    return act


def redo_keys(platform_keys: list[QKeySequence] | None = None,
              macos: bool = sys.platform == "darwin") -> list[QKeySequence]:  # fmt: skip
    """Ctrl+Shift+Z everywhere, Ctrl+Y too off macOS, and the platform's own Redo keys.

    Each key once: a key an action holds twice is an "ambiguous shortcut" and does nothing
    (X11's Redo is Ctrl+Shift+Z itself).
    """
    keys = [QKeySequence("Ctrl+Shift+Z")]
    if not macos:
        keys.append(QKeySequence("Ctrl+Y"))
    if platform_keys is None:
        platform_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
    keys += platform_keys
    unique: dict[str, QKeySequence] = {}
    for key in keys:
        unique.setdefault(key.toString(), key)
    return list(unique.values())


def build_annotation_actions(win: QMainWindow) -> AnnotationActions:
    group = QActionGroup(win)
    group.setExclusive(True)
    tools = {}
    for name, (text, tip) in TOOL_TEXT.items():
        act = _action(win, text, tip, TOOL_KEYS[name], f"tool-{name}")
        act.setCheckable(True)
        group.addAction(act)
        tools[name] = act
    tools["move"].setChecked(True)
    SK = QKeySequence.StandardKey
    acts = AnnotationActions(
        tools=tools,
        delete=_action(win, "&Delete Selected", "Delete the selected annotations",
                       SK.Delete, "delete"),
        undo=_action(win, "&Undo", "Undo the last annotation edit", SK.Undo, "undo"),
        redo=_action(win, "&Redo", "Redo the edit just undone", "Ctrl+Shift+Z", "redo"),
        save_as=_action(win, "&Save Annotations As…",
                        "Write this slide's annotations to a QuPath GeoJSON file", None),
    )  # fmt: skip
    acts.redo.setShortcuts(redo_keys())
    for i in range(CLASS_KEYS):
        act = QAction(f"Class {i + 1}", win)
        act.setShortcut(QKeySequence(str(i + 1)))
        acts.classify.append(act)
    acts.unclassify = _action(win, "&Unclassified", "Remove the class of the selection", None)
    return acts


def build_annotation_menu(win: QMainWindow, acts: AnnotationActions) -> QMenu:
    """The Annotations menu, inserted before Help."""
    bar = win.menuBar()
    menu = QMenu("A&nnotations", win)
    for act in acts.tools.values():
        menu.addAction(act)
    menu.addSeparator()
    menu.addAction(acts.undo)
    menu.addAction(acts.redo)
    menu.addAction(acts.delete)
    menu.addSeparator()
    classify = menu.addMenu("&Classify Selection")
    if acts.unclassify is not None:
        classify.addAction(acts.unclassify)
    for act in acts.classify:
        classify.addAction(act)
    menu.addSeparator()
    menu.addAction(acts.save_as)
    help_action = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
    bar.insertMenu(help_action, menu) if help_action else bar.addMenu(menu)
    return menu


def build_annotation_toolbar(win: QMainWindow, acts: AnnotationActions) -> QToolBar:
    bar = QToolBar("Annotation tools", win)
    bar.setObjectName("annotationToolbar")
    bar.setIconSize(QSize(22, 22))
    bar.setMovable(False)
    for act in acts.tools.values():
        bar.addAction(act)
    bar.addSeparator()
    for act in (acts.undo, acts.redo, acts.delete):
        bar.addAction(act)
    win.addToolBar(bar)
    return bar
