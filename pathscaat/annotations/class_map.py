"""Model classes -> the project's own classes, for regions accepted from a model's overlays.

A model names its classes as its training folders did (``01_TUMOR``); a project has its
own (``Tumour``). Regions made from a model's overlay take the model's names unless the
user maps them; the map is remembered per model (the app keeps it in its settings under
the checkpoint's path), so the next run of the same model arrives classed right.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from pathscaat.annotations.model import Annotation, PathClass

ClassMap = dict[str, str]
"""model class name -> project class name (absent: keep the model's name)."""


def _key(name: str) -> str:
    """``01_TUMOR`` -> ``tumor``; ``Tumour`` -> ``tumour`` (digits, marks and case dropped)."""
    return re.sub(r"[^a-z]", "", name.lower())


def suggest_class_map(
    model_classes: Iterable[str], project_classes: Iterable[str], remembered: Mapping[str, str]
) -> ClassMap:
    """A starting map: what was remembered for this model (if that project class still
    exists), else a project class whose letters match (``01_TUMOR`` / ``Tumor``), else the
    first four letters (``tumor`` / ``tumour``, ``lympho`` / ``lymphocytes``)."""
    project = list(project_classes)
    out: ClassMap = {}
    for name in model_classes:
        if remembered.get(name) in project:
            out[name] = remembered[name]
            continue
        key = _key(name)
        same = [p for p in project if _key(p) == key]
        near = [p for p in project if len(key) >= 4 and _key(p)[:4] == key[:4]]
        pick = same or near
        if pick and pick[0] != name:
            out[name] = pick[0]
    return out


def apply_class_map(regions: Iterable[Annotation], mapping: Mapping[str, str]) -> list[Annotation]:
    """``regions`` with each model class replaced by its project class (colour re-derived;
    the app then takes the project class's own colour)."""
    out = []
    for region in regions:
        name = region.class_name
        if name is not None and mapping.get(name):
            region = region.with_changes(path_class=PathClass.named(mapping[name]))
        out.append(region)
    return out


def load_maps(text: str) -> dict[str, ClassMap]:
    """Remembered maps per model from their JSON text; damaged text gives none."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(model): {str(k): str(v) for k, v in m.items() if isinstance(v, str)}
        for model, m in data.items()
        if isinstance(m, dict)
    }


def dump_maps(maps: Mapping[str, Mapping[str, str]]) -> str:
    return json.dumps({model: dict(m) for model, m in maps.items()}, sort_keys=True)
