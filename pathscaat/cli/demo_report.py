"""What ``pathscaat demo`` prints: the ERM vs SCAAT comparison, its reading, where things are."""

from __future__ import annotations

import math
import shlex
from pathlib import Path
from typing import Any

# (key in a table row, label); accuracy is model-level, the rest vanilla-gradient means
KEY_ROWS: tuple[tuple[str, str], ...] = (
    ("accuracy", "accuracy"),
    ("gini", "Gini of the saliency (sparser ↑)"),
    ("relevance_mass", "saliency mass on the evidence ↑"),
)


def key_rows(metrics: dict[str, Any], method: str = "vanilla") -> dict[str, dict[str, float]]:
    """``{objective: {key: mean}}`` for the demo's two models and one saliency method."""
    from pathscaat.evaluation import table_rows

    out: dict[str, dict[str, float]] = {}
    for row in table_rows(metrics):
        if row["method"] == method:
            out[str(row["objective"])] = {k: float(row[k]) for k, _ in KEY_ROWS}
    return out


def mask_area(metrics: dict[str, Any]) -> float | None:
    """Mean evidence-mask area of the evaluated images: the relevance mass of a flat map."""
    areas = [e["images"].get("mask_area") for e in metrics["models"]]
    areas = [a for a in areas if a is not None]
    return float(areas[0]) if areas else None


def comparison_table(rows: dict[str, dict[str, float]], area: float | None) -> str:
    lines = [f"{'':36}{'ERM':>8}{'SCAAT':>8}"]
    for key, label in KEY_ROWS:
        erm, scaat = rows["erm"][key], rows["scaat"][key]
        line = f"{label:36}{erm:8.3f}{scaat:8.3f}"
        if key == "relevance_mass" and area is not None:
            line += f"   (a flat map: {area:.3f})"
        lines.append(line)
    return "\n".join(lines)


def _change(delta: float, up: str, down: str, same: str, tol: float = 0.01) -> str:
    if math.isnan(delta) or abs(delta) < tol:
        return same
    return f"{up if delta > 0 else down} ({delta:+.3f})"


def reading(rows: dict[str, dict[str, float]], n_images: int) -> str:
    """One honest sentence on what this run shows, and how little one run proves."""
    erm, scaat = rows["erm"], rows["scaat"]
    sparse = _change(scaat["gini"] - erm["gini"], "sparser", "less sparse", "as sparse")
    mass = _change(
        scaat["relevance_mass"] - erm["relevance_mass"], "more", "less", "about the same"
    )
    return (
        f"Reading: against ERM, SCAAT's saliency is {sparse} with {mass} of its mass on "
        f"the planted structure, at {accuracy_text(erm['accuracy'], scaat['accuracy'])}. "
        f"One seed, {n_images} held-out synthetic patches per model: an illustration, "
        "not evidence."
    )


def accuracy_text(erm_acc: float, scaat_acc: float) -> str:
    """The accuracy part of the reading, by the report's own rule (``below_best``)."""
    from pathscaat.evaluation.claims import below_best

    acc = scaat_acc - erm_acc
    below = below_best({"ERM": erm_acc, "SCAAT": scaat_acc})
    if "SCAAT" in below:
        return (
            f"accuracy {-acc:.3f} lower: SCAAT is more than 1 point below ERM, so no "
            "saliency claim about it counts (as evaluation/report.md says)"
        )
    if "ERM" in below:
        return (
            f"accuracy {acc:.3f} higher: ERM is more than 1 point below SCAAT, so no "
            "saliency claim about ERM counts and the two maps are not compared at equal "
            "accuracy (as evaluation/report.md says)"
        )
    return f"accuracy within 1 point ({acc:+.3f})"


def gui_command(slide: Path, overlays: Path) -> str:
    return shlex.join(["pathscaat-gui", str(slide), "--overlays", str(overlays)])


def where_text(state: Any) -> str:
    """Where everything is, one line per output."""
    tiling, ev = state.tiling, state.evaluation
    items = [
        ("slide", state.slide),
        ("planted regions", state.regions),
        ("tissue mask", tiling.tissue_png),
        ("tile grid picture", tiling.grid_png),
        ("labelled slide patches", tiling.manifest),
        ("patch set + masks", state.patches),
        ("ERM model", state.checkpoint("erm").with_suffix(".safetensors")),
        ("SCAAT model", state.checkpoint("scaat").with_suffix(".safetensors")),
        ("evaluation report", ev.report),
        ("evaluation metrics", ev.metrics_json),
        ("slide overlays", state.overlays.root / "overlays.json"),
    ]
    return "\n".join(f"{name + ':':24}{path}" for name, path in items)
