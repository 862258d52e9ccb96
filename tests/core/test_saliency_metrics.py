"""Saliency metrics: hand-computed cases, RISE's definitions and Quantus on the same inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import quantus
import torch
from scipy.stats import spearmanr
from torch import Tensor, nn

from pathscaat.saliency import get_method
from pathscaat.saliency.base import SaliencyMethod
from pathscaat.saliency.metrics import (
    auc,
    blur,
    cascading_randomisation,
    deletion_curve,
    entropy,
    gini,
    insertion_curve,
    masked_accuracy_curve,
    normalised_area,
    perturbation_probs,
    pointing_game,
    random_ranks,
    relevance_mass,
    saliency_ranks,
    spearman,
)


def small_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)
    ).eval()


class PixelSum(nn.Module):
    """logit0 = sum_p w_p x[0, p], logit1 = offset: probabilities are computable by hand."""

    def __init__(self, w: Tensor, offset: float = 0.0) -> None:
        super().__init__()
        self.w = nn.Parameter(w.flatten().clone())
        self.offset = offset

    def forward(self, x: Tensor) -> Tensor:
        z = (x[:, 0].flatten(1) * self.w).sum(dim=1)
        return torch.stack([z, torch.full_like(z, self.offset)], dim=1)


def test_gini_and_entropy_hand_cases() -> None:
    one_hot = torch.tensor([[[0.0, 0.0], [0.0, 1.0]]])
    flat = torch.ones(1, 2, 2)
    half = torch.tensor([[[1.0, 1.0], [0.0, 0.0]]])
    assert gini(one_hot).item() == pytest.approx(0.75, abs=1e-5)  # (2*4-4-1)/4
    assert gini(flat).item() == pytest.approx(0.0, abs=1e-6)
    assert entropy(flat).item() == pytest.approx(math.log(4), abs=1e-6)
    assert entropy(half).item() == pytest.approx(math.log(2), abs=1e-6)
    assert entropy(one_hot).item() == pytest.approx(0.0, abs=1e-6)


def test_gini_and_entropy_match_quantus() -> None:
    rng = np.random.default_rng(0)
    a = rng.exponential(size=(4, 1, 8, 8)).astype(np.float32) ** 3
    x = rng.random((4, 3, 8, 8)).astype(np.float32)
    q_gini = quantus.Sparseness(disable_warnings=True).evaluate_batch(x_batch=x, a_batch=a.copy())
    q_ent = quantus.Complexity(disable_warnings=True).evaluate_batch(x_batch=x, a_batch=a.copy())
    sal = torch.from_numpy(a[:, 0])
    np.testing.assert_allclose(gini(sal).numpy(), q_gini, rtol=1e-5)
    np.testing.assert_allclose(entropy(sal).numpy(), q_ent, rtol=1e-5)


def test_localisation_hand_case_and_quantus() -> None:
    sal = torch.tensor([[[1.0, 3.0], [0.0, 4.0]], [[5.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1, 1]]])
    mask = torch.tensor([[[1, 0], [0, 1]], [[0, 1], [1, 1]], [[0, 0], [0, 0]]])
    rma, hit = relevance_mass(sal, mask), pointing_game(sal, mask)
    assert rma[:2].tolist() == pytest.approx([5 / 8, 3 / 8]) and math.isnan(rma[2])
    assert hit[:2].tolist() == [1.0, 0.0] and math.isnan(hit[2])
    a, s = sal[:2, None].numpy(), mask[:2, None].numpy()
    q_rma = quantus.RelevanceMassAccuracy(disable_warnings=True).evaluate_batch(
        a_batch=a, s_batch=s
    )
    q_hit = quantus.PointingGame(disable_warnings=True).evaluate_batch(a_batch=a, s_batch=s)
    np.testing.assert_allclose(rma[:2].numpy(), q_rma, rtol=1e-6)
    np.testing.assert_allclose(hit[:2].numpy(), np.asarray(q_hit, dtype=float))


def test_ranks_orders_and_random_permutations() -> None:
    sal = torch.tensor([[[0.1, 0.9], [0.5, 0.2]]])
    assert saliency_ranks(sal).tolist() == [[3, 0, 1, 2]]
    flat = torch.zeros(1, 8, 8)
    flat[0, 7, 7] = 1.0
    ranks = saliency_ranks(flat)
    assert ranks[0, -1] == 0  # the one salient pixel first
    assert ranks[0, :8].float().mean() > 8  # ties not in raster order
    assert torch.equal(saliency_ranks(flat, seed=None)[0, :3], torch.tensor([1, 2, 3]))
    r = random_ranks(3, 10, seed=1)
    assert (r.sort(dim=1).values == torch.arange(10)).all()
    assert torch.equal(r, random_ranks(3, 10, seed=1))


def test_deletion_curve_hand_computed() -> None:
    w = torch.tensor([[3.0, -1.0], [2.0, 0.5]])
    model = PixelSum(w)
    x = torch.ones(1, 3, 2, 2)
    ranks = saliency_ranks(w.abs()[None])  # order: 3, 2, -1, 0.5
    fractions = (0.0, 0.25, 0.5, 0.75, 1.0)
    probs = perturbation_probs(model, x, torch.zeros_like(x), ranks, fractions)
    logits = torch.tensor([4.5, 1.5, -0.5, 0.5, 0.0])  # sum of the weights still present
    torch.testing.assert_close(probs[:, 0, 0], torch.sigmoid(logits))
    expected_auc = torch.trapezoid(torch.sigmoid(logits), dx=0.25)
    torch.testing.assert_close(auc(probs[:, :, 0], fractions), expected_auc.view(1))


def rise_deletion(model: nn.Module, img: Tensor, sal: np.ndarray, step: int, finish: Tensor):
    """RISE's CausalMetric('del') single-image loop (Petsiuk et al. 2018), ported as is."""
    _, _, h, w = img.shape
    hw = h * w
    n_steps = (hw + step - 1) // step
    c = int(model(img).argmax())
    start = img.clone()
    scores = np.empty(n_steps + 1)
    salient_order = np.flip(np.argsort(sal.reshape(-1, hw), axis=1), axis=-1)
    for i in range(n_steps + 1):
        scores[i] = torch.softmax(model(start), 1)[0, c].item()
        if i < n_steps:
            coords = salient_order[:, step * i : step * (i + 1)]
            start.cpu().numpy().reshape(1, 3, hw)[0, :, coords] = (
                finish.cpu().numpy().reshape(1, 3, hw)[0, :, coords]
            )
    area = (scores.sum() - scores[0] / 2 - scores[-1] / 2) / (scores.shape[0] - 1)
    return scores, area


