"""The Project panel: the project's name, its slides as thumbnails with their annotation
and run counts, Add Slides and (double-click) open.

The panel only shows and asks: the window opens slides, the session owns the project.
A slide whose file is missing is listed greyed with where it was last seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.project.thumbnails import THUMB_PX, ThumbnailMaker, cache_path

if TYPE_CHECKING:
    from pathscaat.project.slides import SlideRecord
    from ui.project.session import ProjectSession

ID_ROLE = Qt.ItemDataRole.UserRole
PATH_ROLE = Qt.ItemDataRole.UserRole + 1


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


class ProjectPanel(QWidget):
    """Slides of the open project; emits ``sigOpenSlide(path)`` on double-click or Enter."""

    sigOpenSlide = Signal(object)  # Path
    sigAddSlides = Signal()
    sigNewProject = Signal()
    sigOpenProject = Signal()

    def __init__(self, session: ProjectSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.thumbnails = ThumbnailMaker(self)
        self.thumbnails.sigReady.connect(self._thumbnail_ready)
        self.title = QLabel()
        self.title.setObjectName("panelTitle")
        self.title.setWordWrap(True)
        self.notice = QLabel()
        self.notice.setObjectName("warning")
        self.notice.setWordWrap(True)
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB_PX, THUMB_PX * 3 // 4))
        self.list.setGridSize(QSize(THUMB_PX + 24, THUMB_PX * 3 // 4 + 58))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setWordWrap(True)
        self.list.setToolTip("Double-click a slide to open it with its annotations and overlays")
        self.list.itemActivated.connect(self._activated)
        self.add_button = QPushButton("Add Slides…")
        self.add_button.setToolTip("Add whole-slide images to this project")
        self.add_button.clicked.connect(self.sigAddSlides)
        self.new_button = QPushButton("New Project…")
        self.new_button.clicked.connect(self.sigNewProject)
        self.open_button = QPushButton("Open Project…")
        self.open_button.clicked.connect(self.sigOpenProject)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.new_button, self.open_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.notice)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        session.sigChanged.connect(self.refresh)
        session.sigSlidesChanged.connect(self.refresh)
        self.current: Path | None = None
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the list from the store; thumbnails follow from the worker."""
        s = self.session
        has = s.project is not None
        self.add_button.setVisible(has)
        self.new_button.setVisible(not has)
        self.open_button.setVisible(not has)
        self.notice.setText(s.notice or "")
        self.notice.setVisible(bool(s.notice))
        self.list.clear()
        if s.project is None:
            self.title.setText("No project open. A project keeps slides, their annotations "
                               "and model runs together, saved as you work.")
            return
        slides = s.slides()
        self.title.setText(f"<b>{s.project.root.name}</b> — {_plural(len(slides), 'slide')}"
                           f"<br><small>{s.project.root}</small>")
        counts = s.annotation_counts()
        jobs = []
        for rec in slides:
            self.list.addItem(self._item(rec, counts.get(rec.id, 0)))
            if rec.found:
                jobs.append((rec.id, rec.path, cache_path(s.project.root, rec.id)))
        self.thumbnails.start(jobs)
        self.mark_current(self.current)

    def _item(self, rec: SlideRecord, n_annotations: int) -> QListWidgetItem:
        item = QListWidgetItem(self._text(rec, n_annotations))
        item.setData(ID_ROLE, rec.id)
        item.setData(PATH_ROLE, str(rec.path))
        item.setSizeHint(self.list.gridSize())
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        if rec.found:
            item.setToolTip(str(rec.path))
        else:
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            item.setToolTip(f"Missing: last seen at {rec.path}. Move it back, or add it again "
                            "from its new place.")
            item.setText(f"{rec.name}\n(file missing)")
        return item

    def _text(self, rec: SlideRecord, n_annotations: int) -> str:
        runs = len(self.session.overlay_folders(rec))
        second = _plural(n_annotations, "annotation")
        return f"{rec.name}\n{second} · {_plural(runs, 'run')}" if runs else \
            f"{rec.name}\n{second}"

    def refresh_counts(self) -> None:
        """Update each slide's annotation and run counts (after edits elsewhere)."""
        counts = self.session.annotation_counts()
        for rec in self.session.slides():
            item = self.item_for(rec.id)
            if item is not None and rec.found:
                item.setText(self._text(rec, counts.get(rec.id, 0)))

    def item_for(self, slide_id: int) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(ID_ROLE) == slide_id:
                return item
        return None

    def _thumbnail_ready(self, slide_id: int, png: str, problem: str) -> None:
        item = self.item_for(slide_id)
        if item is None:
            return
        if png:
            item.setIcon(QIcon(QPixmap(png)))
        else:
            item.setToolTip(f"{item.toolTip()}\nNo preview: {problem}")

    def mark_current(self, path: Path | None) -> None:
        """Highlight the slide shown in the viewer (None: none)."""
        self.current = Path(path).resolve() if path is not None else None
        for i in range(self.list.count()):
            item = self.list.item(i)
            here = self.current is not None and Path(item.data(PATH_ROLE)) == self.current
            font = item.font()
            font.setBold(here)
            item.setFont(font)
            if here:
                self.list.setCurrentItem(item)

    def _activated(self, item: QListWidgetItem) -> None:
        self.sigOpenSlide.emit(Path(item.data(PATH_ROLE)))

    def shutdown(self) -> None:
        self.thumbnails.shutdown()
