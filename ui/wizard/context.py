"""What the wizard's pages share: the choices, the data scan, the worker pool, the settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QLabel

from ui.settings import Settings
from ui.wizard.background import Background
from ui.wizard.choices import WizardChoices


@dataclass
class WizardContext:
    settings: Settings
    background: Background
    choices: WizardChoices
    scan: Any = None  # pathscaat.data.sources.DataScan of the chosen folders
    register_model: Callable[[Path], str] | None = None
    """Adds a checkpoint to the open project; returns where it was registered."""
    run_on_slide: Callable[[Path], None] | None = None
    """Opens the run dialog with this checkpoint chosen (None: no slide is open)."""
    extra: dict[str, Any] = field(default_factory=dict)


def problem_label() -> QLabel:
    """The red line under a page that says why Next is disabled and what to do."""
    label = QLabel()
    label.setObjectName("problem")
    label.setWordWrap(True)
    label.setStyleSheet("color: #b00020;")
    label.setTextInteractionFlags(label.textInteractionFlags() | _selectable())
    return label


def hint_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


def _selectable() -> Any:
    from PySide6.QtCore import Qt

    return Qt.TextInteractionFlag.TextSelectableByMouse
