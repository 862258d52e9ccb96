"""The window's actions, menus and toolbar, built in one place from one icon set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from resources import resource_path

ZOOM_PRESETS = (1.0, 2.0, 5.0, 10.0, 20.0, 40.0)
"""Magnifications offered in View > Zoom (enabled up to the slide's scanning power)."""


@cache
def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg``."""
    return QIcon(str(resource_path(f"icons/{name}.svg")))


@dataclass
class Actions:
    """Every QAction of the main window (menus and toolbar share them)."""

    open: QAction
    open_overlays: QAction
    close: QAction
    quit: QAction
    zoom_in: QAction
    zoom_out: QAction
    fit: QAction
    run_model: QAction
    train_model: QAction
    cancel_job: QAction
    about: QAction
    show_logs: QAction
    export_view: QAction
    show_grid: QAction
    show_outline: QAction
    zoom_presets: dict[float, QAction] = field(default_factory=dict)


def _action(
    win: QMainWindow, text: str, icon_name: str | None = None,
    shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None, tip: str = "",
) -> QAction:  # fmt: skip
    act = QAction(icon(icon_name), text, win) if icon_name else QAction(text, win)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
    if tip:
        act.setStatusTip(tip)
        act.setToolTip(f"{text.replace('&', '').rstrip('.…')}\n{tip}")
    return act


def build_actions(win: QMainWindow) -> Actions:
    """Create the actions; the window connects their ``triggered`` signals."""
    SK = QKeySequence.StandardKey
    acts = Actions(
        open=_action(win, "&Open Slide…", "open", SK.Open, "Open a whole-slide image"),
        open_overlays=_action(
            win, "Open O&verlays…", "overlays", "Ctrl+Shift+O",
            "Load the output folder of an earlier model run onto this slide",
        ),
        close=_action(win, "&Close Slide", "close", SK.Close, "Close the slide"),
        quit=_action(win, "&Quit", None, SK.Quit, "Quit PathSCAAT"),
        zoom_in=_action(win, "Zoom &In", "zoom-in", SK.ZoomIn, "Magnify twice"),
        zoom_out=_action(win, "Zoom &Out", "zoom-out", SK.ZoomOut, "Reduce by half"),
        fit=_action(win, "&Fit Slide", "fit", "Ctrl+0", "Show the whole slide"),
        run_model=_action(
            win, "&Run Model on Slide…", "run-model", "Ctrl+R",
            "Run a trained model over the slide's tissue and show its heatmaps",
        ),
        train_model=_action(
            win, "&Train a Model…", None, "Ctrl+Shift+T",
            "Fine-tune a network on labelled patches, step by step (SCAAT)",
        ),
        cancel_job=_action(win, "Cancel Model Run", "cancel", None, "Stop the running job"),
        about=_action(win, "&About PathSCAAT", "info", None, "Version and credits"),
        show_logs=_action(
            win, "Show &Log Folder", None, None,
            "Open the folder of the log file (attach it to a problem report)",
        ),
        export_view=_action(
            win, "&Export View…", "export", "Ctrl+E",
            "Save the view or the whole slide with its overlays, scale bar and legends as PNG",
        ),
        show_grid=_action(win, "Tile &Grid", None, "G", "Outline the tiles the model scored"),
        show_outline=_action(
            win, "Tissue O&utline", None, "T", "Outline the tissue the model was run on"
        ),
    )  # fmt: skip
    for act in (acts.show_grid, acts.show_outline):
        act.setCheckable(True)
    acts.zoom_in.setShortcuts([QKeySequence(SK.ZoomIn), QKeySequence("Ctrl+=")])
    acts.quit.setMenuRole(QAction.MenuRole.QuitRole)
    acts.about.setMenuRole(QAction.MenuRole.AboutRole)
    for mag in ZOOM_PRESETS:
        act = QAction(f"{mag:g}×", win)
        act.setStatusTip(f"Show the slide as a {mag:g}× objective would")
        if mag <= 9:
            act.setShortcut(QKeySequence(f"Alt+{int(mag)}"))
        acts.zoom_presets[mag] = act
    return acts


def build_menus(
    win: QMainWindow, acts: Actions, recent_menu: QMenu, panel_actions: list[QAction]
) -> None:
    """File, View, Analysis and Help menus."""
    bar = win.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(acts.open)
    recent_menu.setTitle("Open &Recent")
    recent_menu.setIcon(icon("recent"))
    file_menu.addMenu(recent_menu)
    file_menu.addAction(acts.open_overlays)
    file_menu.addAction(acts.export_view)
    file_menu.addSeparator()
    file_menu.addAction(acts.close)
    file_menu.addSeparator()
    file_menu.addAction(acts.quit)

    view_menu = bar.addMenu("&View")
    view_menu.addAction(acts.zoom_in)
    view_menu.addAction(acts.zoom_out)
    view_menu.addAction(acts.fit)
    zoom_menu = view_menu.addMenu("&Magnification")
    for act in acts.zoom_presets.values():
        zoom_menu.addAction(act)
    view_menu.addSeparator()
    view_menu.addAction(acts.show_grid)
    view_menu.addAction(acts.show_outline)
    view_menu.addSeparator()
    for act in panel_actions:
        view_menu.addAction(act)

    analysis_menu = bar.addMenu("&Analysis")
    analysis_menu.addAction(acts.train_model)
    analysis_menu.addAction(acts.run_model)
    analysis_menu.addAction(acts.cancel_job)

    help_menu = bar.addMenu("&Help")
    help_menu.addAction(acts.show_logs)
    help_menu.addSeparator()
    help_menu.addAction(acts.about)


def build_toolbar(win: QMainWindow, acts: Actions, panel_actions: list[QAction]) -> QToolBar:
    """Main toolbar: file, view, analysis, panels (icons only, tooltips say the rest)."""
    bar = QToolBar("Main toolbar", win)
    bar.setObjectName("mainToolbar")
    bar.setIconSize(QSize(22, 22))
    bar.setMovable(False)
    for act in (acts.open, acts.open_overlays):
        bar.addAction(act)
    bar.addSeparator()
    for act in (acts.zoom_out, acts.zoom_in, acts.fit):
        bar.addAction(act)
    bar.addSeparator()
    for act in (acts.run_model, acts.cancel_job):
        bar.addAction(act)
    bar.addSeparator()
    for act in panel_actions:
        bar.addAction(act)
    win.addToolBar(bar)
    return bar


def fill_recent_menu(
    menu: QMenu, files: list[str], open_fn: Callable[[str], None], clear_fn: Callable[[], None]
) -> None:
    """Rebuild File > Open Recent: one entry per slide (full path in the tip), Clear List."""
    menu.clear()
    for text in files:
        act = menu.addAction(Path(text).name)
        act.setToolTip(text)
        act.setStatusTip(text)
        act.triggered.connect(lambda _=False, p=text: open_fn(p))
    if not files:
        menu.addAction("No recent slides").setEnabled(False)
    menu.addSeparator()
    clear = menu.addAction("Clear List")
    clear.setEnabled(bool(files))
    clear.triggered.connect(clear_fn)


def find_menu(win: QMainWindow, title: str) -> QMenu | None:
    """The menu bar's menu called ``title`` (ignoring the & of its shortcut)."""
    for act in win.menuBar().actions():
        menu = act.menu()
        if act.text().replace("&", "") == title and isinstance(menu, QMenu):
            return menu
    return None
