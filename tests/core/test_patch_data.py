"""Patch folders: every 8-bit format as RGB in [0,1], masks beside images, augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from pathscaat.data.augment import Augment
from pathscaat.data.loader import make_loader
from pathscaat.data.patch_folder import PatchFolder, data_hash
from pathscaat.progress import PathscaatError


def _write(path: Path, array: np.ndarray, mode: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)


@pytest.fixture()
def mixed(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    _write(tmp_path / "a" / "rgb.png", rng.integers(0, 256, (20, 24, 3), dtype=np.uint8))
    _write(tmp_path / "a" / "grey.jpg", np.full((16, 16), 128, np.uint8))
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:8, :, 3] = 255  # top half opaque red, bottom half transparent
    _write(tmp_path / "b" / "alpha.png", rgba)
    _write(tmp_path / "b" / "t.tif", np.full((16, 16, 3), 10, np.uint8))
    (tmp_path / "b" / "notes.txt").write_text("not an image")
    return tmp_path


def test_modes_become_rgb_in_unit_range(mixed: Path) -> None:
    ds = PatchFolder(mixed)
    assert ds.classes == ["a", "b"] and len(ds) == 4 and not ds.has_masks
    items = {ds.items[i].rel_path: ds[i] for i in range(len(ds))}
    assert items["a/grey.jpg"]["image"].shape == (3, 16, 16)
    assert torch.allclose(items["a/grey.jpg"]["image"], torch.tensor(128 / 255), atol=2 / 255)
    alpha = items["b/alpha.png"]["image"]
    assert torch.allclose(alpha[:, :8], torch.tensor([1.0, 0, 0]).view(3, 1, 1))
    assert torch.allclose(alpha[:, 8:], torch.ones(3, 8, 16))  # transparent over white
    assert items["b/t.tif"]["label"] == 1 and "mask" not in items["b/t.tif"]


def test_masks_from_synthetic_layout(tmp_path: Path) -> None:
    for cls in ("x", "y"):
        for i in range(2):
            _write(tmp_path / "images" / cls / f"{i}.png", np.zeros((32, 32, 3), np.uint8))
            mask = np.zeros((32, 32), np.uint8)
            mask[:, :16] = 255
            _write(tmp_path / "masks" / cls / f"{i}.png", mask)
    for root in (tmp_path, tmp_path / "images"):
        ds = PatchFolder(root, transform=Augment(16, train=True))
        assert ds.has_masks and ds.classes == ["x", "y"]
        for i in range(len(ds)):
            mask = ds[i]["mask"]
            assert mask.shape == (1, 16, 16) and set(mask.unique().tolist()) <= {0.0, 1.0}
        batch = next(iter(make_loader(ds, 4, shuffle=True)))
        assert batch["image"].shape == (4, 3, 16, 16) and batch["mask"].shape == (4, 1, 16, 16)
    (tmp_path / "masks" / "y" / "1.png").unlink()
    with pytest.raises(PathscaatError, match="no mask"):
        PatchFolder(tmp_path)


def test_augment_moves_mask_with_image() -> None:
    image = torch.zeros(3, 40, 40)
    image[:, :, :10] = 1.0  # a bright band where the mask is
    mask = (image[:1] > 0).float()
    aug = Augment(24, train=True, jitter=0.0)
    for seed in range(8):
        torch.manual_seed(seed)
        out, out_mask = aug(image, mask)
        assert out_mask is not None and out.shape == (3, 24, 24)
        agree = ((out[0] > 0.5) == (out_mask[0] > 0)).float().mean()
        assert agree > 0.95  # only the band's resampled edge may differ
    eval_img, _ = Augment(24, train=False)(image, None)
    assert torch.allclose(eval_img, Augment(24, train=False)(image, None)[0])


def test_real_kather_mini_and_hash(kather_mini: Path) -> None:
    ds = PatchFolder(kather_mini, transform=Augment(32, train=False))
    assert len(ds) == 109 and len(ds.classes) == 9
    for i in range(0, len(ds), 20):
        img = ds[i]["image"]
        assert img.shape == (3, 32, 32) and img.min() >= 0 and img.max() <= 1
    h = data_hash(ds.items)
    assert h == data_hash(list(reversed(ds.items))) and len(h) == 64
    assert h != data_hash(ds.items[1:])


def test_bad_folders(tmp_path: Path) -> None:
    with pytest.raises(PathscaatError, match="not found"):
        PatchFolder(tmp_path / "absent")
    (tmp_path / "only").mkdir()
    with pytest.raises(PathscaatError, match="two class"):
        PatchFolder(tmp_path)
