"""Page 1, Data: patch folders in, a scan (in a worker) out: classes, samples, problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from ui.wizard.choices import data_sources
from ui.wizard.context import WizardContext, hint_label, problem_label
from ui.wizard.slide_id_row import SlideIdRow

THUMB_PX = 56
SAMPLES_SHOWN = 6

INTRO = (
    "Choose one or more folders of labelled patches: one sub-folder per class (for example "
    "TUM/, STR/, LYM/), the folder that “pathscaat tiles --extract” wrote, or an images/ + "
    "masks/ folder. Classes with the same name in several folders are merged."
)
PROJECT_HINT = (
    "With a project open, “Add This Project's Annotated Slides” trains on tiles cut inside "
    "its classified regions, at the µm/px and tile size given beside it."
)
PROJECT_ROLE = Qt.ItemDataRole.UserRole


def _scan(sources: list[Any], slide_id: Any) -> tuple[Any, dict[str, list[QImage]]]:
    """Scan the sources and load a few thumbnails per class (worker thread)."""
    from pathscaat.data.sources import scan_sources

    scan = scan_sources(sources, slide_id=slide_id)
    thumbs: dict[str, list[QImage]] = {}
    for name, paths in scan.sample_paths.items():
        images = (_thumbnail(Path(p)) for p in list(paths)[:SAMPLES_SHOWN])
        thumbs[name] = [im for im in images if im is not None]
    return scan, thumbs


def _thumbnail(path: Path) -> QImage | None:
    """A small RGB copy of the patch, or None when it cannot be read (never a Qt warning)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.thumbnail((THUMB_PX, THUMB_PX))
            rgb = im.convert("RGB")
    except (OSError, ValueError):
        return None
    data = rgb.tobytes()
    image = QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888)
    return image.copy()


