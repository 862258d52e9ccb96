"""The epoch's saliency strip: fixed validation patches with where the model looks.

The trainer writes ``out/strips/epoch_NNN.png`` once per epoch; this view reads the newest
in a worker (decoding a PNG on the UI thread would stall the curves) and shows it scaled
to its box, so the user watches the saliency sharpen from epoch to epoch.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget
from superqt.utils import create_worker

EMPTY_TEXT = (
    "After each epoch, validation patches appear here with the model's saliency under them "
    "(bright = the pixels that drove its answer). With SCAAT they should settle on tissue "
    "structures rather than on noise or background."
)


class StripView(QWidget):
    """Caption and image of the newest strip; ``path`` is the file shown (None: none yet)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path: Path | None = None
        self._image = QImage()
        self._generation = 0
        self.caption = QLabel("Saliency of fixed validation patches")
        self.caption.setObjectName("hint")
        self.caption.setWordWrap(True)  # a long caption wraps in a narrow wizard, never cut
        self.image_label = QLabel(EMPTY_TEXT)
        self.image_label.setWordWrap(True)
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setMinimumHeight(120)
        self.image_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.image_label, 1)

    def show_strip(self, path: Path, epoch: int | None = None) -> None:
        """Read ``path`` in a worker, then show it (an unreadable file keeps the old strip)."""
        self._generation += 1
        generation = self._generation
        worker = create_worker(lambda: QImage(str(path)), _start_thread=False,
                               _ignore_errors=True)  # fmt: skip
        worker.returned.connect(
            lambda image: self._loaded(path, epoch, image) if generation == self._generation
            else None
        )  # fmt: skip
        self._worker = worker  # kept: a collected worker loses its signals
        worker.start()

    def _loaded(self, path: Path, epoch: int | None, image: QImage) -> None:
        if image.isNull():
            return
        self.path, self._image = path, image
        when = f"after epoch {epoch}" if epoch is not None else "latest"
        self.caption.setText(
            f"Saliency of fixed validation patches, {when}. Top: the patch; below: where "
            "the model looks (bright = decisive); bar: green if its answer is right, red if not"
        )
        self._rescale()

    def clear(self) -> None:
        self._generation += 1
        self.path, self._image = None, QImage()
        self.image_label.setPixmap(QPixmap())
        self.image_label.setText(EMPTY_TEXT)

    def _rescale(self) -> None:
        if self._image.isNull():
            return
        box = self.image_label.size()
        scaled = self._image.scaled(
            max(100, box.width()), max(60, box.height()), Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )  # fmt: skip
        self.image_label.setPixmap(QPixmap.fromImage(scaled))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()
