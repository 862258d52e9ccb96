"""The trainer on real (downsized) Kather tiles: checkpoints, reload, resume, cancel, NaN."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from pathscaat.data.augment import Augment
from pathscaat.data.patch_folder import PatchFolder
from pathscaat.data.split import Split
from pathscaat.models import create_model, load_checkpoint
from pathscaat.progress import JobCancelled, PathscaatError, ProgressRecord
from pathscaat.training import ScaatConfig, TrainConfig, train
from pathscaat.training.loop import evaluate
from tests.core.tiny_kather import write_tiny_kather


@pytest.fixture(scope="module")
def tiny(kather_mini: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_kather(kather_mini, tmp_path_factory.mktemp("tiny"))


def _config(data: Path, out: Path, **kw) -> TrainConfig:
    base = dict(
        data=data,
        backbone="test_resnet",
        scaat=ScaatConfig.for_objective("scaat"),
        out=out,
        epochs=1,
        batch_size=6,
        lr=3e-3,
        img_size=32,
        device="cpu",
        val_fraction=0.25,
        test_fraction=0.0,
    )
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.slow
def test_train_writes_reloadable_checkpoints(tiny: Path, tmp_path: Path) -> None:
    records: list[ProgressRecord] = []
    result = train(_config(tiny, tmp_path, epochs=2), on_progress=records.append)
    assert result.epochs_run == 2 and result.best_epoch in (1, 2)
    assert {r.stage for r in records} == {"scan", "setup", "split", "train", "epoch"}
    assert records[-1].extra["per_class"].keys() <= {"ADI", "LYM", "TUM"}
    model, meta = load_checkpoint(result.best)
    assert meta.class_names == ["ADI", "LYM", "TUM"] and meta.objective == "scaat"
    assert meta.input_px == 32 and meta.epoch == result.best_epoch and len(meta.data_hash) == 64
    split = Split.load(tmp_path / "split.json")
    assert split.counts()["val"] == 6 and not set(split.val) & set(split.train)
    val = PatchFolder(tiny).subset(split.val, Augment(32, train=False))
    loader = torch.utils.data.DataLoader(val, batch_size=4)
    again = evaluate(model, loader, meta.class_names, torch.device("cpu"))
    assert again["accuracy"] == pytest.approx(meta.metrics["accuracy"])
    assert again["loss"] == pytest.approx(meta.metrics["loss"], rel=1e-5)
    x = next(iter(loader))["image"]
    twin, _ = load_checkpoint(result.best.with_suffix(".safetensors"))
    with torch.no_grad():
        assert torch.equal(model(x), twin(x))


@pytest.mark.slow
def test_resume_continues_the_run(tiny: Path, tmp_path: Path) -> None:
    first = train(_config(tiny, tmp_path, epochs=1))
    cfg = _config(tiny, tmp_path / "resumed", epochs=2, resume=first.last)
    second = train(cfg)
    assert second.epochs_run == 2 and [h["epoch"] for h in second.history] == [1, 2]
    assert Split.load(tmp_path / "resumed" / "split.json") == Split.load(tmp_path / "split.json")
    _, meta = load_checkpoint(second.last)
    assert meta.epoch == 2
    other = _config(tiny, tmp_path / "x", backbone="resnet10t", resume=second.last)
    with pytest.raises(PathscaatError, match="same --backbone"):
        train(other)


def test_cancel_leaves_a_usable_checkpoint(tiny: Path, tmp_path: Path) -> None:
    calls = []

    def stop_on_second_step() -> bool:
        calls.append(1)
        return len(calls) >= 2

    with pytest.raises(JobCancelled, match="checkpoint kept"):
        train(_config(tiny, tmp_path, epochs=3), should_stop=stop_on_second_step)
    model, meta = load_checkpoint(tmp_path / "last")
    assert meta.epoch == 0 and meta.metrics == {"cancelled_in_epoch": 1}
    with torch.no_grad():
        assert torch.isfinite(model(torch.rand(2, 3, 32, 32))).all()


def test_nan_loss_stops_with_a_clear_error(tiny: Path, tmp_path: Path) -> None:
    net = create_model("test_resnet", 3).backbone
    state = {k: v.clone() for k, v in net.state_dict().items()}
    first_conv = next(k for k, v in state.items() if v.ndim == 4)  # not the head: it is reset
    state[first_conv][0, 0] = float("nan")
    weights = tmp_path / "nan.safetensors"
    save_file(state, str(weights))
    with pytest.raises(PathscaatError, match="diverged"):
        train(
            _config(
                tiny,
                tmp_path / "run",
                pretrained_file=weights,
                scaat=ScaatConfig.for_objective("erm"),
            )
        )
