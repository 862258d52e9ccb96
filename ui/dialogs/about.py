"""Help > About: version, purpose, the research-use notice, where settings and logs live."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from pathscaat import __version__
from ui.errors import user_log_dir


def about_html(settings_path: Path) -> str:
    return (
        f"<h3>PathSCAAT {html.escape(__version__)}</h3>"
        "<p>Whole-slide image viewer, SCAAT fine-tuning of timm backbones and sparse "
        "saliency overlays for digital pathology.</p>"
        "<p><b>For research use only; not for diagnostic use.</b></p>"
        f"<p>Settings: {html.escape(str(settings_path))}<br>"
        f"Log files: {html.escape(str(user_log_dir()))}</p>"
    )


def show_about(parent: QWidget, settings_path: Path) -> None:
    QMessageBox.about(parent, "About PathSCAAT", about_html(settings_path))
