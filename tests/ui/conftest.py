"""Fixtures shared by the app's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ui.settings import Settings
from ui.wizard import TrainingWizard


@pytest.fixture
def wizard(qtbot, tmp_path: Path) -> Iterator[TrainingWizard]:
    """The training wizard, shown, with its own settings file; shut down afterwards."""
    wiz = TrainingWizard(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(wiz)
    wiz.show()
    yield wiz
    wiz.shutdown()
