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


@pytest.mark.slow
def test_icons_found_from_an_installed_wheel(tmp_path) -> None:
    """Build the wheel from a clean copy, install it elsewhere, and look the icons up there."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pathscaat", "ui", "resources"):
        shutil.copytree(root / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, src / name)
    stale = src / "resources" / "__pycache__"  # byte code a developer's tree always has
    stale.mkdir(exist_ok=True)
    (stale / "__init__.cpython-311.pyc").write_bytes(b"")
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), "."],
        cwd=src, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    wheel = next((tmp_path / "dist").glob("pathscaat-*.whl"))
    import zipfile

    packed = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in packed if n.startswith("resources/") and "__pycache__" in n]
    site = tmp_path / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    code = (
        "import resources\n"
        "from resources import ICON_NAMES, resource_path\n"
        "print(resources.__file__)\n"
        "print(all(resource_path(f'icons/{n}.svg').is_file() for n in ICON_NAMES))\n"
        "print(resource_path('style.qss').is_file(), resource_path('pathscaat.desktop').is_file())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, check=True, timeout=60,
    )  # fmt: skip
    where, icons, others = out.stdout.split("\n")[:3]
    assert Path(where).is_relative_to(site), where
    assert icons == "True" and others == "True True"
