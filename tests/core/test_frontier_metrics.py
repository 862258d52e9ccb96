"""Metrics Gini cannot game: alignment, top-k occlusion, stability (vs Quantus), checkerboard."""

from __future__ import annotations

import numpy as np
import pytest
import quantus
import torch
from torch import Tensor, nn

from pathscaat.evaluation.model_eval import TOPK_INDEX, faithfulness_curves
from pathscaat.saliency import get_method
from pathscaat.saliency.metrics import (
    TOPK_FRACTIONS,
    checkerboard_share,
    input_gradient_alignment,
    masked_accuracy_curve,
    noise_draws,
    saliency_ranks,
    saliency_stability,
    stride_aggregate,
)


def small_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 3)
    ).eval()


class Linear(nn.Module):
    def __init__(self, w: Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w.clone())

    def forward(self, x: Tensor) -> Tensor:
        z = (x * self.w).flatten(1).sum(1)
        return torch.stack([z, -z], dim=1)


def test_alignment_is_the_cosine_of_input_and_gradient() -> None:
    g = torch.Generator().manual_seed(0)
    w = torch.randn(1, 3, 5, 5, generator=g)
    x = torch.rand(3, 3, 5, 5, generator=g)
    x[2] = w[0].abs()  # an input that is its own |gradient| direction in part
    got = input_gradient_alignment(Linear(w), x, torch.tensor([0, 1, 0]))
    xs, ws = x.flatten(1).numpy(), w.flatten().numpy()
    want = np.abs(xs @ ws) / (np.linalg.norm(xs, axis=1) * np.linalg.norm(ws))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)
    aligned = input_gradient_alignment(Linear(w), w.clone(), torch.tensor([0]))
    assert aligned.item() == pytest.approx(1.0, abs=1e-6)


def test_topk_occlusion_is_masked_accuracy_at_1_2_5_percent() -> None:
    model = small_cnn()
    g = torch.Generator().manual_seed(1)
    x = torch.rand(6, 3, 8, 8, generator=g)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    pred = model(x).argmax(1)
    sal = get_method("vanilla").attribute(model, x, pred)
    ranks = saliency_ranks(sal)
    curves = faithfulness_curves(model, x, ranks, pred, labels, batch_size=16)
    direct = masked_accuracy_curve(model, x, ranks, labels, "mean", TOPK_FRACTIONS)
    assert torch.equal(curves["topk_occlusion"], direct)
    assert len(TOPK_INDEX) == 3 and curves["topk_occlusion"].shape == (3, 6)


def test_stability_matches_quantus_max_sensitivity() -> None:
    model = small_cnn(2)
    method = get_method("vanilla")
    g = torch.Generator().manual_seed(3)
    x = torch.rand(4, 3, 8, 8, generator=g)
    y = model(x).argmax(1)
    sal = method.attribute(model, x, y)
    noises = noise_draws(x, 0.05, 3, seed=0)
    ours = saliency_stability(method, model, x, y, sal, noises)
    draws = iter(n.numpy().reshape(4, -1) for n in noises)

    def perturb(arr: np.ndarray, indices: np.ndarray, **_: object) -> np.ndarray:
        return arr + next(draws)

    def explain(
        model: nn.Module, inputs: np.ndarray, targets: np.ndarray, **_: object
    ) -> np.ndarray:
        t = torch.as_tensor(inputs, dtype=torch.float32)
        return method.attribute(model, t, torch.as_tensor(targets)).unsqueeze(1).numpy()

    metric = quantus.MaxSensitivity(nr_samples=3, perturb_func=perturb, disable_warnings=True)
    q = metric(
        model=model, x_batch=x.numpy(), y_batch=y.numpy(), a_batch=sal.unsqueeze(1).numpy(),
        explain_func=explain, device="cpu",
    )  # fmt: skip
    np.testing.assert_allclose(ours.max_sensitivity.numpy(), np.asarray(q), rtol=1e-4)
    assert torch.all(ours.rank_corr <= 1) and torch.all(ours.rank_corr > 0)
    same = saliency_stability(method, model, x, y, sal, [torch.zeros_like(x)])
    assert torch.allclose(same.rank_corr, torch.ones(4)) and torch.all(same.max_sensitivity == 0)