def test_deletion_and_insertion_match_rise_definition() -> None:
    model = small_cnn()
    torch.manual_seed(2)
    x = torch.rand(2, 3, 6, 6)
    sal = torch.rand(2, 6, 6)
    step = 4
    fractions = tuple(min(1.0, i * step / 36) for i in range(10))
    with torch.no_grad():
        pred = model(x).argmax(1)
        del_curve = deletion_curve(model, x, saliency_ranks(sal), pred, "blur", fractions)
        ins_curve = insertion_curve(model, x, saliency_ranks(sal), pred, fractions)
        for b in range(2):
            scores, area = rise_deletion(
                model, x[b : b + 1], sal[b].numpy(), step, blur(x)[b : b + 1]
            )
            np.testing.assert_allclose(del_curve[:, b].numpy(), scores, rtol=1e-5, atol=1e-6)
            assert auc(del_curve, fractions)[b].item() == pytest.approx(area, rel=1e-5)
            ins_scores, _ = rise_deletion(
                model, blur(x)[b : b + 1], sal[b].numpy(), step, x[b : b + 1]
            )
            np.testing.assert_allclose(ins_curve[:, b].numpy(), ins_scores, rtol=1e-5, atol=1e-6)


def test_deletion_matches_quantus_pixel_flipping() -> None:
    model = small_cnn()
    rng = np.random.default_rng(3)
    x = rng.random((3, 3, 6, 6)).astype(np.float32)
    a = rng.random((3, 1, 6, 6)).astype(np.float32)
    y = np.array([0, 1, 2])
    q = quantus.PixelFlipping(
        features_in_step=3 * 4,
        perturb_baseline=0.5,  # type: ignore[arg-type]  # a constant fill; Quantus accepts it
        normalise=False,
        disable_warnings=True,
    )(model=model, x_batch=x, y_batch=y, a_batch=a, channel_first=True, softmax=True, device="cpu")
    xt = torch.from_numpy(x)
    fractions = tuple(4 * k / 36 for k in range(1, 10))
    probs = perturbation_probs(
        model, xt, torch.full_like(xt, 0.5), saliency_ranks(torch.from_numpy(a[:, 0])), fractions
    )
    ours = probs.gather(2, torch.from_numpy(y).view(1, -1, 1).expand(9, -1, 1)).squeeze(2).T
    np.testing.assert_allclose(ours.numpy(), np.asarray(q), rtol=1e-4, atol=1e-6)


