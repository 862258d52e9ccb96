"""Attribution methods: shapes, sign, exact gradients, target layers, IG completeness."""

from __future__ import annotations

import pytest
import timm
import torch
from torch import nn

from pathscaat.progress import PathscaatError
from pathscaat.saliency import get_method, list_methods
from pathscaat.saliency.gradcam import find_target_layer
from pathscaat.saliency.integrated_gradients import IntegratedGradients

ALL = ["vanilla", "input_x_gradient", "smoothgrad", "integrated_gradients", "gradcam"]
FAST = {"smoothgrad": {"n_samples": 4}, "integrated_gradients": {"n_steps": 8}}


@pytest.fixture(scope="module")
def resnet() -> nn.Module:
    torch.manual_seed(0)
    return timm.create_model("resnet10t", num_classes=3)


@pytest.fixture(scope="module")
def vit() -> nn.Module:
    torch.manual_seed(0)
    return timm.create_model(
        "vit_tiny_patch16_224", num_classes=3, img_size=32, depth=2, embed_dim=48, num_heads=3
    )


def test_registry_lists_every_method_and_rejects_unknown() -> None:
    assert list_methods() == ALL
    with pytest.raises(PathscaatError, match="vanilla"):
        get_method("nope")


@pytest.mark.parametrize("name", ALL)
def test_shapes_non_negative_no_param_grad_and_mode_restored(name: str, resnet: nn.Module) -> None:
    resnet.train()
    x = torch.rand(3, 3, 32, 32)
    with torch.no_grad():  # callers' no_grad must not break attribution
        sal = get_method(name, batch_size=2, **FAST.get(name, {})).attribute(
            resnet, x, torch.tensor([0, 1, 2])
        )
    assert sal.shape == (3, 32, 32)
    assert torch.isfinite(sal).all() and (sal >= 0).all()
    # Grad-CAM's ReLU may zero a whole map of an untrained net (layer4 is 1x1 here)
    assert sal.sum() > 0 or name == "gradcam"
    assert all(p.grad is None for p in resnet.parameters())
    assert resnet.training  # eval only during the call
    resnet.eval()


def test_vanilla_equals_hand_computed_gradient_on_linear_model() -> None:
    lin = nn.Linear(3 * 2 * 2, 2, bias=True)
    model = nn.Sequential(nn.Flatten(), lin)
    x = torch.rand(2, 3, 2, 2)
    target = torch.tensor([1, 0])
    sal = get_method("vanilla").attribute(model, x, target)
    # d(Wx + b)[y]/dx = W[y]; abs then max over the 3 channels
    expected = lin.weight.detach()[target].view(2, 3, 2, 2).abs().amax(dim=1)
    torch.testing.assert_close(sal, expected)
    ixg = get_method("input_x_gradient").attribute(model, x, target)
    w = lin.weight.detach()[target].view(2, 3, 2, 2)
    torch.testing.assert_close(ixg, (x * w).abs().amax(dim=1))


def test_batching_does_not_change_the_result(resnet: nn.Module) -> None:
    x = torch.rand(5, 3, 32, 32)
    target = torch.tensor([0, 1, 2, 0, 1])
    whole = get_method("vanilla", batch_size=8).attribute(resnet, x, target)
    chunks = get_method("vanilla", batch_size=2).attribute(resnet, x, target)
    torch.testing.assert_close(whole, chunks)


def test_smoothgrad_is_reproducible_with_a_seed(resnet: nn.Module) -> None:
    x = torch.rand(2, 3, 32, 32)
    target = torch.tensor([0, 1])
    a = get_method("smoothgrad", n_samples=4, seed=3).attribute(resnet, x, target)
    b = get_method("smoothgrad", n_samples=4, seed=3).attribute(resnet, x, target)
    torch.testing.assert_close(a, b)


def test_gradcam_layer_for_timm_resnet_and_vit(resnet: nn.Module, vit: nn.Module) -> None:
    layer, prefix = find_target_layer(resnet)
    assert layer is resnet.layer4 and prefix is None
    wrapped = nn.Sequential(nn.Identity(), resnet)  # normalisation first, as create_model does
    assert find_target_layer(wrapped)[0] is resnet.layer4
    layer, prefix = find_target_layer(vit)
    norm = vit.get_submodule("blocks.1.norm1")  # the last of two blocks
    assert layer is norm and prefix == 1
    sal = get_method("gradcam").attribute(vit, torch.rand(2, 3, 32, 32), torch.tensor([0, 2]))
    assert sal.shape == (2, 32, 32) and (sal >= 0).all()
    assert not norm._forward_hooks  # the temporary hook is gone


def test_integrated_gradients_completeness(resnet: nn.Module) -> None:
    """Sum of IG attributions ~= f(x)[y] - f(baseline)[y] (Sundararajan et al. 2017)."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    x = torch.rand(2, 3, 8, 8)
    target = torch.tensor([0, 1])
    for baseline in ("black", "mean"):
        ig = IntegratedGradients(n_steps=64, baseline=baseline)
        raw = ig.attribute_raw(model, x, target)
        with torch.no_grad():
            gap = model(x) - model(ig.make_baseline(x))
        expected = gap.gather(1, target.view(-1, 1)).squeeze(1)
        torch.testing.assert_close(raw.sum(dim=(1, 2, 3)), expected, atol=2e-3, rtol=1e-2)


@pytest.mark.parametrize("name", ["vanilla", "gradcam"])
def test_frozen_model_under_inference_mode(name: str) -> None:
    """Inference freezes parameters and may call from inference_mode: maps must still come."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
    model.append(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)))
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.inference_mode():
        x = torch.rand(2, 3, 8, 8)
        sal = get_method(name).attribute(model, x, torch.tensor([0, 1]))
    assert sal.shape == (2, 8, 8) and (sal >= 0).all() and sal.sum() > 0
