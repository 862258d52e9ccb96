"""PNG plots of an evaluation (matplotlib's object API: no pyplot state, no display, no Qt)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor

from pathscaat.saliency.metrics import ACCURACY_FRACTIONS, DELETION_FRACTIONS

CURVE_TITLES = {
    "deletion_blur": "Deletion, blurred fill (lower is better)",
    "deletion_mean": "Deletion, mean-colour fill (lower is better)",
    "insertion": "Insertion from the blurred image (higher is better)",
    "masked_accuracy": "Accuracy after removing the top p% salient pixels",
}


def plot_curves(metrics: dict[str, Any], out_dir: Path) -> list[Path]:
    """One figure per curve kind, one panel per method; dashed = the model's random order."""
    paths = []
    methods = list(metrics["settings"]["methods"])
    for kind, title in CURVE_TITLES.items():
        xs = ACCURACY_FRACTIONS if kind == "masked_accuracy" else DELETION_FRACTIONS
        fig = Figure(figsize=(max(6.0, 4.2 * len(methods)), 3.9))
        axes = fig.subplots(1, len(methods), squeeze=False)
        for ax, method in zip(axes[0], methods, strict=True):
            for i, entry in enumerate(metrics["models"]):
                colour = f"C{i % 10}"
                if method in entry["methods"]:
                    ys = entry["methods"][method]["curves"][kind]
                    ax.plot(xs, ys, color=colour, label=entry["name"])
                ax.plot(xs, entry["random"]["curves"][kind], color=colour, ls="--", lw=0.8)
            ax.set_title(method, fontsize=9)
            ax.set_xlabel("fraction of pixels")
            ax.set_ylim(-0.02, 1.02)
        axes[0][0].set_ylabel("accuracy" if kind == "masked_accuracy" else "p(predicted class)")
        axes[0][-1].legend(fontsize=7, loc="best")
        fig.suptitle(title + "\ndashed: the same model with a random pixel order", fontsize=9)
        fig.tight_layout()
        paths.append(_save(fig, out_dir / f"{kind}.png"))
    return paths


def _display(sal: Tensor) -> np.ndarray:
    """Scale each map to its own 99th percentile, so one hot pixel does not blank the rest."""
    arr = sal.detach().float().cpu().numpy()
    top = np.percentile(arr.reshape(len(arr), -1), 99, axis=1).reshape(-1, 1, 1)
    return np.clip(arr / np.maximum(top, 1e-12), 0, 1)


def plot_saliency_grid(
    name: str,
    images: Tensor,
    maps: dict[str, Tensor],
    masks: Tensor | None,
    titles: Sequence[str],
    path: Path,
) -> Path:
    """Rows: the images (evidence mask outlined), then one row of maps per method."""
    k = len(images)
    rows = 1 + len(maps)
    fig = Figure(figsize=(1.9 * k, 1.9 * rows))
    axes = fig.subplots(rows, k, squeeze=False)
    for j in range(k):
        axes[0][j].imshow(images[j].permute(1, 2, 0).cpu().numpy().clip(0, 1))
        if masks is not None and masks[j].any():
            axes[0][j].contour(masks[j].cpu().numpy(), levels=[0.5], colors="lime", linewidths=0.8)
        axes[0][j].set_title(titles[j], fontsize=7)
    for i, (method, sal) in enumerate(maps.items(), start=1):
        shown = _display(sal)
        for j in range(k):
            axes[i][j].imshow(shown[j], cmap="magma", vmin=0, vmax=1)
        axes[i][0].set_ylabel(method, fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{name}: saliency of the predicted class", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110)
    return path


def plot_frontier(
    rows: Sequence[dict[str, Any]], axes: Sequence[tuple[str, str]], title: str, path: Path
) -> Path:
    """Test accuracy against each x metric: one curve per arm over eps, bars = seed sd.

    Rows are aggregated frontier rows of one dataset (``arm``, ``eps_255``, ``key`` and
    ``key_sd``); an arm without eps (ERM, SGT) is one point; eps labels the markers.
    """
    arms = sorted({r["arm"] for r in rows})
    cols = min(len(axes), 2 if len(axes) == 4 else 3)  # 4 panels read best as 2 x 2
    grid_rows = -(-len(axes) // cols)
    fig = Figure(figsize=(4.6 * cols, 4.0 * grid_rows))
    grid = fig.subplots(grid_rows, cols, squeeze=False)
    panels = list(grid.flat)
    for ax in panels[len(axes) :]:
        ax.set_visible(False)
    for ax, (key, label) in zip(panels, axes, strict=False):
        for i, arm in enumerate(arms):
            mine = sorted((r for r in rows if r["arm"] == arm), key=lambda r: r["eps_255"])
            xs = [r[key] for r in mine]
            ys = [r["accuracy"] for r in mine]
            xerr = np.nan_to_num([r[key + "_sd"] for r in mine])
            yerr = np.nan_to_num([r["accuracy_sd"] for r in mine])
            ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, color=f"C{i % 10}", marker="o", ms=4,
                        lw=1.2, capsize=2, label=arm)  # fmt: skip
            for r, x, y in zip(mine, xs, ys, strict=True):
                if r["eps_255"] > 0:
                    ax.annotate(f"{r['eps_255']:g}", (x, y), fontsize=6, xytext=(3, 3),
                                textcoords="offset points")  # fmt: skip
        ax.set_xlabel(label, fontsize=8)
        ax.set_ylabel("test accuracy")
    panels[min(cols, len(axes)) - 1].legend(fontsize=7, loc="best")
    fig.suptitle(title + "\nnumbers: eps ×255; bars: sd over seeds", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)
