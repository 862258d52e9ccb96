"""``evaluate`` on a folder labelled in other words, or into a folder it cannot write."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pathscaat.cli.main import main
from pathscaat.evaluation import EvalSettings, evaluate
from pathscaat.models import CheckpointMeta, create_model, save_checkpoint
from pathscaat.progress import PathscaatError, ProgressRecord

KATHER2016_CLASSES = ["01_TUMOR", "02_STROMA", "03_COMPLEX", "04_LYMPHO", "05_DEBRIS",
                      "06_MUCOSA", "07_ADIPOSE", "08_EMPTY"]


def _checkpoint(folder: Path, classes: list[str]) -> Path:
    torch.manual_seed(0)
    model = create_model("test_resnet", len(classes))
    meta = CheckpointMeta(backbone="test_resnet", class_names=classes, input_px=32,
                          mean=list(model.mean), std=list(model.std), objective="erm")
    return save_checkpoint(folder / "best", model, meta)


def test_other_class_names_say_which_differ_and_how_to_map(
    kather_mini: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It used to say "holds 0 images in 8 class folders" of a folder of 109 in 9."""
    ckpt = _checkpoint(tmp_path, KATHER2016_CLASSES)
    out = tmp_path / "eval"
    argv = ["evaluate", "--data", str(kather_mini), "--models", str(ckpt), "--out", str(out)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "0 images" not in err
    assert "07_ADIPOSE" in err and "ADI (15)" in err and "BACK (1)" in err
    assert "ln -s" in err and "--data mapped" in err
    assert not out.exists()


def test_some_classes_absent_are_evaluated_and_reported(
    kather_mini: Path, tmp_path: Path
) -> None:
    ckpt = _checkpoint(tmp_path, ["ADI", "BACK", "07_ADIPOSE"])
    settings = EvalSettings(sanity_images=1, sanity_checkpoints=1, batch_size=4)
    result = evaluate([ckpt], kather_mini, ["vanilla"], tmp_path / "eval", max_images=2,
                      device="cpu", settings=settings)  # fmt: skip
    assert "no images of the model's classes 07_ADIPOSE" in result.report.read_text()


def test_unwritable_out_fails_before_any_work(kather_mini: Path, tmp_path: Path) -> None:
    ckpt = _checkpoint(tmp_path, ["ADI", "BACK"])
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    records: list[ProgressRecord] = []
    with pytest.raises(PathscaatError, match="cannot write the evaluation report to"):
        evaluate([ckpt], kather_mini, ["vanilla"], blocker / "eval", device="cpu",
                 on_progress=records.append)  # fmt: skip
    assert records == []
