"""The report's tables: narrow enough for an A4 page, numbers a reader takes in at a glance.

One table of the annotations' geometry (number, class, name, area, perimeter), then per
overlay set that measured them (:mod:`pathscaat.annotations.measure`) one table of its
summary (the most probable class, mean saliency, share of the slide's saliency) and its
class probabilities (mean, and max in brackets) a few classes per table, then any other
measurement, a few per table. Every table has at most :data:`MAX_COLUMNS` columns, so it
fits the printed page whatever the number of classes. Areas read ``44,072 µm²`` (or
``1.23 mm²`` from 1 mm²), lengths ``1,161 µm``, probabilities ``0.83``, shares
``17.7 %``; no id is shown (the CSV keeps it).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pathscaat.annotations.export.table import AREA_MEASUREMENTS, table_rows
from pathscaat.annotations.measurement_names import (
    MAX_PROB,
    MEAN_PROB,
    SALIENCY_MEAN,
    SALIENCY_SHARE,
    split_name,
)
from pathscaat.annotations.model import Annotation

MAX_COLUMNS = 10
"""Columns per table, the row number included: about 70 px each on an A4 page."""
UNCLASSIFIED_COLOUR = (255, 200, 0)


def area_text(um2: float) -> str:
    if math.isnan(um2):
        return "–"
    return f"{um2 / 1e6:,.2f} mm²" if um2 >= 1e6 else f"{um2:,.0f} µm²"


def length_text(um: float) -> str:
    if math.isnan(um):
        return "–"
    return f"{um / 1e3:,.2f} mm" if um >= 1e4 else f"{um:,.0f} µm"


def number_text(value: Any) -> str:
    """A measurement: 3 significant digits below 1000, whole with separators above."""
    if not isinstance(value, float | int) or isinstance(value, bool):
        return html.escape(str(value))
    v = float(value)
    if math.isnan(v):
        return "–"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _prob(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.2f}"


@dataclass
class RunMeasures:
    """The measurements one overlay set gave (``label`` "" when there is one set)."""

    label: str
    classes: list[str] = field(default_factory=list)
    saliency: bool = False

    def key(self, name: str) -> str:
        return f"{self.label}: {name}" if self.label else name


def runs_of(annotations: Sequence[Annotation]) -> list[RunMeasures]:
    """The overlay sets whose measurements the annotations carry, in first-seen order."""
    runs: dict[str, RunMeasures] = {}
    for ann in annotations:
        for key in ann.measurements:
            split = split_name(key)
            if split is None:
                continue
            run = runs.setdefault(split[0], RunMeasures(split[0]))
            name = split[1]
            if name.startswith(MEAN_PROB) and name[len(MEAN_PROB) :] not in run.classes:
                run.classes.append(name[len(MEAN_PROB) :])
            run.saliency |= name in (SALIENCY_MEAN, SALIENCY_SHARE)
    return list(runs.values())


def other_measurements(annotations: Sequence[Annotation]) -> list[str]:
    """Measurement names that are neither an overlay's nor the area."""
    names: dict[str, None] = {}
    for ann in annotations:
        for key in ann.measurements:
            if split_name(key) is None and key.lower() not in AREA_MEASUREMENTS:
                names.setdefault(key, None)
    return list(names)


