"""The wizard's model and compute pages in the core: catalog, weights check, devices, estimate."""

from __future__ import annotations

from pathlib import Path

import pytest
import timm
import torch
from safetensors.torch import save_file

from pathscaat.cli.main import main
from pathscaat.models.catalog import CATALOG, catalog_entry, validate_backbone
from pathscaat.models.device import list_devices
from pathscaat.models.weights_check import check_weights
from pathscaat.progress import PathscaatError
from pathscaat.training import ScaatConfig, TrainConfig
from pathscaat.training.estimate import estimate_run, largest_batch
from tests.core.tiny_kather import write_tiny_kather


@pytest.fixture(scope="module")
def tiny(kather_mini: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_kather(kather_mini, tmp_path_factory.mktemp("tiny"), per_class=6, px=32)


@pytest.mark.parametrize("name", ["resnet10t", "resnet18", "efficientnet_b0"])
def test_catalog_sizes_are_the_models_own(name: str) -> None:
    info = catalog_entry(name)
    assert info is not None and info.note
    model = timm.create_model(name, pretrained=False)
    assert sum(p.numel() for p in model.parameters()) / 1e6 == pytest.approx(info.params_m, 0.02)
    assert model.pretrained_cfg["input_size"][-1] == info.native_px


def test_every_catalog_name_is_a_timm_model_and_typos_get_suggestions() -> None:
    assert all(validate_backbone(info.name) == info.name for info in CATALOG)
    with pytest.raises(PathscaatError, match=r"did you mean .*resnet50"):
        validate_backbone("resnet5O")
    with pytest.raises(PathscaatError, match="unknown backbone"):
        validate_backbone("")


def test_weights_check_fits_resets_head_and_refuses_a_wrong_file(tmp_path: Path) -> None:
    own = tmp_path / "resnet10t.safetensors"
    save_file(timm.create_model("resnet10t", pretrained=False).state_dict(), str(own))
    report = check_weights("resnet10t", 3, own)
    n = len(timm.create_model("resnet10t", num_classes=3).state_dict())
    assert report.head_reset and report.missing == ["fc.bias", "fc.weight"]
    assert report.matched == n - 2 and "starts fresh for 3 classes" in report.message
    same = check_weights("resnet10t", 1000, own)
    assert not same.head_reset and same.matched == n
    with pytest.raises(PathscaatError, match="does not fit"):
        check_weights("resnet18", 3, own)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a weights file")
    with pytest.raises(PathscaatError, match="cannot read weights"):
        check_weights("resnet10t", 3, junk)


def test_devices_list_the_cpu_last_with_threads() -> None:
    devices = list_devices()
    assert devices[-1].kind == "cpu" and devices[-1].device == "cpu"
    assert devices[-1].threads == torch.get_num_threads() and devices[-1].memory_bytes is None
    cuda = [d for d in devices if d.kind == "cuda"]
    assert len(cuda) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    assert all(d.memory_bytes and d.memory_bytes > 0 for d in cuda)


def _config(data: Path, **kw: object) -> TrainConfig:
    base: dict[str, object] = dict(
        data=data, backbone="test_resnet", epochs=3, batch_size=6, img_size=32, device="cpu",
        val_fraction=0.25, test_fraction=0.0, scaat=ScaatConfig.for_objective("scaat"),
        workers=0,
    )  # fmt: skip
    base.update(kw)
    return TrainConfig(**base)  # type: ignore[arg-type]


def test_estimate_times_real_steps(tiny: Path, tmp_path: Path) -> None:
    est = estimate_run(_config(tiny, out=tmp_path / "never"), probe_steps=2)
    assert est.device == "cpu" and est.batch_size == 6
    assert est.steps_per_epoch == 2  # 18 images, 13-14 train at batch 6, short batch dropped
    assert est.seconds_per_step > 0 and est.total_seconds >= 3 * 2 * est.seconds_per_step
    assert not (tmp_path / "never").exists()  # an estimate writes nothing
    assert largest_batch(_config(tiny)) == 6  # not CUDA: the configured batch


def test_cli_estimate_prints_the_run_time(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--data", str(tiny), "--backbone", "test_resnet", "--img-size", "32",
            "--device", "cpu", "--batch-size", "6", "--estimate", "--progress", "none",
            "--out", str(tmp_path / "o")]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "s/step at batch 6 on cpu" in out and "min for 10 epochs" in out
    assert main([*argv[:-2], "--data", str(tmp_path / "absent")]) == 1
    assert "patch folder not found" in capsys.readouterr().err
