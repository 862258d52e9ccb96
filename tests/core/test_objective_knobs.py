"""The frontier's knobs of the one objective: budget-matched controls, signed guidance,
the CE attack, adversarial guidance, and the PGD clip after every signed step."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from pathscaat.models import create_model
from pathscaat.progress import PathscaatError
from pathscaat.training.attack import perturb
from pathscaat.training.config import ScaatConfig
from pathscaat.training.masks import budget_fraction, invert_placement, soft_mask
from pathscaat.training.objectives import adversarial_guidance, guidance_saliency, objective_loss

EPS = 8 / 255


@pytest.fixture(scope="module")
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(4, 3, 32, 32, generator=g), torch.tensor([0, 1, 2, 1])


@pytest.fixture()
def model() -> nn.Module:
    torch.manual_seed(0)
    return create_model("resnet10t", 3).eval()  # eval: the guidance can be recomputed


def _saliency(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    return guidance_saliency(model(x), x, y)


def test_soft_budget_holds_after_every_pgd_step(model, batch) -> None:
    """A large step overshoots; the per-pixel clip must bring every pixel back each step."""
    x, y = batch
    sal = _saliency(model, x, y)
    frac = soft_mask(sal, 2.0).unsqueeze(1)
    for steps in (1, 5):
        x_adv = perturb(
            model, x, model(x), frac, eps=EPS, alpha=3 * EPS, steps=steps, start="uniform",
            kind="kl",
        )  # fmt: skip
        delta = (x_adv - x).abs()
        assert torch.all(delta <= EPS * frac + 1e-6)
        # the budget stays soft: intermediate budgets are used, not only 0 and eps
        inside = (frac > 0.2) & (frac < 0.8)
        assert (delta[inside.expand_as(delta)] > 0.15 * EPS).float().mean() > 0.5


def test_inverted_budget_same_values_reversed_order(model, batch) -> None:
    x, y = batch
    sal = _saliency(model, x, y)
    soft = budget_fraction(sal, "soft", 1.0, 0.5, 0.5, "soft")
    inv = budget_fraction(sal, "soft", 1.0, 0.5, 0.5, "soft", invert=True)
    assert soft is not None and inv is not None
    assert torch.equal(inv.flatten(1).sort(1).values, soft.flatten(1).sort(1).values)
    order = sal.flatten(1).argsort(1)
    along = inv.flatten(1).gather(1, order)  # budget in increasing saliency
    assert torch.all(along[:, 1:] >= along[:, :-1])
    top = sal.flatten(1).argmax(1)
    assert torch.all(inv.flatten(1)[torch.arange(4), top] == soft.amax(dim=(1, 2, 3)))
    hard = invert_placement(
        torch.tensor([[1.0, 1.0, 0.0, 0.0]]), torch.tensor([[0.1, 0.2, 0.8, 0.9]])
    )
    assert hard.tolist() == [[0.0, 0.0, 1.0, 1.0]]


def test_inverted_objective_perturbs_salient_pixels_within_budget(model, batch) -> None:
    x, y = batch
    cfg = ScaatConfig(mask="adaptive", tau=0.3, eps=EPS, steps=3, invert=True)
    torch.manual_seed(1)
    out = objective_loss(model, x, y, cfg)
    frac = budget_fraction(_saliency(model, x, y), "adaptive", 1.0, 0.3, 0.5, "soft", invert=True)
    assert out.x_adv is not None and frac is not None
    delta = out.x_adv - x
    assert torch.all(delta[(frac == 0).expand_as(delta)] == 0)
    assert delta.abs().max() <= EPS + 1e-6
    sal = _saliency(model, x, y)
    top = sal.flatten(1).argmax(1)
    assert torch.all(frac.flatten(1)[torch.arange(4), top] == 1)  # the most salient: attacked
    assert out.budget == pytest.approx(float(frac.mean()), abs=1e-6)


@pytest.mark.parametrize("like", ["soft", "adaptive"])
def test_shuffled_budget_is_the_same_distribution(model, batch, like) -> None:
    x, y = batch
    sal = _saliency(model, x, y)
    base = budget_fraction(sal, like, 2.0, 0.3, 0.5, "soft")
    torch.manual_seed(0)
    shuffled = budget_fraction(sal, "random", 2.0, 0.3, 0.5, like)
    assert base is not None and shuffled is not None
    assert torch.equal(shuffled.flatten(1).sort(1).values, base.flatten(1).sort(1).values)
    assert not torch.equal(shuffled, base)
    cfg = ScaatConfig(mask="random", random_like=like, gamma=2.0, tau=0.3, eps=EPS, steps=2)
    torch.manual_seed(0)
    out = objective_loss(model, x, y, cfg)
    assert out.budget == pytest.approx(float(base.mean()), abs=1e-6)


def test_signed_guidance_bounds_and_direction(model, batch) -> None:
    x, y = batch
    tau = 0.3
    sal = _saliency(model, x, y)
    w = budget_fraction(sal, "signed", 1.0, tau, 0.5, "soft")
    assert w is not None and torch.allclose(w, (tau - sal).unsqueeze(1))
    cfg = ScaatConfig(mask="signed", tau=tau, eps=EPS, steps=3, attack_loss="ce")
    torch.manual_seed(2)
    out = objective_loss(model, x, y, cfg)
    assert out.x_adv is not None
    delta = out.x_adv - x
    assert torch.all(delta.abs() <= EPS * w.abs() + 1e-6)
    # one step from zero: up the CE gradient where w > 0, down it where w < 0
    loss_grad = _ce_grad(model, x, y)
    one = perturb(
        model, x, model(x), w, eps=EPS, alpha=EPS, steps=1, start="uniform", kind="kl",
        y=y, attack_loss="ce",
    )  # fmt: skip
    moved = (one - x) * loss_grad.sign()
    clear = (w.abs() > 0.1).expand_as(moved) & (one > 0.02) & (one < 0.98)
    # (the random start moves the gradient a little: most pixels, not all, agree with x's)
    assert (moved[clear & (w > 0).expand_as(moved)] > 0).float().mean() > 0.9
    assert (moved[clear & (w < 0).expand_as(moved)] < 0).float().mean() > 0.9


def _ce_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    loss = nn.functional.cross_entropy(model(x), y)
    (g,) = torch.autograd.grad(loss, x)
    return g


def test_ce_attack_raises_the_cross_entropy_more_than_kl_start(model, batch) -> None:
    x, y = batch
    ce0 = float(nn.functional.cross_entropy(model(x), y).detach())
    x_adv = perturb(
        model, x, model(x), None, eps=EPS, alpha=EPS / 2, steps=5, start="uniform", kind="kl",
        y=y, attack_loss="ce",
    )  # fmt: skip
    assert float(nn.functional.cross_entropy(model(x_adv), y)) > ce0
    assert (x_adv - x).abs().max() <= EPS + 1e-6
    with pytest.raises(PathscaatError, match="attack_loss"):
        ScaatConfig(attack_loss="hinge")


def test_guidance_from_adversarial_image(model, batch) -> None:
    x, y = batch
    cfg = ScaatConfig(mask="soft", eps=EPS, steps=2, guidance_from="adversarial")
    torch.manual_seed(4)
    out = objective_loss(copy.deepcopy(model), x, y, cfg)
    torch.manual_seed(4)
    sal = adversarial_guidance(model, x, model(x), y, cfg)
    bound = EPS * (1 - sal).unsqueeze(1)
    assert out.x_adv is not None
    assert torch.all((out.x_adv - x).abs() <= bound + 1e-6)
    assert not torch.allclose(sal, _saliency(model, x, y))  # not the clean map
    with pytest.raises(PathscaatError, match="guidance_from"):
        ScaatConfig(guidance_from="noisy")


def test_budget_logged_for_trades_and_soft(model, batch) -> None:
    x, y = batch
    trades = objective_loss(model, x, y, ScaatConfig.for_objective("trades"))
    soft = objective_loss(model, x, y, ScaatConfig(gamma=2.0))
    expected = float(soft_mask(_saliency(model, x, y), 2.0).mean())
    assert trades.budget == 1.0
    assert soft.budget == pytest.approx(expected, abs=1e-6)


def test_cell_guidance_sets_the_budget_per_cell_not_per_lattice_pixel(model, batch) -> None:
    """guidance_cell=4: the soft budget is constant over each 4 x 4 cell and follows the
    cell-averaged saliency; the raw map's period-2 lattice no longer shapes it."""
    x, y = batch
    cfg = ScaatConfig(mask="soft", gamma=4.0, eps=EPS, steps=1, guidance_cell=4)
    torch.manual_seed(2)
    out = objective_loss(model, x, y, cfg)
    assert out.x_adv is not None
    sal = _saliency(model, x, y)
    pooled = torch.nn.functional.avg_pool2d(sal.unsqueeze(1), 4)[:, 0]  # 32 px: 8 x 8 cells
    delta = (out.x_adv - x).abs().amax(dim=1)
    cells = delta.unfold(1, 4, 4).unfold(2, 4, 4).amax(dim=(-1, -2))
    flat_p, flat_d = pooled.flatten(1), cells.flatten(1)
    top, low = flat_p.argmax(1), flat_p.argmin(1)
    rows = torch.arange(len(x))
    # the most salient cell (budget 0 after the rescale) is untouched; the least salient
    # cell (full budget) is pushed
    assert torch.all(flat_d[rows, top] <= 1e-6)
    assert torch.all(flat_d[rows, low] > 0.5 * EPS)
    assert out.budget < 1.0
    with pytest.raises(PathscaatError, match="guidance_cell"):
        ScaatConfig(guidance_cell=0)
