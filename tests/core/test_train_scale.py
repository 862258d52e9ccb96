"""Issue 11: the µm/px a model sees after ``--img-size``, mixed patch sizes, starting weights
from our own checkpoint, and the defaults ``pathscaat train`` chooses and prints."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from pathscaat.cli.main import main
from pathscaat.data.patch_folder import scan_items
from pathscaat.inference.slide_survey import grid_for
from pathscaat.models import read_meta
from pathscaat.progress import PathscaatError, no_progress
from pathscaat.slides import open_slide
from pathscaat.tiling.tissue import detect_tissue
from pathscaat.training.scale import patch_scale

KATHER_MPP = 0.495  # 150 px tiles: 74.25 µm of tissue
CLASSES = ("01_TUMOR", "04_LYMPHO", "07_ADIPOSE")


@pytest.fixture(scope="module")
def kather_few(kather2016: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four real 150 px tiles of three classes, as they are (names keep their slide token)."""
    out = tmp_path_factory.mktemp("k16")
    for name in CLASSES:
        (out / name).mkdir()
        for f in sorted((kather2016 / name).iterdir())[:4]:
            shutil.copy(f, out / name / f.name)
    return out


def _train(data: Path, out: Path, *extra: str) -> int:
    argv = [
        "train", "--data", str(data), "--backbone", "test_resnet", "--objective", "erm",
        "--epochs", "1", "--batch-size", "4", "--img-size", "24", "--device", "cpu",
        "--workers", "0", "--out", str(out), "--progress", "none", *extra,
    ]  # fmt: skip
    return main(argv)


@pytest.mark.slow
def test_model_scale_and_field_of_view_follow_the_resize(
    kather_few: Path, cmu_svs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _train(kather_few, tmp_path / "a", "--mpp", str(KATHER_MPP)) == 0
    printed = capsys.readouterr().out
    assert "learning rate 0.003 (default when starting from random weights" in printed
    assert "split by slide-token" in printed and "07_ADIPOSE" in printed
    meta = read_meta(tmp_path / "a" / "best")
    assert meta.input_px == 24 and meta.mpp == pytest.approx(KATHER_MPP * 150 / 24)
    assert meta.patch["mpp"] == KATHER_MPP and meta.patch["px"] == 150
    assert meta.split["class_counts"]["train"].keys() == set(CLASSES)
    with open_slide(cmu_svs) as slide:  # inference reads the same 74 µm of tissue
        grid = grid_for(slide, meta, detect_tissue(slide), no_progress)
        assert slide.mpp is not None
        fov_um = grid.l0_tile_px * slide.mpp.x
    assert fov_um == pytest.approx(KATHER_MPP * 150, rel=0.02)
    # the run's own checkpoint as starting weights (keys prefixed "backbone."), 2 classes
    two = tmp_path / "two"
    for name in CLASSES[:2]:
        shutil.copytree(kather_few / name, two / name)
    weights = tmp_path / "a" / "best.safetensors"
    assert _train(two, tmp_path / "b", "--pretrained-file", str(weights)) == 0
    assert "learning rate 0.001 (default when starting from pretrained" in capsys.readouterr().out
    assert read_meta(tmp_path / "b" / "best").class_names == list(CLASSES[:2])


def test_mixed_patch_sizes_are_refused_with_a_known_mpp(kather2016: Path, tmp_path: Path) -> None:
    for name, px in (("a", 150), ("b", 100)):
        (tmp_path / name).mkdir()
        for f in sorted((kather2016 / CLASSES[0]).iterdir())[:2]:
            with Image.open(f) as im:
                im.resize((px, px)).save(tmp_path / name / f.name)
    _, items = scan_items(tmp_path)
    with pytest.raises(PathscaatError, match=r"2 sizes \(100 px: 2 .*150 px: 2.*leave out --mpp"):
        patch_scale(tmp_path, items, 0.5, 64)
    unknown = patch_scale(tmp_path, items, None, 64)  # no scale claimed: sizes recorded
    assert unknown.model_mpp is None and unknown.to_dict()["sizes_px"] == {"100": 2, "150": 2}


def test_help_shows_every_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    raw = capsys.readouterr().out
    entries = [" ".join(e.split()) for e in re.split(r"\n(?=  -)", raw.split("options:")[1])]
    assert len(entries) > 30
    for entry in entries:
        if entry and not entry.startswith(("-h", "--data ")):
            assert "(default: " in entry, entry
    text = " ".join(raw.split())
    assert "(default: None)" not in text
    assert "0.003 from random weights, 0.001 from pretrained weights" in text
    assert "PathSCAAT checkpoint" in text and "random (a research setting)" in text
