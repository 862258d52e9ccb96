"""The researcher's top level: ``import pathscaat`` is small, lazy and documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import pathscaat
from tests.conftest import REPO_ROOT

PUBLIC = {"open_slide", "create_model", "load_checkpoint", "train", "TrainConfig", "ScaatConfig",
          "evaluate", "predict_slide", "read_annotations", "write_annotations",
          "PathscaatError", "SlideError", "__version__"}


def test_import_pathscaat_loads_neither_torch_nor_readers() -> None:
    code = ("import sys, pathscaat\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'timm', 'openslide', 'tifffile', 'PySide6', 'numpy'))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True, cwd=REPO_ROOT)  # fmt: skip
    assert out.stdout.strip() == ""


def test_top_level_names_resolve_and_are_documented() -> None:
    assert set(pathscaat.__all__) == PUBLIC and set(dir(pathscaat)) >= PUBLIC
    for name in PUBLIC - {"__version__"}:
        obj = getattr(pathscaat, name)
        assert callable(obj) and obj.__doc__, name
    assert pathscaat.open_slide is __import__("pathscaat.slides").slides.open_slide
    with pytest.raises(AttributeError, match="no attribute 'read_anotations'"):
        _ = pathscaat.read_anotations  # type: ignore[attr-defined]
    from pathscaat import slides  # sub-packages still import as before

    assert slides.open_slide is pathscaat.open_slide


def _readme_example() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README's Python API section has no python block"
    return match.group(1)


@pytest.mark.slow
def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(_readme_example(), "README.md", "exec"), {"__name__": "readme_example"})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("['atypical', 'benign', 'inflamed'] 32 px at")
    assert out[1] == "api-example/evaluation/report.md"
    assert (tmp_path / "api-example" / "overlays" / "overlays.json").is_file()
    assert "saliency.tif" in out[-3]
    assert out[-2].startswith("tiles read at 0.75 µm/px, the model's")  # the run's scale
    assert "slide 0.5 µm/px, from the slide metadata" in out[-2]
    assert out[-1] == "(100.0, 100.0, 300.0, 250.0)"
