"""Annotations panel: the table of objects, and how the layer draws them.

Table columns: class, name, kind, area µm², locked, then each measurement the objects
carry. A click selects the object and centres the viewer on it; the collection's
selection (from the tools) is mirrored back. The filter box matches names and classes;
the class menu shows or hides classes on the slide; fill, outline and opacity restyle
the layer. Rows are values read lazily, so 100,000 detections list without delay.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSlider,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pathscaat.annotations.collection import AnnotationCollection, CollectionEvent
from pathscaat.annotations.edits import Edit
from pathscaat.annotations.model import Annotation
from pathscaat.progress import PathscaatError
from ui.annotations.classes_panel import swatch
from ui.annotations.layer import AnnotationLayer, colour_of

BASE_COLUMNS = ("Class", "Name", "Kind", "Area µm²", "Locked")
MAX_MEASUREMENT_COLUMNS = 12
UNCLASSIFIED_TEXT = "Unclassified"


class AnnotationTableModel(QAbstractTableModel):
    """Rows of annotations (already filtered by the panel); cells computed on demand."""

    def __init__(self, mpp: Callable[[], float | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Annotation] = []
        self.measurements: list[str] = []
        self._mpp = mpp

    def set_rows(self, rows: list[Annotation]) -> None:
        self.beginResetModel()
        self.rows = rows
        names: dict[str, None] = {}
        for obj in rows[:2000]:  # columns from a sample: detections share their keys
            names.update(dict.fromkeys(obj.measurements))
        self.measurements = list(names)[:MAX_MEASUREMENT_COLUMNS]
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return len(self.rows)

    def columnCount(
        self, parent: QModelIndex | QPersistentModelIndex | None = None
    ) -> int:
        return len(BASE_COLUMNS) + len(self.measurements)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:  # fmt: skip
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if section < len(BASE_COLUMNS):
            return BASE_COLUMNS[section]
        return self.measurements[section - len(BASE_COLUMNS)]

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid():
            return None
        obj, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return swatch(colour_of(obj), 12)
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return self._text(obj, col)

    def _text(self, obj: Annotation, col: int) -> str:
        if col == 0:
            return obj.class_name or UNCLASSIFIED_TEXT
        if col == 1:
            return obj.name or ""
        if col == 2:
            kind = obj.tool.value if obj.tool.value != "imported" else obj.object_type.value
            n = len(getattr(obj.geometry, "geoms", ()))
            return f"{kind} ({n})" if obj.geometry.geom_type == "MultiPoint" else kind
        if col == 3:
            if obj.geometry.geom_type not in ("Polygon", "MultiPolygon"):
                return "—"  # points and lines have no area
            return _number(obj.area_um2(self._mpp()))
        if col == 4:
            return "🔒" if obj.locked else ""
        return _number(obj.measurements.get(self.measurements[col - len(BASE_COLUMNS)], math.nan))


def _number(value: float) -> str:
    if math.isnan(value):
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


class AnnotationsPanel(QWidget):
    """Table, filter, class visibility and drawing style for one collection and layer."""

    def __init__(self, layer: AnnotationLayer, center_on: Callable[[float, float], None],
                 mpp: Callable[[], float | None], report: Callable[[str], None],
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.layer = layer
        self._center_on = center_on
        self._report = report
        self._collection: AnnotationCollection | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._syncing = False
        self.model = AnnotationTableModel(mpp, self)
        self._build()

    def _build(self) -> None:
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name or class…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(lambda _t: self.refresh())
        self.classes_button = QToolButton()
        self.classes_button.setText("Show classes ▾")
        self.classes_button.setToolTip("Show or hide each class on the slide")
        self.classes_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.classes_menu = QMenu(self)
        self.classes_menu.aboutToShow.connect(self._fill_classes_menu)
        self.classes_button.setMenu(self.classes_menu)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.classes_button)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setResizeContentsPrecision(200)  # measure a sample of rows, not 100,000
        self.table.clicked.connect(self._row_clicked)
        self.table.selectionModel().selectionChanged.connect(self._table_selection_changed)
        self.count = QLabel("")
        self.count.setObjectName("hint")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(self._lock_row())
        layout.addLayout(self._style_row())
        layout.addWidget(self.count)

    def _lock_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        for text, tip, locked in (("Lock", "Protect the selected annotations from edits", True),
                                  ("Unlock", "Allow edits of the selected annotations", False)):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _=False, v=locked: self.set_locked(v))
            row.addWidget(button)
        row.addStretch(1)
        return row

    def _style_row(self) -> QHBoxLayout:
        style = self.layer.style
        self.fill_box = QCheckBox("Fill")
        self.fill_box.setChecked(style.fill)
        self.fill_box.toggled.connect(lambda on: self.layer.set_style(fill=on))
        self.outline_box = QCheckBox("Outline")
        self.outline_box.setChecked(style.outline)
        self.outline_box.toggled.connect(lambda on: self.layer.set_style(outline=on))
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(style.opacity * 100))
        self.opacity.setToolTip("Opacity of the fill")
        self.opacity.valueChanged.connect(lambda v: self.layer.set_style(opacity=v / 100))
        row = QHBoxLayout()
        row.addWidget(self.fill_box)
        row.addWidget(self.outline_box)
        row.addWidget(QLabel("Fill opacity"))
        row.addWidget(self.opacity, 1)
        return row

    # -- model -----------------------------------------------------------------------------
    def set_collection(self, collection: AnnotationCollection | None) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._collection = collection
        if collection is not None:
            self._unsubscribe = collection.subscribe(self._on_event)
        self.refresh()

    def _on_event(self, event: CollectionEvent) -> None:
        if event.kind == "selection":
            self._mirror_selection()
        else:
            self.refresh()

    def refresh(self) -> None:
        """Rebuild the rows from the collection and the filter."""
        objs = self._collection.objects() if self._collection is not None else []
        text = self.filter.text().strip().lower()
        if text:
            objs = [o for o in objs if text in (o.name or "").lower()
                    or text in (o.class_name or UNCLASSIFIED_TEXT).lower()]  # fmt: skip
        self.model.set_rows(objs)
        self.table.resizeColumnsToContents()
        total = len(self._collection) if self._collection is not None else 0
        hidden = len(self.layer.style.hidden_classes)
        note = f", {hidden} class{'es' * (hidden > 1)} hidden" if hidden else ""
        self.count.setText(f"{len(objs):,} of {total:,} annotations listed{note}")
        self._mirror_selection()

    def _mirror_selection(self) -> None:
        """Select the table rows of the collection's selection (without echoing back)."""
        if self._collection is None:
            return
        chosen = self._collection.selection
        sel = self.table.selectionModel()
        self._syncing = True
        sel.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        if chosen:
            for row, obj in enumerate(self.model.rows):
                if obj.id in chosen:
                    sel.select(self.model.index(row, 0), flags)
        self._syncing = False

    def _table_selection_changed(self, *_: object) -> None:
        if self._syncing or self._collection is None:
            return
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        self._collection.select([self.model.rows[r].id for r in sorted(rows)])

    def _row_clicked(self, index: QModelIndex) -> None:
        obj = self.model.rows[index.row()]
        c = obj.geometry.centroid
        self._center_on(float(c.x), float(c.y))

    # -- class visibility and locking --------------------------------------------------
    def _fill_classes_menu(self) -> None:
        self.classes_menu.clear()
        shown = {o.class_name for o in self.model.rows}
        names = sorted(shown | set(self.layer.style.hidden_classes),
                       key=lambda n: (n is None, n or ""))  # fmt: skip
        for name in names:
            act = QAction(name or UNCLASSIFIED_TEXT, self.classes_menu)
            act.setCheckable(True)
            act.setChecked(name not in self.layer.style.hidden_classes)
            act.toggled.connect(lambda on, n=name: self.set_class_visible(n, on))
            self.classes_menu.addAction(act)
        if not names:
            self.classes_menu.addAction("No annotations yet").setEnabled(False)

    def set_class_visible(self, name: str | None, visible: bool) -> None:
        hidden = set(self.layer.style.hidden_classes)
        hidden.discard(name) if visible else hidden.add(name)
        self.layer.set_style(hidden_classes=frozenset(hidden))
        self.refresh()

    def set_locked(self, locked: bool) -> None:
        c = self._collection
        if c is None:
            return
        before = [c.get(i) for i in c.selection if i in c and c.get(i).locked != locked]
        if not before:
            return
        after = [o.with_changes(locked=locked) for o in before]
        n = len(before)
        label = f"{'Lock' if locked else 'Unlock'} {n} object{'s' * (n > 1)}"
        try:
            c.apply(Edit.change(before, after, label))
        except PathscaatError as exc:
            self._report(str(exc))
