"""A plain ``pip install`` of the wheel gives a working CLI and app (``--smoke`` start).

The wheel is built once per module from a clean copy of the tree and installed, not
editable, into a fresh venv that borrows the shared venv's dependencies through a ``.pth``
file (seconds, not the minutes of installing torch); the installed ``pathscaat`` and
``pathscaat-gui`` scripts then run from another folder with no PYTHONPATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIP = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]


def _build_wheel(tmp: Path) -> Path:
    """The wheel of a clean copy of the tree (a developer's byte code planted in it)."""
    src = tmp / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pathscaat", "ui", "resources"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    stale = src / "resources" / "__pycache__"  # byte code a developer's tree always has
    stale.mkdir(exist_ok=True)
    (stale / "__init__.cpython-311.pyc").write_bytes(b"")
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp / "dist"), "."],
        cwd=src, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return next((tmp / "dist").glob("pathscaat-*.whl"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed (not editable); returns its bin folder."""
    venv = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    py = bin_dir / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    subprocess.run(
        [*PIP, "--python", str(py), "install", "--no-deps", str(wheel)],
        check=True, capture_output=True, timeout=300, env=_env(venv.parent),
    )  # fmt: skip  # no PYTHONPATH: pip must not find the tree's pathscaat "installed"
    # Then the shared venv's packages, after the venv's own (after the install, so that pip
    # never sees, let alone touches, the shared venv); its editable pathscaat stays off: a
    # plain path entry does not run that folder's .pth files.
    Path(site, "shared-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return bin_dir


def _env(tmp: Path) -> dict[str, str]:
    """No PYTHONPATH (the tree must not leak in), a clean home, offscreen Qt."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "TMPDIR") if k in os.environ}
    return {
        **keep, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"), "QT_QPA_PLATFORM": "offscreen",
        "HF_HUB_OFFLINE": "1",
    }  # fmt: skip


@pytest.mark.slow
def test_wheel_packs_resources_without_byte_code(wheel: Path) -> None:
    packed = zipfile.ZipFile(wheel).namelist()
    assert "resources/style.qss" in packed and "resources/icons/app.svg" in packed
    assert not [n for n in packed if n.startswith("resources/") and "__pycache__" in n]


@pytest.mark.slow
def test_installed_package_is_the_wheel_and_finds_its_resources(installed: Path, tmp_path):
    code = (
        "import pathscaat, resources\n"
        "from resources import ICON_NAMES, resource_path\n"
        "print(pathscaat.__file__)\n"
        "print(all(resource_path(f'icons/{n}.svg').is_file() for n in ICON_NAMES))\n"
        "print(resource_path('style.qss').is_file(), resource_path('pathscaat.desktop').is_file())"
    )
    out = subprocess.run(
        [str(installed / "python"), "-c", code], cwd=tmp_path, capture_output=True, text=True,
        env=_env(tmp_path), check=True, timeout=60,
    )  # fmt: skip
    where, icons, others = out.stdout.split("\n")[:3]
    assert Path(where).is_relative_to(installed.parent), where
    assert icons == "True" and others == "True True"


@pytest.mark.slow
def test_installed_cli_reads_a_real_slide(installed: Path, cmu_svs: Path, tmp_path) -> None:
    out = subprocess.run(
        [str(installed / "pathscaat"), "info", "--json", str(cmu_svs)], cwd=tmp_path,
        capture_output=True, text=True, env=_env(tmp_path), timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert '"vendor": "aperio"' in out.stdout and '"backend": "openslide"' in out.stdout


@pytest.mark.slow
def test_installed_app_smoke_start_renders_a_real_slide(installed: Path, cmu_svs: Path, tmp_path):
    out = subprocess.run(
        [str(installed / "pathscaat-gui"), str(cmu_svs), "--smoke", "90"], cwd=tmp_path,
        capture_output=True, text=True, env=_env(tmp_path), timeout=150,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    line = out.stdout.strip().splitlines()[-1]
    assert line.startswith("pathscaat-gui smoke: ok"), line
    assert "CMU-1-Small-Region.svs 2220x2967 (aperio)" in line and "first frame" in line
