"""What the centre of the window shows before a slide is open: what to do next."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.actions import icon


def empty_page() -> QWidget:
    """The app icon and one line on how to open a slide."""
    page = QWidget()
    page.setObjectName("emptyPage")
    layout = QVBoxLayout(page)
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
    layout.addStretch(2)
    layout.addWidget(logo)
    layout.addSpacing(16)
    layout.addWidget(text)
    layout.addStretch(3)
    return page
