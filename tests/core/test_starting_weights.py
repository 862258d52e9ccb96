"""Starting weights: the bundled ImageNet Lite0 classifies real photos, and every layout a
user brings (timm state dict, Hugging Face folder and cache, torchvision ResNet,
EfficientNet-PyTorch, our checkpoints) is recognised by its contents and loads offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import timm
import torch
from safetensors.torch import save_file

from pathscaat.models import create_model, load_checkpoint
from pathscaat.models.starting_weights import (
    DEFAULT_WEIGHTS,
    list_starting_points,
    load_start,
    resolve_start,
)
from pathscaat.models.weights_check import check_weights
from pathscaat.progress import PathscaatError
from pathscaat.training import ScaatConfig, TrainConfig, train
from pathscaat.training.config import PRETRAINED_LR, RANDOM_START_LR, choose_lr
from pathscaat.training.trainer import starts_pretrained
from tests.core.tiny_kather import write_tiny_kather

MEAN, STD = [0.70, 0.54, 0.66], [0.21, 0.26, 0.20]  # a pathology model's own (Lunit-like)


@pytest.fixture(scope="module")
def lite0() -> Path:
    point = resolve_start(DEFAULT_WEIGHTS)  # PathscaatError if the dependency is missing
    return Path(point.source)


def _photo(name: str) -> torch.Tensor:
    from skimage import data

    x = torch.from_numpy(getattr(data, name)()).permute(2, 0, 1).float().div(255)[None]
    return torch.nn.functional.interpolate(x, size=(224, 224), mode="bilinear", antialias=True)


def test_bundled_lite0_classifies_photos(lite0: Path) -> None:
    point = resolve_start(DEFAULT_WEIGHTS)
    assert point.architecture == "tf_efficientnet_lite0" and point.input_px == 224
    assert point.mean == (0.5, 0.5, 0.5) and point.std == (0.5, 0.5, 0.5)
    model = create_model(point.architecture, 1000, **point.timm_kwargs()).eval()
    loaded, fresh = load_start(point, model.backbone)
    assert len(loaded) == 296 and fresh == []
    with torch.no_grad():
        assert int(model(_photo("chelsea")).argmax()) == 285  # Egyptian cat
        assert int(model(_photo("coffee")).argmax()) == 967  # espresso


def test_efficientnet_pytorch_file_is_known_by_contents(lite0: Path, tmp_path: Path) -> None:
    misleading = tmp_path / "resnet50_timm.pth"
    shutil.copy(lite0, misleading)
    point = resolve_start(misleading)
    assert point.layout == "efficientnet-pytorch" and point.architecture == "tf_efficientnet_lite0"
    report = check_weights("", 8, misleading)
    assert report.head_reset and report.matched == 294 and report.input_px == 224
    with pytest.raises(PathscaatError, match="holds tf_efficientnet_lite0 weights, not resnet18"):
        check_weights("resnet18", 8, misleading)


def _tiny_vit(**extra) -> torch.nn.Module:
    args = dict(
        embed_dim=32, depth=2, num_heads=2, img_size=32, patch_size=8, num_classes=0,
        init_values=1e-5, reg_tokens=2, mlp_ratio=5.3375, dynamic_img_size=True,
    )  # fmt: skip
    return timm.create_model("vit_small_patch16_224", pretrained=False, **{**args, **extra})


def _hf_folder(folder: Path, bin_file: bool = False) -> torch.nn.Module:
    """A Virchow2/UNI2-h-form folder: LayerScale, registers, a packed SwiGLU MLP the config
    does not name (their cards pass it in code), their own mean/std, dynamic image size."""
    src = _tiny_vit(mlp_layer=timm.layers.SwiGLUPacked, act_layer=torch.nn.SiLU).eval()
    folder.mkdir(parents=True)
    model_args = {
        "embed_dim": 32, "depth": 2, "num_heads": 2, "img_size": 32, "patch_size": 8,
        "num_classes": 0, "init_values": 1e-5, "reg_tokens": 2, "mlp_ratio": 5.3375,
        "dynamic_img_size": True,
    }  # fmt: skip
    cfg = {
        "architecture": "vit_small_patch16_224", "num_classes": 0, "model_args": model_args,
        "pretrained_cfg": {"input_size": [3, 32, 32], "mean": MEAN, "std": STD,
                           "classifier": "head", "num_classes": 0},
    }  # fmt: skip
    (folder / "config.json").write_text(json.dumps(cfg))
    state = {k: v.contiguous() for k, v in src.state_dict().items()}
    if bin_file:
        torch.save(state, folder / "pytorch_model.bin")
    else:
        save_file(state, str(folder / "model.safetensors"))
    return src


@pytest.mark.parametrize("bin_file", [False, True])
def test_hf_folder_with_swiglu_registers_and_layerscale(tmp_path: Path, bin_file: bool) -> None:
    src = _hf_folder(tmp_path / "vit", bin_file)
    point = resolve_start(tmp_path / "vit")
    assert point.kind == "model-folder" and point.architecture == "vit_small_patch16_224"
    assert point.model_args["mlp_layer"] == "timm.layers.SwiGLUPacked"
    assert point.input_px == 32 and point.mean == tuple(MEAN) and point.std == tuple(STD)
    model = create_model(point.architecture, 3, **point.timm_kwargs()).eval()
    loaded, fresh = load_start(point, model.backbone)
    assert fresh == ["head.bias", "head.weight"] and len(loaded) == len(src.state_dict())
    x = torch.rand(2, 3, 48, 48)  # dynamic image size: another size than the config's
    with torch.no_grad():
        assert torch.allclose(model.backbone.forward_features(x), src.forward_features(x))
    assert model.mean == pytest.approx(tuple(MEAN)) and model.input_px == 32


def test_legacy_config_with_a_pretrained_tag(tmp_path: Path) -> None:
    """Lunit's DINO ViT-S form: one flat dict (mean/std at the top), a tagged architecture."""
    folder = tmp_path / "lunit-like"
    folder.mkdir()
    cfg = {"architecture": "test_vit.r160_in1k", "num_classes": 0, "mean": MEAN, "std": STD,
           "input_size": [3, 160, 160], "classifier": "head"}  # fmt: skip
    (folder / "config.json").write_text(json.dumps(cfg))
    src = timm.create_model("test_vit", pretrained=False, num_classes=0)
    torch.save(src.state_dict(), folder / "pytorch_model.bin")
    point = resolve_start(folder)
    assert (point.architecture, point.input_px, point.std) == ("test_vit", 160, tuple(STD))
    assert check_weights("", 4, folder).matched == len(src.state_dict())


