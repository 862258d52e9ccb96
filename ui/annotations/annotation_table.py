"""The Annotations panel's table: one row per annotation, cells computed on demand.

Columns: class, name, kind, area µm², locked, then each measurement: the ones the objects
carry and those the :class:`ui.annotations.measurer.AnnotationMeasurer` computes from the
slide's overlay sets (saliency share and mean first, then each class's mean and max
probability); "…" while an object is being measured. Rows are values read lazily, so
100,000 detections list without delay.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from pathscaat.annotations.measurement_names import split_name
from pathscaat.annotations.model import Annotation
from ui.annotations.classes_panel import swatch
from ui.annotations.layer import colour_of

BASE_COLUMNS = ("Class", "Name", "Kind", "Area µm²", "Locked")
MAX_MEASUREMENT_COLUMNS = 60
UNCLASSIFIED_TEXT = "Unclassified"
PENDING = "…"
Measure = Callable[[Annotation], dict[str, float]]


def _own(obj: Annotation) -> dict[str, float]:
    return dict(obj.measurements)


def column_order(names: list[str]) -> list[str]:
    """Saliency first, then mean and max probabilities (each set together), then others."""
    def rank(name: str) -> tuple[int, str, int]:
        split = split_name(name)
        if split is None:
            return (1, "", 0)
        label, plain = split
        kind = 0 if "aliency" in plain else 1 if plain.startswith("Mean prob") else 2
        return (0, label, kind)

    return sorted(names, key=rank)  # stable: first-seen order within a rank


class AnnotationTableModel(QAbstractTableModel):
    """Rows of annotations (already filtered by the panel); cells computed on demand."""

    def __init__(self, mpp: Callable[[], float | None], parent: QObject | None = None,
                 measure: Measure = _own,
                 pending: Callable[[Annotation], bool] = lambda _o: False,
                 names: Callable[[], list[str]] = list) -> None:  # fmt: skip
        super().__init__(parent)
        self.rows: list[Annotation] = []
        self.measurements: list[str] = []
        self._mpp = mpp
        self.measure_of, self.is_pending, self._names = measure, pending, names
        self._overlay_names: set[str] = set()

    def set_rows(self, rows: list[Annotation]) -> None:
        self.beginResetModel()
        self.rows = rows
        names: dict[str, None] = dict.fromkeys(self._names()) if rows else {}
        for obj in rows[:2000]:  # columns from a sample: detections share their keys
            names.update(dict.fromkeys(self.measure_of(obj)))
        self.measurements = column_order(list(names))[:MAX_MEASUREMENT_COLUMNS]
        self._overlay_names = {n for n in self.measurements if split_name(n) is not None}
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return len(BASE_COLUMNS) + len(self.measurements)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:  # fmt: skip
        if orientation != Qt.Orientation.Horizontal:
            return None
        name = (BASE_COLUMNS[section] if section < len(BASE_COLUMNS)
                else self.measurements[section - len(BASE_COLUMNS)])  # fmt: skip
        if role == Qt.ItemDataRole.ToolTipRole and section >= len(BASE_COLUMNS):
            return _column_tip(name)
        return name if role == Qt.ItemDataRole.DisplayRole else None

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
        name = self.measurements[col - len(BASE_COLUMNS)]
        value = self.measure_of(obj).get(name)
        if value is None:
            return PENDING if self.is_pending(obj) else "—"
        if name.endswith("Saliency share"):
            return _percent(value)
        return _fraction(value) if name in self._overlay_names else _number(value)


def _number(value: float) -> str:
    if math.isnan(value):
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _fraction(value: float) -> str:
    """A probability or a saliency on its 0-1 scale: two decimals."""
    return "—" if math.isnan(value) else f"{value:.2f}"


def _percent(value: float) -> str:
    return "—" if math.isnan(value) else f"{value * 100:.1f} %"


def _column_tip(name: str) -> str:
    """What an overlay measurement means (the header's tooltip)."""
    plain = name.rsplit(": ", 1)[-1] if ": " in name else name
    tips = {
        "Saliency share": "Part of the slide's saliency inside the annotation",
        "Mean saliency": "Mean saliency inside, as a fraction of the overlay's scale",
    }
    if plain in tips:
        return tips[plain]
    if plain.startswith(("Mean prob ", "Max prob ")):
        what = "Mean" if plain.startswith("Mean") else "Highest"
        return f"{what} probability of {plain.split(' ', 2)[2]} over the tiles inside"
    return name