def test_checkerboard_share_and_the_cell_remedy() -> None:
    n = 32
    yy, xx = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    grid = ((yy % 4 == 0) & (xx % 4 == 0)).float()  # the stride-4 grid a strided stem stamps
    blob = torch.exp(-((yy - 12.0) ** 2 + (xx - 20.0) ** 2) / 40.0)
    noise = torch.rand(64, n, n, generator=torch.Generator().manual_seed(0))
    assert checkerboard_share(grid[None]).item() == pytest.approx(1.0, abs=1e-6)
    assert checkerboard_share(blob[None]).item() < 0.01
    white = checkerboard_share(noise).mean().item()
    assert white == pytest.approx(15 / (n * n - 1), rel=0.3)  # 15 lattice bins of n*n - 1
    mixed = blob + 0.5 * grid
    assert checkerboard_share(mixed[None]).item() > 0.2
    cell = stride_aggregate(mixed[None])
    assert cell.shape == (1, n, n)
    assert checkerboard_share(cell).item() < 1e-6  # the grid is gone
    # the layout at the cell's scale is kept: the blob's peak cell is the peak of the map
    assert cell[0, 12, 20] == cell.max()
    assert torch.allclose(cell.mean(), mixed.mean())
    assert torch.equal(stride_aggregate(mixed[None], 1), mixed[None])


def test_inference_cell_remedy_is_the_aggregate_of_the_raw_map() -> None:
    from pathscaat.inference.scoring import TileScorer
    from pathscaat.models import create_model

    torch.manual_seed(0)
    model = create_model("test_resnet", 3)
    tiles = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), np.uint8)
    cpu = torch.device("cpu")
    raw = TileScorer(model, saliency="vanilla", device=cpu, sal_px=32)(tiles)[1]
    cell = TileScorer(model, saliency="vanilla", device=cpu, sal_px=32, sal_cell_px=4)(tiles)[1]
    assert raw is not None and cell is not None
    want = stride_aggregate(torch.from_numpy(raw), 4).numpy()
    np.testing.assert_allclose(cell, want, rtol=1e-5, atol=1e-9)
    assert checkerboard_share(torch.from_numpy(cell)).max() < 1e-6


def test_arm_names_and_seed_spread_of_the_frontier(tmp_path) -> None:
    from pathscaat.evaluation.frontier import aggregate, arm_label, write_frontier

    assert arm_label("erm", {"lam": 0.0}) == "erm"
    assert arm_label("trades", {"mask": "none"}) == "trades"
    assert arm_label("scaat", {"mask": "soft", "gamma": 4.0}) == "scaat-soft-g4"
    shuffled = {"mask": "random", "random_like": "soft", "gamma": 4.0}
    assert arm_label("scaat", shuffled) == "scaat-shuffled-soft-g4"
    assert arm_label("scaat", {"mask": "soft", "gamma": 1.0, "invert": True}).startswith(
        "scaat-inv"
    )
    points = [
        {"dataset": "d", "arm": "a", "eps_255": 4.0, "seed": s, "accuracy": acc, "gini": g}
        for s, acc, g in ((0, 0.8, 0.5), (1, 0.9, 0.7))
    ]
    (row,) = aggregate(points)
    assert row["n"] == 2 and row["accuracy"] == pytest.approx(0.85)
    assert row["accuracy_sd"] == pytest.approx(np.std([0.8, 0.9], ddof=1))
    assert np.isnan(row["relevance_mass"])  # a metric no point has stays missing
    paths = write_frontier(points, tmp_path)
    assert "| d | a | 4 | 0,1 | 0.850 ± 0.071 |" in (tmp_path / "frontier.md").read_text()
    assert (tmp_path / "frontier_d.png") in paths