def test_masked_accuracy_drops_when_the_evidence_is_removed() -> None:
    w = torch.zeros(4, 4)
    w[0, 0] = 1.0  # one bright pixel decides class 0 (logit 1 against 0.5)
    model = PixelSum(w, offset=0.5)
    x = torch.zeros(2, 3, 4, 4)
    x[:, :, 0, 0] = 1.0  # its mean-colour fill is 1/16: class 1 once the pixel is gone
    labels = torch.tensor([0, 0])
    good = saliency_ranks(w[None].expand(2, -1, -1))
    bad = saliency_ranks(-w[None].expand(2, -1, -1))
    fractions = (0.0, 0.1, 0.5)
    acc_good = masked_accuracy_curve(model, x, good, labels, fill="mean", fractions=fractions)
    acc_bad = masked_accuracy_curve(model, x, bad, labels, fill="mean", fractions=fractions)
    assert acc_good.tolist() == [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]]
    assert acc_bad.tolist() == [[1.0, 1.0]] * 3
    assert normalised_area(acc_good, fractions).tolist() == pytest.approx([0.1, 0.1])
    assert normalised_area(acc_bad, fractions).tolist() == pytest.approx([1.0, 1.0])


class InputItself(SaliencyMethod):
    """A map that ignores the model: an 'edge detector' the sanity check must expose."""

    name = "input_itself"

    def _raw(self, model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        return x.detach()


def test_spearman_matches_scipy_with_ties() -> None:
    a = torch.tensor([[[1.0, 2.0], [2.0, 5.0]], [[0.0, 0.0], [1.0, 3.0]]])
    b = torch.tensor([[[4.0, 1.0], [2.0, 2.0]], [[1.0, 2.0], [3.0, 4.0]]])
    expected = [spearmanr(a[i].flatten(), b[i].flatten()).statistic for i in range(2)]
    np.testing.assert_allclose(spearman(a, b).numpy(), expected, rtol=1e-6)
    assert math.isnan(spearman(torch.ones(1, 2, 2), b[:1]).item())


def test_cascading_randomisation_top_first_and_exposes_model_independent_maps() -> None:
    model = small_cnn()
    before = [p.clone() for p in model.parameters()]
    x = torch.rand(4, 3, 6, 6)
    target = torch.tensor([0, 1, 2, 0])
    res = cascading_randomisation(model, get_method("vanilla"), x, target, n_checkpoints=2)
    assert res.layers == ["3", "0"] and res.n_randomised == [1, 2]
    assert res.final.mean() < 0.9
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters(), strict=True))
    blind = cascading_randomisation(model, InputItself(), x, target, n_checkpoints=2)
    torch.testing.assert_close(blind.final, torch.ones(4))
