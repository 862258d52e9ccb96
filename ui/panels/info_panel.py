"""Slide information: format, pyramid, pixel size and where it came from, label and macro."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

THUMB_PX = 130
THUMB_COLUMNS = 2

MPP_SOURCES = {
    "openslide": "from the file (OpenSlide)",
    "tiff-resolution": "from the TIFF resolution tags",
    "objective-power": "assumed from the objective power",
    "user": "set by you for this session (open the slide in a project to keep it)",
    "project": "set by you, saved in the project",
}
OVERRIDES = ("user", "project")
"""Sources that replace the file's own µm/px: the panel offers to go back to the file's."""


def rgb_to_qimage(arr: np.ndarray) -> QImage:
    """A deep-copied QImage of an H x W x 3 uint8 RGB array."""
    rgb = np.ascontiguousarray(arr[..., :3], dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def mpp_source_text(source: str) -> str:
    if source.startswith("vendor:"):
        return f"from the vendor metadata ({source.split(':', 1)[1]})"
    return MPP_SOURCES.get(source, source)


def _value(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class InfoPanel(QWidget):
    """Shows one slide's metadata; lets the user set µm/px when the file has none."""

    sigMppChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._slide: Any = None
        self._body = QWidget()
        self._body.setObjectName("panelBody")
        self._layout = QVBoxLayout(self._body)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self._layout.setSpacing(8)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.fields: dict[str, QLabel] = {}
        self.metadata: QTreeWidget | None = None
        self.set_mpp_button = QPushButton("Set µm/px…")
        self.set_mpp_button.setToolTip("Enter the pixel size at full resolution (µm per pixel)")
        self.set_mpp_button.clicked.connect(self.request_mpp)
        self.reset_mpp_button = QPushButton("Use the File's")
        self.reset_mpp_button.setToolTip("Forget the µm/px you set; use the file's own (if any)")
        self.reset_mpp_button.clicked.connect(self.clear_mpp)
        self.set_slide(None)

    def _clear(self) -> None:
        self.set_mpp_button.setParent(None)  # reused: keep it out of the groups deleted below
        self.reset_mpp_button.setParent(None)
        while self._layout.count():
            item = self._layout.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.setParent(None)  # gone from the screen now, freed at the next loop turn
                w.deleteLater()
        self.fields = {}
        self.metadata = None

    def _group(self, title: str, rows: list[tuple[str, str]]) -> QFormLayout:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, text in rows:
            label = _value(text)
            self.fields[name] = label
            form.addRow(f"{name}:", label)
        self._layout.addWidget(box)
        return form

    def set_slide(self, slide: Any) -> None:
        """Show ``slide`` (a :class:`pathscaat.slides.base.Slide`) or an empty hint."""
        self._slide = slide
        self._clear()
        if slide is None:
            hint = QLabel("No slide open.")
            hint.setObjectName("hint")
            self._layout.addWidget(hint)
            self._layout.addStretch(1)
            return
        self._group("File", self._file_rows(slide))
        scale = self._group("Scale", self._scale_rows(slide))
        button_row = QHBoxLayout()
        button_row.addWidget(self.set_mpp_button)
        overridden = slide.mpp is not None and slide.mpp.source in OVERRIDES
        if overridden:
            native = slide.native_mpp
            self.reset_mpp_button.setText(f"Use the File's ({native.x:.4g})" if native else "Clear")
            button_row.addWidget(self.reset_mpp_button)
        self.reset_mpp_button.setVisible(overridden)
        button_row.addStretch(1)
        scale.addRow("", button_row)
        self.set_mpp_button.setObjectName("primary" if slide.mpp is None else "")
        self.set_mpp_button.style().polish(self.set_mpp_button)
        self._add_associated(slide)
        self._add_properties(slide)
        self._layout.addStretch(1)

    def _file_rows(self, slide: Any) -> list[tuple[str, str]]:
        w, h = slide.dimensions
        downs = ", ".join(f"{d:.4g}" for d in slide.level_downsamples)
        levels = (
            "1 (no pyramid)"
            if slide.level_count == 1
            else f"{slide.level_count} (downsamples {downs})"
        )
        return [
            ("Name", slide.path.name),
            ("Format", f"{slide.vendor or 'unknown'} ({slide.backend_name})"),
            ("Size", f"{w:,} × {h:,} px"),
            ("Levels", levels),
        ]

    def _scale_rows(self, slide: Any) -> list[tuple[str, str]]:
        mpp = slide.mpp
        obj = slide.objective_power
        rows = [("Objective", f"{obj:g}×" if obj else "not recorded")]
        if mpp is None:
            rows.append(("µm/px", "unknown: sizes in µm and magnification presets need it"))
            return rows
        value = f"{mpp.x:.4g}" if abs(mpp.x - mpp.y) < 1e-9 else f"{mpp.x:.4g} × {mpp.y:.4g}"
        rows.append(("µm/px", value))
        source = mpp_source_text(mpp.source) + (f" ({mpp.note})" if mpp.note else "")
        rows.append(("Source", source))
        w, h = slide.dimensions
        rows.append(("Area", f"{w * mpp.x / 1000:.2f} × {h * mpp.y / 1000:.2f} mm"))
        return rows

    def _add_associated(self, slide: Any) -> None:
        try:
            images = dict(slide.associated_images)
        except Exception as exc:  # shown, not fatal: the slide itself is readable
            self._group("Associated images", [("Error", f"could not read them ({exc})")])
            return
        if not images:
            return
        box = QGroupBox("Associated images")
        grid = QGridLayout(box)
        for i, (name, arr) in enumerate(sorted(images.items())):
            cell = QVBoxLayout()
            pix = QPixmap.fromImage(rgb_to_qimage(arr)).scaled(
                THUMB_PX, THUMB_PX, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )  # fmt: skip
            image = QLabel()
            image.setPixmap(pix)
            image.setToolTip(f"{name}: {arr.shape[1]} × {arr.shape[0]} px")
            caption = QLabel(name)
            caption.setObjectName("hint")
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            cell.addWidget(image, 0, Qt.AlignmentFlag.AlignHCenter)
            cell.addWidget(caption)
            grid.addLayout(cell, i // THUMB_COLUMNS, i % THUMB_COLUMNS)
        self._layout.addWidget(box)

    def _add_properties(self, slide: Any) -> None:
        """Every metadata key of the file, searchable by eye (sorted, selectable)."""
        props = dict(slide.properties)
        if not props:
            return
        box = QGroupBox(f"Metadata ({len(props)})")
        layout = QVBoxLayout(box)
        tree = QTreeWidget()
        tree.setObjectName("metadata")
        tree.setColumnCount(2)
        tree.setHeaderLabels(["Key", "Value"])
        tree.setRootIsDecorated(False)
        tree.setAlternatingRowColors(True)
        tree.setMinimumHeight(180)
        for key in sorted(props):
            item = QTreeWidgetItem([key, str(props[key])])
            item.setToolTip(0, key)
            item.setToolTip(1, str(props[key]))
            tree.addTopLevelItem(item)
        tree.resizeColumnToContents(0)
        tree.setColumnWidth(0, min(tree.columnWidth(0), 140))  # leave room for the values
        tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        layout.addWidget(tree)
        self.metadata = tree
        self._layout.addWidget(box)

    def request_mpp(self, reason: str = "") -> bool:
        """Ask for µm/px (modal; ``reason`` says why first) and apply it; True if set."""
        from ui.dialogs.mpp_dialog import MppDialog

        if self._slide is None:
            return False
        current = self._slide.mpp.x if self._slide.mpp is not None else None
        dialog = MppDialog(self._slide.path.name, current, reason, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        self.apply_mpp(dialog.value())
        return True

    def clear_mpp(self) -> None:
        """Forget the µm/px the user set: the file's own (or none) applies again."""
        if self._slide is None:
            return
        self._slide.clear_mpp()
        self.set_slide(self._slide)
        self.sigMppChanged.emit()

    def apply_mpp(self, mpp_um: float, source: str = "user") -> None:
        """Set the slide's µm/px (an override by ``source``: ``user``, or ``project`` for a
        project's saved value) and refresh everything that uses it."""
        if self._slide is None:
            return
        self._slide.set_mpp(mpp_um, source=source)
        self.set_slide(self._slide)
        self.sigMppChanged.emit()
