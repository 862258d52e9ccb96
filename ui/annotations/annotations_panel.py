"""Annotations panel: the table of objects, and how the layer draws them.

The table (:mod:`ui.annotations.annotation_table`) lists every object with its
measurements, those from the slide's overlays included; under it, the measurements of
the one selected object read as a short list. A click selects the object and centres
the viewer on it; the collection's selection (from the tools) is mirrored back. The
filter box matches names and classes; the class menu shows or hides classes on the
slide; fill, outline and opacity restyle the layer.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
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
from pathscaat.progress import PathscaatError
from ui.annotations.annotation_table import (
    BASE_COLUMNS,
    PENDING,
    UNCLASSIFIED_TEXT,
    AnnotationTableModel,
)
from ui.annotations.layer import AnnotationLayer
from ui.annotations.measurer import AnnotationMeasurer

__all__ = ["BASE_COLUMNS", "PENDING", "AnnotationTableModel", "AnnotationsPanel"]

class AnnotationsPanel(QWidget):
    """Table, filter, class visibility and drawing style for one collection and layer."""

    def __init__(self, layer: AnnotationLayer, center_on: Callable[[float, float], None],
                 mpp: Callable[[], float | None], report: Callable[[str], None],
                 parent: QWidget | None = None,
                 measurer: AnnotationMeasurer | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.layer = layer
        self._center_on = center_on
        self._report = report
        self._collection: AnnotationCollection | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._syncing = False
        self.measurer = measurer
        if measurer is None:
            self.model = AnnotationTableModel(mpp, self)
        else:
            self.model = AnnotationTableModel(
                mpp, self, measurer.measurements,
                lambda o: bool(measurer.folders) and measurer.measured(o) is None,
                measurer.names,
            )  # fmt: skip
            measurer.sigMeasured.connect(self.refresh)
            measurer.sigBusy.connect(self._busy)
        self._busy_text = ""
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
        self.details = QLabel("")
        self.details.setObjectName("hint")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setToolTip("What the model says of the selected annotation: saliency, "
                                "and the classes by their mean probability inside")
        self.details.setVisible(False)
        layout.addWidget(self.details)
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
        self._count_text = f"{len(objs):,} of {total:,} annotations listed{note}"
        self._show_count()
        self._mirror_selection()

    def _busy(self, text: str) -> None:
        self._busy_text = text
        self._show_count()

    def _show_count(self) -> None:
        text = getattr(self, "_count_text", "")
        self.count.setText(f"{text} · {self._busy_text}" if self._busy_text else text)

    def _mirror_selection(self) -> None:
        """Select the table rows of the collection's selection (without echoing back)."""
        if self._collection is None:
            self.details.setVisible(False)
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
        self._show_details()

    def _show_details(self) -> None:
        """The measurements of the one selected annotation (hidden otherwise)."""
        from ui.annotations.measure_details import details_html

        c = self._collection
        chosen = [i for i in c.selection if i in c] if c is not None else []
        text = ""
        if c is not None and len(chosen) == 1:
            obj = c.get(chosen[0])
            pending = self.measurer is not None and self.model.is_pending(obj)
            text = details_html(self.model.measure_of(obj), pending)
        self.details.setText(text)
        self.details.setVisible(bool(text))

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
