"""What the centre of the window shows before a slide is open: what to do next."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.actions import icon

MAX_SHOWN = 5


class EmptyPage(QWidget):
    """The app icon, how to open a slide, and the recent slides as links."""

    sigOpen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyPage")
        layout = QVBoxLayout(self)
        logo = QLabel()
        logo.setPixmap(icon("app").pixmap(96, 96))
        logo.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        text = QLabel(
            "<b>Open a whole-slide image to begin</b><br><br>"
            "File ▸ Open Slide… (Ctrl+O), or drop a slide file onto this window.<br>"
            "Aperio .svs, Hamamatsu .ndpi, pyramidal TIFF and plain images are supported."
        )
        text.setObjectName("emptyHint")
        text.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        text.setWordWrap(True)
        self.recent = QLabel()
        self.recent.setObjectName("emptyHint")
        self.recent.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.recent.setTextFormat(Qt.TextFormat.RichText)
        self.recent.linkActivated.connect(self.sigOpen)
        layout.addStretch(2)
        layout.addWidget(logo)
        layout.addSpacing(16)
        layout.addWidget(text)
        layout.addSpacing(20)
        layout.addWidget(self.recent)
        layout.addStretch(3)

    def set_recent(self, paths: list[str]) -> None:
        """Offer the most recent slides that still exist as one-click links."""
        shown = [p for p in paths if Path(p).is_file()][:MAX_SHOWN]
        if not shown:
            self.recent.setText("")
            return
        links = "<br>".join(
            f'<a href="{html.escape(p, quote=True)}" style="color:#2f5f8a">'
            f"{html.escape(Path(p).name)}</a>"
            for p in shown
        )
        self.recent.setText(f"<b>Recent slides</b><br><br>{links}")
        self.recent.setToolTip("\n".join(shown))
