"""The measurements of one selected annotation, as a short list under the table.

The table has a column per measurement (eighteen for an eight-class model), too many to
read in a side panel; this lists what the model says of the selected annotation: the
saliency share and mean, then the classes by their mean probability, highest first.
"""

from __future__ import annotations

import html
import math

from pathscaat.annotations.measurement_names import (
    MAX_PROB,
    MEAN_PROB,
    SALIENCY_MEAN,
    SALIENCY_SHARE,
    split_name,
)

MAX_CLASSES_SHOWN = 8


def _run_lines(label: str, values: dict[str, float]) -> list[str]:
    share = values.get(SALIENCY_SHARE, math.nan)
    mean = values.get(SALIENCY_MEAN, math.nan)
    head = f"<b>{html.escape(label)}</b><br>" if label else ""
    lines = []
    if not (math.isnan(share) and math.isnan(mean)):
        lines.append(f"{head}Saliency: {share * 100:.1f} % of the slide's, mean {mean:.2f}")
        head = ""
    probs = {k[len(MEAN_PROB) :]: v for k, v in values.items() if k.startswith(MEAN_PROB)}
    ranked = sorted(((v, c) for c, v in probs.items() if not math.isnan(v)), reverse=True)
    if probs and not ranked:
        lines.append(f"{head}No tile of the model inside")
    for mean_p, cls in ranked[:MAX_CLASSES_SHOWN]:
        top = values.get(MAX_PROB + cls, math.nan)
        lines.append(f"{head}{html.escape(cls)}: mean {mean_p:.2f}, max {top:.2f}")
        head = ""
    return lines


def details_html(measurements: dict[str, float], pending: bool) -> str:
    """Rich text for the selected annotation ("" when there is nothing to say)."""
    runs: dict[str, dict[str, float]] = {}
    for name, value in measurements.items():
        split = split_name(name)
        if split is not None:
            runs.setdefault(split[0], {})[split[1]] = value
    if not runs:
        return "Measuring…" if pending else ""
    lines = [line for label, values in runs.items() for line in _run_lines(label, values)]
    return "<br>".join(lines)
