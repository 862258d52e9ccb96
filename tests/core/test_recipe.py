"""The fine-tuning recipe: head init, parameter groups, linear probe, frozen BN, SCAAT's
late start and the choice of ``best`` (on real, downsized Kather tiles)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from pathscaat.models import create_model
from pathscaat.progress import PathscaatError
from pathscaat.training import ScaatConfig, TrainConfig, train
from pathscaat.training.recipe import head_parameter_names, init_head, param_groups
from pathscaat.training.selection import WeightAverage
from tests.core.tiny_kather import write_tiny_kather


@pytest.fixture(scope="module")
def tiny(kather_mini: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_kather(kather_mini, tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 'pretrained' test_resnet file with a 1000-class head (a head to reset)."""
    torch.manual_seed(1)
    path = tmp_path_factory.mktemp("w") / "pretrained.safetensors"
    save_file(create_model("test_resnet", 1000).backbone.state_dict(), str(path))
    return path


def _config(data: Path, out: Path, **kw) -> TrainConfig:
    base = dict(data=data, backbone="test_resnet", scaat=ScaatConfig.for_objective("erm"),
                out=out, epochs=1, batch_size=6, lr=3e-3, img_size=32, device="cpu",
                val_fraction=0.25, test_fraction=0.0, strip_every=0)  # fmt: skip
    return TrainConfig(**{**base, **kw})


def test_a_zero_head_starts_at_uniform_predictions() -> None:
    model = create_model("test_resnet", 8)
    init_head(model, "zero")
    with torch.no_grad():
        logits = model(torch.rand(4, 3, 32, 32))
    assert torch.count_nonzero(logits) == 0
    ce = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 3]))
    assert float(ce) == pytest.approx(math.log(8))
    init_head(model, "small")
    assert 0 < float(model.backbone.get_classifier().weight.detach().std()) < 0.02
    with pytest.raises(PathscaatError, match="head_init"):
        init_head(model, "huge")


def test_groups_scale_the_head_and_spare_norms_from_weight_decay() -> None:
    model = create_model("resnet10t", 3)
    groups = param_groups(model, 0.05, head_lr_scale=10.0, layer_decay=0.5)
    heads = head_parameter_names(model)
    assert heads == {"backbone.fc.weight", "backbone.fc.bias"}
    names = {id(p): n for n, p in model.named_parameters()}
    for g in groups:
        for p in g["params"]:
            if names[id(p)] in heads:
                assert g["lr_scale"] == 10.0 and g["head"]
            if p.ndim == 1:
                assert g["weight_decay"] == 0.0
    stem = next(g for g in groups if any(names[id(p)].startswith("backbone.conv1") for p in
                                         g["params"]))  # fmt: skip
    assert stem["lr_scale"] < 0.1  # the stem sits many layers below the top
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))


def test_probe_epoch_moves_only_the_head_and_frozen_bn_keeps_statistics(
    tiny: Path, weights: Path, tmp_path: Path
) -> None:
    train(_config(tiny, tmp_path, pretrained_file=weights, probe_epochs=1, select="last"))
    after = load_file(str(tmp_path / "last.safetensors"))
    before = load_file(str(weights))
    assert not torch.equal(
        after["backbone.fc.weight"], torch.zeros_like(after["backbone.fc.weight"])
    )
    for key, value in before.items():
        if not key.startswith("fc."):
            assert torch.equal(after["backbone." + key], value), key  # conv, BN stats alike
    run2 = tmp_path / "frozen-bn"
    train(_config(tiny, run2, pretrained_file=weights, bn="frozen"))
    again = load_file(str(run2 / "last.safetensors"))
    moved = [k for k in before if "running" in k and not torch.equal(again["backbone." + k],
                                                                     before[k])]  # fmt: skip
    assert not moved
    assert any(not torch.equal(again["backbone." + k], v) for k, v in before.items()
               if k.endswith("conv1.weight"))  # fmt: skip


def test_scaat_starts_late_and_then_ramps_in() -> None:
    cfg = ScaatConfig.for_objective("scaat", reg_start_epochs=1.0, eps_warmup_epochs=1.0)
    assert cfg.at_epoch(0.5).lam == 0.0
    half = cfg.at_epoch(1.5)
    assert half.lam == 1.0 and half.eps == pytest.approx(cfg.eps / 2)
    assert cfg.at_epoch(3.0).eps == pytest.approx(cfg.eps)
    with pytest.raises(PathscaatError, match="reg_start_epochs"):
        ScaatConfig(reg_start_epochs=-1)


def test_weight_average_is_the_mean_of_the_added_states() -> None:
    a, b = create_model("test_resnet", 3), create_model("test_resnet", 3)
    avg = WeightAverage()
    avg.add(a)
    avg.add(b)
    mean = avg.state_for(a)
    for key, value in a.state_dict().items():
        if value.is_floating_point():
            assert torch.allclose(mean[key], (value + b.state_dict()[key]) / 2, atol=1e-6)


def test_select_average_saves_the_average_as_best_and_says_so(tiny: Path, tmp_path: Path) -> None:
    result = train(_config(tiny, tmp_path, epochs=3, select="average"))
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["metrics"]["averaged_epochs"] == 2 and best["metrics"]["selected_by"] == "average"
    assert result.metrics["averaged_epochs"] == 2
    lines = [json.loads(x) for x in (tmp_path / "val_predictions.jsonl").read_text().splitlines()]
    assert [x["model"] for x in lines] == ["epoch", "epoch", "average", "epoch", "average"]
    assert len(lines[0]["label"]) == len(lines[0]["pred"]) == result.metrics["n"]
    best_w, last_w = (load_file(str(tmp_path / f"{n}.safetensors")) for n in ("best", "last"))
    assert any(not torch.equal(best_w[k], last_w[k]) for k in best_w)


def test_cli_says_which_measure_chose_best(tiny: Path, tmp_path: Path, capsys) -> None:
    from pathscaat.cli.main import main

    code = main(["train", "--data", str(tiny), "--backbone", "test_resnet", "--objective", "erm",
                 "--img-size", "32", "--epochs", "2", "--batch-size", "6", "--device", "cpu",
                 "--workers", "0", "--val-fraction", "0.25", "--test-fraction", "0",
                 "--strip-every", "0", "--select", "last", "--out", str(tmp_path),
                 "--progress", "none"])  # fmt: skip
    assert code == 0
    assert "best = epoch 2 (chosen by the last epoch)" in capsys.readouterr().out


def test_min_crop_one_keeps_the_scale_and_bad_values_are_refused() -> None:
    """``min_crop=1`` never zooms: every training view is the whole patch, only flipped,
    rotated and jittered (the scale the model sees is the scale it will read slides at)."""
    from pathscaat.data.augment import Augment

    image = torch.zeros(3, 40, 40)
    image[:, :4, :] = 1.0  # a bright band along one edge: any crop of < 100% may drop it
    torch.manual_seed(0)
    whole = Augment(20, train=True, jitter=0.0, min_crop=1.0)
    for _ in range(20):
        out, _ = whole(image, None)
        assert float(out.mean()) == pytest.approx(float(image.mean()), abs=1e-3)
    zooming = Augment(20, train=True, jitter=0.0, min_crop=0.5)
    means = {round(float(zooming(image, None)[0].mean()), 3) for _ in range(20)}
    assert len(means) > 1
    with pytest.raises(PathscaatError, match="min_crop"):
        TrainConfig(data=".", out=".", min_crop=0.0)
