"""Live training curves: cross-entropy and the SCAAT term apart, validation accuracy per epoch.

Points arrive with every progress record of the child; the plots are redrawn at most a few
times a second from a timer, so a fast stream of batch records never stalls the UI thread.
The x axis is epochs (batches fall between them), so both plots line up. A redraw hands
pyqtgraph only the curves that changed (the epoch curves' markers are rebuilt only when an
epoch ends), and the axes and titles are cached as pixmaps: repainting a plot for a new
point does not lay out and draw every tick label and title again.
"""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QWidget

REDRAW_MS = 150

CE_COLOUR = "#1f77b4"
REG_COLOUR = "#d62728"
ACC_COLOUR = "#2ca02c"
BAL_COLOUR = "#9467bd"


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class LiveCurves(QWidget):
    """Two plots; :meth:`add_batch` and :meth:`add_epoch` take the records' ``extra``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = self._plot(
            "loss",
            [(CE_COLOUR, "&#9644;", "cross-entropy: wrong answers (lower is better)"),
             (REG_COLOUR, "&#9644;", "SCAAT term: reacts to unimportant pixels")],
        )  # fmt: skip
        self.acc_plot = self._plot(
            "share right",
            [(ACC_COLOUR, "&#9679;", "accuracy (higher is better)"),
             (BAL_COLOUR, "- &#9632; -", "balanced accuracy: classes count equally")],
        )  # fmt: skip
        self.acc_plot.setYRange(0.0, 1.0)
        self.ce_curve = self.loss_plot.plot(
            pen=pg.mkPen(CE_COLOUR, width=2), name="cross-entropy: wrong answers (lower is better)"
        )
        self.reg_curve = self.loss_plot.plot(
            pen=pg.mkPen(REG_COLOUR, width=2),
            name="SCAAT term: answer shifts when unimportant pixels change",
        )
        # the two often coincide: balanced accuracy, dashed with small filled squares, lies
        # on accuracy, a wide solid line with large hollow rings, so both stay visible
        self.acc_curve = self.acc_plot.plot(
            pen=pg.mkPen(ACC_COLOUR, width=5), symbol="o", symbolSize=12,
            symbolPen=pg.mkPen(ACC_COLOUR, width=2), symbolBrush=None, name="accuracy",
        )  # fmt: skip
        self.bal_curve = self.acc_plot.plot(
            pen=pg.mkPen(BAL_COLOUR, width=2, style=Qt.PenStyle.DashLine), symbol="s",
            symbolSize=6, symbolPen=None, symbolBrush=BAL_COLOUR,
            name="balanced accuracy (classes weighted equally)",
        )  # fmt: skip
        self.acc_curve.setZValue(1)
        self.bal_curve.setZValue(2)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot, 1)
        layout.addWidget(self.acc_plot, 1)
        self.clear()
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()

    def _plot(self, y_label: str, keys: list[tuple[str, str, str]]) -> pg.PlotWidget:
        """A plot whose title is the key of its curves (a legend would cover them); the
        title row is as tall as the key, and the axis label short enough for the plot's
        smallest height (pyqtgraph's fixed 30 px title row cut a two-line key)."""
        plot = pg.PlotWidget(background="w")
        key = "<br>".join(
            f'<span style="color:{colour}">{mark} {text}</span>' for colour, mark, text in keys
        )
        plot.setTitle(key, size="9pt")
        title = plot.plotItem.titleLabel
        height = title.item.boundingRect().height() + 2
        title.setMaximumHeight(height)
        plot.plotItem.layout.setRowFixedHeight(0, height)
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", y_label)
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.setMenuEnabled(False)
        plot.setMinimumHeight(180)
        # thousands of batch points: draw what is in view, peak-downsampled to the pixels
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        cache = QGraphicsItem.CacheMode.DeviceCoordinateCache  # redrawn only when they change
        for name in ("left", "bottom"):
            plot.getAxis(name).setCacheMode(cache)
        plot.getPlotItem().titleLabel.setCacheMode(cache)
        return plot

    def clear(self, epochs: int | None = None) -> None:
        """Forget the points; ``epochs`` of the coming run places batches between epochs."""
        self.epochs = epochs
        self.batch_x: list[float] = []
        self.ce: list[float] = []
        self.reg: list[float] = []
        self.epoch_x: list[float] = []
        self.acc: list[float] = []
        self.bal_acc: list[float] = []
        self._dirty = self._epochs_dirty = True
        for plot in (self.loss_plot, self.acc_plot):
            # a fixed x range spares a re-layout of the axis on every redraw; open-ended runs
            # (epochs unknown) keep auto-ranging
            if epochs:
                plot.setXRange(0.0, float(epochs), padding=0.02)
            else:
                plot.enableAutoRange(axis="x")

    def add_batch(self, done: int, total: int, extra: dict[str, Any]) -> None:
        """A ``train`` record: ``done`` of ``total`` steps; ``extra`` has ``ce``, ``reg``."""
        ce, reg = _finite(extra.get("ce")), _finite(extra.get("reg"))
        epochs = _finite(extra.get("epochs")) or self.epochs
        if ce is None or total <= 0:
            return
        x = done / total * epochs if epochs else float(done)
        if self.batch_x and x < self.batch_x[-1]:  # a resumed run restarts its step count
            x = self.batch_x[-1]
        self.batch_x.append(x)
        self.ce.append(ce)
        self.reg.append(reg if reg is not None else 0.0)
        self._dirty = True

    def add_epoch(self, extra: dict[str, Any]) -> None:
        """An ``epoch`` record: ``epoch``, ``val_acc``, ``val_bal_acc``."""
        epoch = _finite(extra.get("epoch"))
        acc = _finite(extra.get("val_acc"))
        if epoch is None or acc is None:
            return
        bal = _finite(extra.get("val_bal_acc"))
        self.epoch_x.append(epoch)
        self.acc.append(acc)
        self.bal_acc.append(bal if bal is not None else acc)
        self._epochs_dirty = True

    def redraw(self) -> None:
        """Hand the new points to the curves that have any (the timer calls it)."""
        if self._dirty:
            self._dirty = False
            self.ce_curve.setData(self.batch_x, self.ce)
            self.reg_curve.setData(self.batch_x, self.reg)
        if self._epochs_dirty:
            self._epochs_dirty = False
            self.acc_curve.setData(self.epoch_x, self.acc)
            self.bal_curve.setData(self.epoch_x, self.bal_acc)