class DataPage(QWizardPage):
    def __init__(self, ctx: WizardContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setTitle("1 · Your labelled patches")
        self.setSubTitle(INTRO)
        self.scanning = False
        self._thumbs: dict[str, list[QImage]] = {}
        self.folder_list = QListWidget()
        self.folder_list.setMaximumHeight(70)
        add, remove = QPushButton("Add Folder…"), QPushButton("Remove")
        add.clicked.connect(self._choose_folder)
        remove.clicked.connect(self._remove_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        project_row = self._project_row()
        self.status = hint_label()
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Class", "Patches", "Slides (groups)"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.samples = QWidget()
        self.samples_grid = QGridLayout(self.samples)
        scroll = QScrollArea()
        scroll.setWidget(self.samples)
        scroll.setWidgetResizable(True)
        middle = QHBoxLayout()
        middle.addWidget(self.table, 2)
        middle.addWidget(scroll, 3)
        self.slide_id = SlideIdRow(ctx.choices.slide_id)
        self.slide_id.sigRuleChanged.connect(self._rule_changed)
        self.notes = hint_label()
        self.problem = problem_label()
        self.resume_note = hint_label()
        self.resume_button = QPushButton("Resume That Run")
        resume_row = QHBoxLayout()
        resume_row.addWidget(self.resume_note, 1)
        resume_row.addWidget(self.resume_button)
        self.resume_note.setVisible(False)
        self.resume_button.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(resume_row)
        layout.addWidget(self.folder_list)
        layout.addLayout(buttons)
        layout.addLayout(project_row)
        layout.addWidget(hint_label(PROJECT_HINT))
        layout.addWidget(self.status)
        layout.addLayout(middle, 1)
        layout.addWidget(self.slide_id)
        layout.addWidget(self.notes)
        layout.addWidget(self.problem)

    def _project_row(self) -> QHBoxLayout:
        from pathscaat.data.project_source import DEFAULT_MPP, DEFAULT_TILE_PX

        self.add_project = QPushButton("Add This Project's Annotated Slides")
        self.add_project.clicked.connect(self._add_open_project)
        self.project_mpp = QDoubleSpinBox()
        self.project_mpp.setRange(0.05, 16.0)
        self.project_mpp.setDecimals(2)
        self.project_mpp.setSuffix(" µm/px")
        self.project_mpp.setValue(self.ctx.choices.project_mpp or DEFAULT_MPP)
        self.project_tile_px = QSpinBox()
        self.project_tile_px.setRange(16, 2048)
        self.project_tile_px.setSuffix(" px tiles")
        self.project_tile_px.setValue(self.ctx.choices.project_tile_px or DEFAULT_TILE_PX)
        row = QHBoxLayout()
        for widget in (self.add_project, self.project_mpp, self.project_tile_px):
            row.addWidget(widget)
        row.addStretch(1)
        return row

    def open_project(self) -> Path | None:
        return self.ctx.open_project() if self.ctx.open_project is not None else None

    def initializePage(self) -> None:
        root = self.open_project()
        self.add_project.setEnabled(root is not None)
        if self.ctx.choices.project and Path(self.ctx.choices.project) != root:
            self.ctx.choices.project = ""  # remembered from a project no longer open
        if self.folder_list.count() == 0 and (self.ctx.choices.folders or self.ctx.choices.project):
            self.set_folders([f for f in self.ctx.choices.folders if Path(f).is_dir()])

    def _add_open_project(self) -> None:
        root = self.open_project()
        if root is None:
            return
        self.ctx.choices.project = str(root)
        self.ctx.choices.project_mpp = self.project_mpp.value()
        self.ctx.choices.project_tile_px = self.project_tile_px.value()
        self.set_folders(self.folders())

    def offer_resume(self, text: str) -> None:
        """Show the banner of an unfinished earlier run (the wizard connects the button)."""
        self.resume_note.setText(text)
        self.resume_note.setVisible(True)
        self.resume_button.setVisible(True)

    def folders(self) -> list[str]:
        items = [self.folder_list.item(i) for i in range(self.folder_list.count())]
        return [i.text() for i in items if not i.data(PROJECT_ROLE)]

    def set_folders(self, folders: list[str]) -> None:
        """Show ``folders`` (and the chosen project) and scan them again."""
        self.folder_list.clear()
        for folder in dict.fromkeys(folders):
            self.folder_list.addItem(folder)
        c = self.ctx.choices
        if c.project:
            item = QListWidgetItem(
                f"Project {Path(c.project).name}: annotated slides at {c.project_mpp:g} µm/px, "
                f"{c.project_tile_px} px tiles"
            )
            item.setData(PROJECT_ROLE, c.project)
            self.folder_list.addItem(item)
        c.folders = self.folders()
        self.rescan()

    def _choose_folder(self) -> None:
        start = self.folders()[-1] if self.folders() else ""
        folder = QFileDialog.getExistingDirectory(self, "Folder of labelled patches", start)
        if folder:
            self.set_folders([*self.folders(), folder])

    def _remove_selected(self) -> None:
        rows = {i.row() for i in self.folder_list.selectedIndexes()}
        if any(self.folder_list.item(r).data(PROJECT_ROLE) for r in rows):
            self.ctx.choices.project = ""
        self.set_folders([f for i, f in enumerate(self.folders()) if i not in rows])

    def rescan(self) -> None:
        self.ctx.scan = None
        self._show_scan(None, {})
        sources = data_sources(self.ctx.choices)
        if not sources:
            self.scanning = False
            self.problem.setText("Add at least one folder of labelled patches (or a project).")
            self.completeChanged.emit()
            return
        self.scanning = True
        self.status.setText("Looking through the folders…")
        self.problem.clear()
        self.completeChanged.emit()
        rule = self._rule()
        self.ctx.background.run("scan", lambda: _scan(sources, rule), self._scanned,
                                self._failed)  # fmt: skip

    def _rule(self) -> Any:
        from pathscaat.data.slide_id import SlideIdRule
        from pathscaat.progress import PathscaatError

        try:
            return self.slide_id.rule()
        except PathscaatError:
            return SlideIdRule()

    def _rule_changed(self, rule: Any) -> None:
        """Read the slides again by ``rule`` (no image is read again) and show the groups."""
        from pathscaat.data.sources import regroup

        self.ctx.choices.slide_id = rule.text()
        if self.ctx.scan is not None and not self.scanning:
            self.ctx.scan = regroup(self.ctx.scan, rule)
            self._show_scan(self.ctx.scan, self._thumbs)

    def _scanned(self, answer: tuple[Any, dict[str, list[QImage]]]) -> None:
        scan, thumbs = answer
        self._thumbs = thumbs
        self.scanning = False
        self.ctx.scan = scan
        self._show_scan(scan, thumbs)
        self.completeChanged.emit()

    def _failed(self, message: str) -> None:
        self.scanning = False
        self.status.clear()
        self.problem.setText(message)
        self.completeChanged.emit()

    def _show_scan(self, scan: Any, thumbs: dict[str, list[QImage]]) -> None:
        self.table.setRowCount(0)
        self._clear_samples()
        self.slide_id.show_groups(scan)
        if scan is None:
            self.status.clear()
            self.notes.clear()
            return
        total = sum(scan.counts_per_class.values())
        self.status.setText(f"Found {total} patches in {len(scan.class_names)} classes.")
        for row, name in enumerate(scan.class_names):
            groups = len(set(scan.groups.get(name, [])))
            self.table.insertRow(row)
            for col, text in enumerate((name, str(scan.counts_per_class.get(name, 0)),
                                        str(groups) if groups else "—")):  # fmt: skip
                self.table.setItem(row, col, QTableWidgetItem(text))
            self._add_samples(row, name, thumbs.get(name, []))
        self.table.resizeColumnsToContents()
        self.notes.setText(self._notes_text(scan))
        self.problem.setText("" if scan.can_train else f"Cannot train on this: {scan.why_not}")

    @staticmethod
    def _notes_text(scan: Any) -> str:
        lines = [f"⚠ {w}" for w in scan.warnings]
        if scan.unreadable:
            shown = ", ".join(Path(p).name for p, _why in scan.unreadable[:5])
            more = f" and {len(scan.unreadable) - 5} more" if len(scan.unreadable) > 5 else ""
            lines.append(
                f"{len(scan.unreadable)} files could not be read and will be skipped: "
                f"{shown}{more}."
            )
        return "\n".join(lines)

    def _clear_samples(self) -> None:
        while self.samples_grid.count():
            item = self.samples_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def _add_samples(self, row: int, name: str, images: list[QImage]) -> None:
        self.samples_grid.addWidget(QLabel(name), row, 0)
        for col, image in enumerate(images, start=1):
            thumb = QLabel()
            thumb.setPixmap(QPixmap.fromImage(image))
            self.samples_grid.addWidget(thumb, row, col)

    def isComplete(self) -> bool:
        scan = self.ctx.scan
        return not self.scanning and scan is not None and bool(scan.can_train)
