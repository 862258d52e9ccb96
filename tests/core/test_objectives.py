"""The SCAAT objective and its baselines behave as scaat-method.md specifies."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from pathscaat.models import create_model
from pathscaat.training.attack import frozen_bn_stats, perturb
from pathscaat.training.config import ScaatConfig
from pathscaat.training.masks import (
    adaptive_mask,
    budget_fraction,
    fraction_mask,
    normalise_saliency,
    soft_mask,
)
from pathscaat.training.objectives import guidance_saliency, objective_loss

EPS = 8 / 255


@pytest.fixture(scope="module")
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(4, 3, 32, 32, generator=g), torch.tensor([0, 1, 2, 1])


@pytest.fixture()
def model() -> nn.Module:
    torch.manual_seed(0)
    return create_model("resnet10t", 3)


def _saliency(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    return guidance_saliency(model(x), x, y)


@pytest.mark.parametrize("mask", ["adaptive", "fraction"])
def test_hard_mask_zero_outside_and_within_eps_inside(model, batch, mask) -> None:
    x, y = batch
    model.eval()  # deterministic, so the guidance can be recomputed here
    cfg = ScaatConfig(mask=mask, eps=EPS, steps=2, tau=0.3, k=0.4)
    torch.manual_seed(1)
    out = objective_loss(model, x, y, cfg)
    assert out.x_adv is not None
    frac = budget_fraction(_saliency(model, x, y), mask, 1.0, 0.3, 0.4, "soft")
    assert frac is not None
    delta = out.x_adv - x
    assert set(frac.unique().tolist()) <= {0.0, 1.0}
    assert torch.all(delta[(frac == 0).expand_as(delta)] == 0)
    assert delta.abs().max() <= EPS + 1e-6
    assert (delta[(frac == 1).expand_as(delta)] != 0).float().mean() > 0.9
    assert out.x_adv.min() >= 0 and out.x_adv.max() <= 1


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
def test_soft_mask_budget_per_pixel(model, batch, gamma) -> None:
    x, y = batch
    model.eval()
    out = objective_loss(model, x, y, ScaatConfig(mask="soft", eps=EPS, gamma=gamma, steps=3))
    sal = _saliency(model, x, y)
    bound = EPS * (1 - sal) ** gamma
    assert out.x_adv is not None
    delta = (out.x_adv - x).abs()
    assert torch.all(delta <= bound.unsqueeze(1) + 1e-6)
    assert torch.all(delta.amax(dim=1)[sal == 1] == 0)  # the most salient pixel is untouched


def test_adaptive_mask_holds_at_most_tau_of_mass() -> None:
    sal = normalise_saliency(torch.randn(5, 3, 16, 16) ** 3)
    for tau in (0.05, 0.5, 0.9):
        m = adaptive_mask(sal, tau)
        inside = (sal * m).flatten(1).sum(1)
        total = sal.flatten(1).sum(1)
        assert torch.all(inside <= tau * total + 1e-5)
        # largest such set: the next-least-salient pixel outside would break the limit
        outside_min = torch.where(m.bool(), torch.inf, sal).flatten(1).amin(1)
        assert torch.all(inside + outside_min > tau * total - 1e-5)
    sparse = torch.zeros(1, 16, 16)
    sparse[0, 0, 0] = 1.0
    assert adaptive_mask(sparse, 0.5).sum() == 255  # a sparse map gets a large set


def test_fraction_and_random_masks_keep_area() -> None:
    sal = normalise_saliency(torch.rand(3, 3, 16, 16))
    assert torch.all(fraction_mask(sal, 0.25).flatten(1).sum(1) == 64)
    torch.manual_seed(0)
    rnd = budget_fraction(sal, "random", 1.0, 0.5, 0.5, "soft")
    soft = soft_mask(sal, 1.0).unsqueeze(1)
    assert rnd is not None
    assert torch.equal(rnd.flatten(1).sort(1).values, soft.flatten(1).sort(1).values)
    assert not torch.equal(rnd, soft)


def test_steps_zero_with_random_fill_is_sgt(model, batch) -> None:
    x, y = batch
    sgt = ScaatConfig.for_objective("sgt")
    manual = ScaatConfig(objective="scaat", mask="fraction", k=0.5, steps=0, start="fill")
    m1, m2 = copy.deepcopy(model), copy.deepcopy(model)
    torch.manual_seed(3)
    a = objective_loss(m1, x, y, sgt)
    torch.manual_seed(3)
    b = objective_loss(m2, x, y, manual)
    assert torch.equal(a.loss, b.loss) and a.reg > 0
    assert a.x_adv is not None
    changed = (a.x_adv != x).any(dim=1).flatten(1).float().mean(1)
    assert torch.allclose(changed, torch.full((4,), 0.5), atol=0.01)


class _Counter:
    def __init__(self, model: nn.Module) -> None:
        self.n = 0
        model.register_forward_hook(lambda *_: setattr(self, "n", self.n + 1))


@pytest.mark.parametrize(
    ("objective", "knobs", "forwards"),
    [
        ("erm", {}, 1),
        ("sgt", {}, 2),
        ("scaat", {}, 3),
        ("trades", {}, 3),
        ("scaat", {"steps": 3}, 5),
    ],
)
def test_guidance_reuses_clean_forward(model, batch, objective, knobs, forwards) -> None:
    counter = _Counter(model)
    out = objective_loss(model, *batch, ScaatConfig.for_objective(objective, **knobs))
    assert counter.n == forwards
    out.loss.backward()
    assert counter.n == forwards


def test_bn_running_stats_moved_by_clean_forward_only(model, batch) -> None:
    x, y = batch
    ref = copy.deepcopy(model).train()
    ref(x)
    model.train()
    objective_loss(model, x, y, ScaatConfig(steps=2))
    for (name, a), b in zip(model.named_buffers(), ref.buffers(), strict=True):
        assert torch.equal(a, b), name
    before = {k: v.clone() for k, v in model.named_buffers()}
    with frozen_bn_stats(model):
        model(torch.rand_like(x))
    assert all(torch.equal(v, before[k]) for k, v in model.named_buffers())


@pytest.mark.parametrize(
    ("objective", "divergence"),
    [("erm", "kl"), ("sgt", "kl"), ("scaat", "kl"), ("scaat", "js"), ("trades", "kl")],
)
def test_loss_finite_and_decreases(batch, objective, divergence) -> None:
    x, y = batch
    torch.manual_seed(0)
    model = create_model("test_vit", 3, img_size=32)
    cfg = ScaatConfig.for_objective(objective, divergence=divergence, eps=EPS)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(4):
        torch.manual_seed(1)
        out = objective_loss(model, x, y, cfg)
        assert torch.isfinite(out.loss) and out.reg >= 0
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        losses.append(float(out.loss.detach()))
    assert losses[-1] < losses[0]


def test_random_mask_loss_and_eps_warmup(model, batch) -> None:
    out = objective_loss(model, *batch, ScaatConfig(mask="random", random_like="adaptive"))
    assert torch.isfinite(out.loss)
    cfg = ScaatConfig(eps=EPS, eps_warmup_epochs=2)
    assert cfg.at_epoch(0).eps == 0 and cfg.at_epoch(1).eps == pytest.approx(EPS / 2)
    assert cfg.at_epoch(5).step_size == pytest.approx(1.25 * EPS)


def test_perturb_without_mask_uses_full_eps() -> None:
    lin = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2))
    x = torch.rand(2, 3, 8, 8) * 0.5 + 0.25
    x_adv = perturb(lin, x, lin(x), None, eps=EPS, alpha=EPS, steps=2, start="uniform", kind="kl")
    assert torch.allclose((x_adv - x).abs().amax(), torch.tensor(EPS), atol=1e-6)
