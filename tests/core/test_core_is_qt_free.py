"""The core never loads Qt, pyqtgraph or the ui package (architecture.md, layer rule)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pathscaat


def _all_core_modules() -> list[str]:
    names = ["pathscaat"]
    for info in pkgutil.walk_packages(pathscaat.__path__, prefix="pathscaat."):
        names.append(info.name)
    return names


def test_importing_every_core_module_loads_no_qt() -> None:
    modules = _all_core_modules()
    assert len(modules) > 10, modules  # the walk really found the layers
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'pyqtgraph', 'superqt', 'ui', 'qtpy'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.strip() == "", f"core imported Qt modules: {out.stdout}"


def test_ui_package_does_not_import_torch_at_module_level() -> None:
    code = (
        "import importlib, pkgutil, sys, ui\n"
        "for info in pkgutil.walk_packages(ui.__path__, prefix='ui.'):\n"
        "    importlib.import_module(info.name)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'timm'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "", f"ui imported torch/timm at module level: {out.stdout}"
