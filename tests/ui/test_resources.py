"""The installed app finds every icon, the stylesheet and the desktop entry."""

from __future__ import annotations

import subprocess
import sys

import pytest

from resources import ICON_NAMES, resource_path


@pytest.mark.parametrize("name", ICON_NAMES)
def test_each_icon_is_found_and_renders(name: str, qapp) -> None:
    from PySide6.QtGui import QIcon

    path = resource_path(f"icons/{name}.svg")
    assert path.is_file()
    assert path.read_text(encoding="utf-8").lstrip().startswith("<svg")
    icon = QIcon(str(path))
    assert not icon.isNull()
    assert not icon.pixmap(24, 24).toImage().isNull()


def test_stylesheet_and_desktop_entry_are_found() -> None:
    qss = resource_path("style.qss").read_text(encoding="utf-8")
    assert "QMainWindow" in qss
    desktop = resource_path("pathscaat.desktop").read_text(encoding="utf-8")
    assert desktop.startswith("[Desktop Entry]")
    assert "Exec=pathscaat-gui %f" in desktop


def test_missing_resource_names_itself() -> None:
    with pytest.raises(FileNotFoundError, match="no-such-icon"):
        resource_path("icons/no-such-icon.svg")


def test_helper_works_from_another_directory(tmp_path) -> None:
    """The path comes from the installed package, not from the current directory."""
    code = (
        "from resources import ICON_NAMES, resource_path\n"
        "print(all(resource_path(f'icons/{n}.svg').is_file() for n in ICON_NAMES))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True"


# The installed wheel finds them too: tests/ui/test_install.py.
