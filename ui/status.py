"""Status bar: cursor position (level-0 px and µm), magnification, tiles pending, job progress."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

from ui.actions import icon
from ui.jobs import JobProgress

STAGE_NAMES = {
    "starting": "starting",
    "tissue": "finding tissue",
    "grid": "laying out tiles",
    "infer": "scoring tiles",
    "tiling": "tiling",
    "extract": "extracting tiles",
    "write": "writing overlays",
}
"""Words for the stages ``pathscaat infer`` reports (others are shown as they come)."""


def format_duration(seconds: float) -> str:
    """``1 h 02 min``, ``3 min 05 s``, ``42 s``: short enough for a status bar."""
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


class StatusBar(QStatusBar):
    """Permanent fields on the right; transient messages on the left."""

    sigCancelClicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.position = self._label("", "Cursor position in level-0 pixels and micrometres")
        sample = "x 100,000  y 100,000 px   ·   50,000.0, 50,000.0 µm"
        self.position.setMinimumWidth(self.position.fontMetrics().horizontalAdvance(sample) + 16)
        self.magnification = self._label("", "Current magnification (objective equivalent)")
        self.magnification.setMinimumWidth(70)
        self.tiles = self._label("", "Tiles still being read from the slide")
        self.tiles.setMinimumWidth(130)
        self.job_label = self._label("", "Model run in progress")
        self.job_label.setMinimumWidth(260)
        self.job_bar = QProgressBar(self)
        self.job_bar.setFixedWidth(160)
        self.job_bar.setTextVisible(True)
        self.job_cancel = QToolButton(self)
        self.job_cancel.setIcon(icon("cancel"))
        self.job_cancel.setToolTip("Cancel the model run")
        self.job_cancel.setAutoRaise(True)
        self.job_cancel.clicked.connect(self.sigCancelClicked)
        for w in (self.job_label, self.job_bar, self.job_cancel):
            self.addPermanentWidget(w)
        for w in (self.tiles, self.magnification, self.position):
            self.addPermanentWidget(w)
        self.set_job(None)

    def _label(self, text: str, tip: str) -> QLabel:
        label = QLabel(text, self)
        label.setToolTip(tip)
        label.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        return label

    def set_cursor(
        self, l0_x: float, l0_y: float, mpp_x: float | None, mpp_y: float | None
    ) -> None:
        """Show the cursor at level-0 (``l0_x``, ``l0_y``); µm too when mpp is known."""
        text = f"x {l0_x:,.0f}  y {l0_y:,.0f} px"
        if mpp_x and mpp_y:
            text += f"   ·   {l0_x * mpp_x:,.1f}, {l0_y * mpp_y:,.1f} µm"
        self.position.setText(text)

    def clear_cursor(self) -> None:
        self.position.setText("")

    def set_magnification(
        self, mag: float | None, downsample: float | None = None, digital: float | None = None
    ) -> None:
        """Apparent objective; ``digital`` (screen px per scan px) past the scan's pixels."""
        if mag:
            text = f"{mag:.1f}×" if mag < 10 else f"{mag:.0f}×"
            self.magnification.setText(f"{text} (digital)" if digital else text)
            self.magnification.setToolTip(
                "Past the scan's resolution: pixels are enlarged, no detail is added"
                if digital else "Current magnification (objective equivalent)"
            )  # fmt: skip
        elif downsample:  # no scale: say how large the pixels are drawn instead
            zoom = 100.0 / downsample
            self.magnification.setText(f"{zoom:.0f} %" if zoom >= 10 else f"{zoom:.1f} %")
        else:
            self.magnification.setText("")

    def set_tiles_pending(self, n: int) -> None:
        self.tiles.setText(f"Loading {n} tile{'s' if n != 1 else ''}…" if n > 0 else "")

    def set_job(self, progress: JobProgress | None, title: str = "Model run") -> None:
        """Show a job's progress (``None`` hides the job fields)."""
        running = progress is not None
        for w in (self.job_label, self.job_bar, self.job_cancel):
            w.setVisible(running)
        if progress is None:
            return
        frac = progress.fraction
        if frac is None:
            self.job_bar.setRange(0, 0)  # busy indicator
        else:
            self.job_bar.setRange(0, 1000)
            self.job_bar.setValue(int(frac * 1000))
            self.job_bar.setFormat(f"{frac * 100:.0f} %")
        stage = STAGE_NAMES.get(progress.stage, progress.stage.replace("_", " ") or "starting")
        count = f" {progress.done:,}/{progress.total:,}" if progress.total > 1 else ""
        eta = f" · {format_duration(progress.eta_s)} left" if progress.eta_s is not None else ""
        self.job_label.setText(f"{title}: {stage}{count}{eta}")
        self.job_label.setToolTip(progress.message or stage)