def test_hf_cache_is_listed_and_read_offline(tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "hub"
    repo = cache / "models--lab--tiny-path-vit"
    _hf_folder(repo / "snapshots" / "abc123")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    (cache / "models--other--bert").mkdir(parents=True)  # not a timm model: not listed
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("PATHSCAAT_DATA_DIR", str(tmp_path / "data"))
    names = [p.name for p in list_starting_points()]
    assert names[0] == DEFAULT_WEIGHTS and names[-1] == "random"
    assert "hf-hub:lab/tiny-path-vit" in names and not any("bert" in n for n in names)
    point = resolve_start("hf-hub:lab/tiny-path-vit")
    assert point.kind == "hf-cache" and point.mean == tuple(MEAN)
    with pytest.raises(PathscaatError, match="never downloads"):
        resolve_start("hf-hub:MahmoodLab/UNI")


def test_torchvision_resnet_layout(tmp_path: Path) -> None:
    from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

    for block, layers, arch in ((BasicBlock, [1, 1, 1, 1], "resnet18"),
                                (Bottleneck, [1, 2, 1, 1], "resnet50")):  # fmt: skip
        tv = ResNet(block, layers, num_classes=7).eval()
        path = tmp_path / f"tv-{arch}.pth"
        torch.save(tv.state_dict(), path)
        point = resolve_start(path)
        assert point.architecture == arch and point.model_args == {"layers": layers}
        model = create_model(arch, 7, **point.timm_kwargs()).eval()
        load_start(point, model.backbone)
        x = torch.rand(1, 3, 64, 64)
        with torch.no_grad():
            assert torch.allclose(model.backbone(x), tv(x), atol=1e-5)


def test_timm_state_dict_and_wrong_files(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    save_file(create_model("resnet10t", 4).backbone.state_dict(), str(path))
    point = resolve_start(path)
    assert point.kind == "state-dict" and point.architecture is None
    assert check_weights("resnet10t", 2, path).head_reset
    with pytest.raises(PathscaatError, match="no starting weights"):
        resolve_start(tmp_path / "absent.pth")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PathscaatError, match=r"without a config\.json"):
        resolve_start(tmp_path / "empty")
    (tmp_path / "empty" / "config.json").write_text('{"architecture": "resnet18"}')
    with pytest.raises(PathscaatError, match="no weights"):
        resolve_start(tmp_path / "empty")


def test_config_aliases_and_recipe_defaults(tmp_path: Path) -> None:
    old = TrainConfig(data=tmp_path, pretrained_file=tmp_path / "w.pth")
    assert old.weights == str(tmp_path / "w.pth") and starts_pretrained(old)
    imagenet = TrainConfig(data=tmp_path, weights=DEFAULT_WEIGHTS)
    assert starts_pretrained(imagenet) and choose_lr(imagenet)[0] == PRETRAINED_LR
    for spec in (None, "random"):
        config = TrainConfig(data=tmp_path, weights=spec)
        assert not starts_pretrained(config) and choose_lr(config)[0] == RANDOM_START_LR
    with pytest.raises(PathscaatError, match="differ"):
        TrainConfig(data=tmp_path, weights="random", pretrained_file=tmp_path / "w.pth")


@pytest.mark.slow
def test_foundation_folder_trains_and_rebuilds_offline(
    kather_mini: Path, tmp_path: Path
) -> None:
    data = write_tiny_kather(kather_mini, tmp_path / "tiny", per_class=4, px=32)
    _hf_folder(tmp_path / "vit")
    config = TrainConfig(
        data=data, backbone="vit_small_patch16_224", weights=str(tmp_path / "vit"),
        scaat=ScaatConfig.for_objective("erm"), out=tmp_path / "run", epochs=1, batch_size=6,
        img_size=32, device="cpu", val_fraction=0.25, test_fraction=0.0, strip_every=0,
    )  # fmt: skip
    result = train(config)
    shutil.rmtree(tmp_path / "vit")  # the checkpoint alone rebuilds the model
    model, meta = load_checkpoint(result.last)
    assert meta.timm_kwargs["mlp_layer"] == "timm.layers.SwiGLUPacked"
    assert meta.timm_kwargs["reg_tokens"] == 2 and meta.knobs["train"]["weights"]
    assert model.mean == pytest.approx(tuple(MEAN)) and meta.mean == pytest.approx(MEAN)
