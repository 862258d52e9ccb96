"""Backbone factory: normalisation inside, local weights only, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from pathscaat.models import CURATED_BACKBONES, CheckpointMeta, create_model, save_checkpoint
from pathscaat.progress import PathscaatError


def test_normalize_is_first_layer_with_backbone_mean_std() -> None:
    model = create_model("resnet10t", 3).eval()
    assert model.mean == pytest.approx((0.485, 0.456, 0.406), abs=1e-6)
    x = torch.rand(2, 3, 32, 32)
    normed = (x - model.normalize.mean) / model.normalize.std
    with torch.no_grad():
        assert torch.allclose(model(x), model.backbone(normed))
        assert model(x).shape == (2, 3)


def test_curated_names_are_timm_models() -> None:
    import timm

    assert "resnet18" in CURATED_BACKBONES
    assert all(timm.is_model(name) for name in CURATED_BACKBONES)


def test_vit_takes_img_size_and_cnn_ignores_it() -> None:
    vit = create_model("test_vit", 2, img_size=32)
    cnn = create_model("resnet10t", 2, img_size=32)
    with torch.no_grad():
        assert vit(torch.rand(1, 3, 32, 32)).shape == (1, 2)
        assert cnn(torch.rand(1, 3, 48, 48)).shape == (1, 2)


def test_unknown_backbone() -> None:
    with pytest.raises(PathscaatError, match="unknown backbone"):
        create_model("no_such_net", 2)


def _source_weights(tmp_path: Path, classes: int, suffix: str) -> tuple[Path, dict]:
    src = create_model("resnet10t", classes).backbone
    state = {k: v.clone() for k, v in src.state_dict().items()}
    path = tmp_path / f"w{suffix}"
    if suffix == ".safetensors":
        save_file(state, str(path))
    else:
        torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    return path, state


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_local_weights_loaded_and_head_reset(tmp_path: Path, suffix: str) -> None:
    path, state = _source_weights(tmp_path, 5, suffix)
    same = create_model("resnet10t", 5, pretrained_file=path).backbone.state_dict()
    assert all(torch.equal(same[k], state[k]) for k in state)
    other = create_model("resnet10t", 3, pretrained_file=path).backbone.state_dict()
    assert torch.equal(other["conv1.0.weight"], state["conv1.0.weight"])
    assert other["fc.weight"].shape == (3, state["fc.weight"].shape[1])


def test_weights_of_another_backbone_name_the_keys(tmp_path: Path) -> None:
    path = tmp_path / "vit.safetensors"
    save_file(create_model("test_vit", 2).backbone.state_dict(), str(path))
    with pytest.raises(PathscaatError, match=r"missing keys \[.*conv1"):
        create_model("resnet10t", 2, pretrained_file=path)
    shapes = tmp_path / "r18.safetensors"
    save_file(create_model("resnet18", 2).backbone.state_dict(), str(shapes))
    with pytest.raises(PathscaatError, match="mismatching shapes"):
        create_model("resnet10t", 2, pretrained_file=shapes)


def test_missing_and_garbage_files(tmp_path: Path) -> None:
    with pytest.raises(PathscaatError, match="not found"):
        create_model("resnet10t", 2, pretrained_file=tmp_path / "nope.pth")
    for name in ("junk.safetensors", "junk.pth"):
        bad = tmp_path / name
        bad.write_bytes(b"this is not a weights file at all" * 10)
        with pytest.raises(PathscaatError, match="cannot read weights"):
            create_model("resnet10t", 2, pretrained_file=bad)


def test_own_checkpoint_is_accepted_as_starting_weights(tmp_path: Path) -> None:
    """Issue 11: ``--pretrained-file run/best.safetensors`` failed on its ``backbone.`` keys."""
    trained = create_model("resnet10t", 5)
    with torch.no_grad():
        trained.backbone.conv1[0].weight.add_(1.0)  # unlike a fresh init
    meta = CheckpointMeta("resnet10t", list("abcde"), 224, list(trained.mean), list(trained.std))
    stem = save_checkpoint(tmp_path / "best", trained, meta)
    for classes in (5, 3):
        model = create_model("resnet10t", classes, pretrained_file=stem.with_suffix(".safetensors"))
        own = model.backbone.state_dict()
        assert torch.equal(own["conv1.0.weight"], trained.backbone.state_dict()["conv1.0.weight"])
        assert own["fc.weight"].shape[0] == classes


@pytest.mark.parametrize("prefix", ["model.", "module.", "module.model."])
def test_wrapper_prefixes_are_removed(tmp_path: Path, prefix: str) -> None:
    _, state = _source_weights(tmp_path, 4, ".safetensors")
    path = tmp_path / "wrapped.safetensors"
    save_file({prefix + k: v for k, v in state.items()}, str(path))
    loaded = create_model("resnet10t", 4, pretrained_file=path).backbone.state_dict()
    assert all(torch.equal(loaded[k], state[k]) for k in state)