def _html_table(
    head: Sequence[str], rows: Sequence[Sequence[str]], left: int = 0, ids: bool = False
) -> str:
    """A table; the first ``left`` columns after the number are text (left-aligned);
    ``ids`` gives each row the anchor ``row-<number>``."""
    cls = ['class="n"'] + ['class="t"'] * left + [""] * (len(head) - 1 - left)
    th = "".join(f"<th {c}>{h}</th>" for c, h in zip(cls, head, strict=True))
    body = "".join(
        (f'<tr id="row-{r[0]}">' if ids else "<tr>")
        + "".join(f"<td {c}>{v}</td>" for c, v in zip(cls, r, strict=True)) + "</tr>"
        for r in rows
    )  # fmt: skip
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def geometry_table(annotations: Sequence[Annotation], mpp: float | None) -> str:
    """Number, class (with its colour), name, kind, area and perimeter of each annotation."""
    _, rows = table_rows(annotations, mpp)
    out = []
    for ann, row in zip(annotations, rows, strict=True):
        colour = ann.path_class.colour if ann.path_class else UNCLASSIFIED_COLOUR
        r, g, b = colour
        swatch = f'<span class="sw" style="background:#{r:02x}{g:02x}{b:02x}"></span> '
        name = html.escape(ann.class_name or "unclassified")
        out.append([str(row["number"]), swatch + name, html.escape(ann.name or ""),
                    html.escape(ann.object_type.value), area_text(row["area_um2"]),
                    length_text(row["perimeter_um"])])  # fmt: skip
    head = ["#", "Class", "Name", "Kind", "Area", "Perimeter"]
    return _html_table(head, out, left=3, ids=True)


def run_tables(annotations: Sequence[Annotation], run: RunMeasures) -> list[str]:
    """The summary table of one overlay set and its class-probability tables."""
    m = [a.measurements for a in annotations]
    numbers = [str(i) for i in range(1, len(annotations) + 1)]
    tables = []
    summary = []
    for n, meas in zip(numbers, m, strict=True):
        means = {c: meas.get(run.key(MEAN_PROB + c), math.nan) for c in run.classes}
        known = {c: v for c, v in means.items() if not math.isnan(v)}
        top = max(known, key=lambda c: known[c]) if known else None
        share = meas.get(run.key(SALIENCY_SHARE), math.nan)
        summary.append([n, html.escape(top or "–"), _prob(known.get(top) if top else None),
                        _prob(meas.get(run.key(SALIENCY_MEAN), math.nan)),
                        "–" if math.isnan(share) else f"{share * 100:.1f} %"])  # fmt: skip
    head = ["#", "Most probable class", "Its mean prob.", "Mean saliency", "Saliency share"]
    tables.append(_html_table(head, summary, left=1))
    for chunk in _chunks(run.classes):
        rows = [[n] + [f"{_prob(meas.get(run.key(MEAN_PROB + c)))} "
                       f"<small>({_prob(meas.get(run.key(MAX_PROB + c)))})</small>"
                       for c in chunk] for n, meas in zip(numbers, m, strict=True)]  # fmt: skip
        tables.append(_html_table(["#", *(html.escape(c) for c in chunk)], rows))
    return tables


def _chunks(names: list[str]) -> list[list[str]]:
    """``names`` in even groups of at most ``MAX_COLUMNS - 1`` (11 -> 6 + 5, not 9 + 2)."""
    n_tables = -(-len(names) // (MAX_COLUMNS - 1))
    size = -(-len(names) // max(1, n_tables))
    return [names[i : i + size] for i in range(0, len(names), size)] if names else []


def other_tables(annotations: Sequence[Annotation]) -> list[str]:
    """Measurements that came with the annotations (a QuPath export's, say)."""
    tables = []
    for chunk in _chunks(other_measurements(annotations)):
        rows = [[str(i)] + [number_text(a.measurements.get(k, math.nan)) for k in chunk]
                for i, a in enumerate(annotations, start=1)]  # fmt: skip
        tables.append(_html_table(["#", *(html.escape(k) for k in chunk)], rows))
    return tables


def measurement_sections(annotations: Sequence[Annotation], mpp: float | None) -> str:
    """Every table of the report, with their headings."""
    parts = ["<h2>Annotations</h2>", geometry_table(annotations, mpp)]
    for run in runs_of(annotations):
        title = f"Model: {html.escape(run.label)}" if run.label else "Model measurements"
        parts.append(
            f'<h2>{title}</h2><p class="meta">Over the pixels inside each '
            "annotation. Class columns: mean probability (max in brackets). "
            "Saliency share: the part of the slide's saliency inside.</p>"
        )
        parts += run_tables(annotations, run)
    others = other_tables(annotations)
    if others:
        parts += ["<h2>Other measurements</h2>", *others]
    return "\n".join(parts)
