"""Checkpoints: safetensors + JSON, atomic, no pickle, same logits after reload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from pathscaat.models import CheckpointMeta, create_model, load_checkpoint, save_checkpoint
from pathscaat.progress import PathscaatError


def _meta(model) -> CheckpointMeta:
    return CheckpointMeta(
        backbone="test_vit",
        class_names=["a", "b", "c"],
        input_px=32,
        mean=list(model.mean),
        std=list(model.std),
        objective="scaat",
        knobs={"eps": 4 / 255},
        timm_kwargs={"img_size": 32},
        epoch=3,
    )


def test_roundtrip_same_logits_any_path_form(tmp_path: Path) -> None:
    model = create_model("test_vit", 3, img_size=32).eval()
    stem = save_checkpoint(tmp_path / "run" / "best", model, _meta(model))
    assert {p.name for p in stem.parent.iterdir()} == {"best.json", "best.safetensors"}
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        ref = model(x)
    for path in (stem, stem.with_suffix(".json"), stem.with_suffix(".safetensors")):
        loaded, meta = load_checkpoint(path)
        assert not loaded.training
        assert meta.class_names == ["a", "b", "c"] and meta.epoch == 3
        assert meta.knobs == {"eps": 4 / 255} and meta.versions["torch"] == torch.__version__
        with torch.no_grad():
            assert torch.equal(loaded(x), ref)


def test_overwrite_leaves_no_temp_files(tmp_path: Path) -> None:
    model = create_model("resnet10t", 3)
    meta = _meta(model)
    meta.backbone, meta.timm_kwargs = "resnet10t", {}
    save_checkpoint(tmp_path / "last", model, meta)
    meta.epoch = 4
    save_checkpoint(tmp_path / "last.json", model, meta)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.json", "last.safetensors"]
    assert json.loads((tmp_path / "last.json").read_text())["epoch"] == 4


def test_wrong_files_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(PathscaatError, match="missing"):
        load_checkpoint(tmp_path / "none")
    (tmp_path / "x.json").write_text('{"hello": 1}')
    with pytest.raises(PathscaatError, match="not a PathSCAAT checkpoint"):
        load_checkpoint(tmp_path / "x.json")
    (tmp_path / "y.json").write_bytes(b"\x80\x03garbage")
    with pytest.raises(PathscaatError, match="not a PathSCAAT checkpoint"):
        load_checkpoint(tmp_path / "y")
    model = create_model("resnet10t", 3)
    meta = _meta(model)
    meta.backbone, meta.timm_kwargs = "resnet10t", {}
    stem = save_checkpoint(tmp_path / "z", model, meta)
    stem.with_suffix(".safetensors").write_bytes(b"not safetensors")
    with pytest.raises(PathscaatError, match=r"cannot read checkpoint weights .* truncated"):
        load_checkpoint(stem)
