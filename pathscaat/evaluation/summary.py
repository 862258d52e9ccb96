"""The evaluation in a few plain sentences, before the full table of ``report.md``.

What a user asks first: how often is the model right on patches it never saw, for each
class; and are its saliency maps sparser (pointing at fewer pixels) and more faithful than
the baseline's. Read from the metrics dictionary (``metrics.json``) the evaluation wrote.
"""

from __future__ import annotations

import math
from typing import Any


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _first_summary(entry: dict[str, Any]) -> dict[str, Any]:
    methods = entry.get("methods") or {}
    first: Any = next(iter(methods.values()), {}) if isinstance(methods, dict) else {}
    summary = first.get("summary", {}) if isinstance(first, dict) else {}
    return summary if isinstance(summary, dict) else {}


def _mean(summary: dict[str, Any], key: str) -> float | None:
    value = summary.get(key)
    return _num(value.get("mean")) if isinstance(value, dict) else _num(value)


def plain_summary(metrics: dict[str, Any]) -> list[str]:
    """Sentences about the first model, compared with the second (the baseline) if any."""
    models = metrics.get("models") or []
    if not models:
        return ["The evaluation holds no model."]
    model, base = models[0], (models[1] if len(models) > 1 else None)
    lines = []
    n = (model.get("images") or {}).get("n")
    acc, bal = _num(model.get("accuracy")), _num(model.get("balanced_accuracy"))
    if acc is not None:
        where = f"{n} held-out test patches" if n else "the held-out test patches"
        line = f"On {where} the model is right {_pct(acc)} of the time"
        line += f" ({_pct(bal)} averaged over the classes)." if bal is not None else "."
        base_acc = _num(base.get("accuracy")) if base else None
        if base is not None and base_acc is not None:
            diff = round((acc - base_acc) * 100)
            than = f"{abs(diff)} points {'less' if diff > 0 else 'more'}" if diff else "the same"
            name = base.get("objective", "ERM")
            line += f" The baseline ({name}) is right {_pct(base_acc)}: {than}."
        lines.append(line)
    per_class = model.get("per_class_accuracy")
    if isinstance(per_class, dict) and per_class:
        shown = ", ".join(f"{name} {_pct(v)}" for name, v in sorted(per_class.items())
                          if _num(v) is not None)  # fmt: skip
        worst = min(per_class, key=lambda k: _num(per_class[k]) or 0.0)
        lines.append(f"Recognised per class: {shown}. Weakest: {worst}.")
    ours = _first_summary(model)
    gini = _mean(ours, "gini")
    if gini is not None and base is not None:
        base_gini = _mean(_first_summary(base), "gini")
        if base_gini is not None:
            sparser = gini > base_gini
            lines.append(
                f"Its saliency maps are {'sparser' if sparser else 'not sparser'} than the "
                f"baseline's (Gini {gini:.2f} against {base_gini:.2f}): they point at "
                f"{'fewer' if sparser else 'as many or more'} pixels."
            )
    elif gini is not None:
        lines.append(f"Sparseness of its saliency maps: Gini {gini:.2f} (1 = a single pixel, "
                     "0 = all pixels alike); train an ERM baseline to compare.")  # fmt: skip
    deletion = _mean(ours, "deletion_auc_blur_diff")
    if deletion is not None:
        lines.append(
            "Removing the pixels its maps rank first lowers its confidence "
            + ("faster than removing random pixels: the maps point at what the decision uses."
               if deletion < 0 else
               "no faster than removing random pixels: read its maps with caution.")
        )  # fmt: skip
    return lines
