"""Models (checkpoints with their objective and metrics) and inference runs per slide.

A model row is read from the checkpoint's JSON sidecar (``stem.json``, see
``pathscaat.models.checkpoint``) without importing torch: listing a project must stay
fast and work where torch is not installed. A run records where ``pathscaat infer`` wrote a
slide's overlays, so opening the slide can bring them back.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pathscaat.progress import PathscaatError
from pathscaat.project.slides import now_iso, stored_form


@dataclass(frozen=True)
class ModelRecord:
    id: int
    name: str
    checkpoint: Path
    backbone: str | None
    objective: str | None
    class_names: list[str]
    metrics: dict[str, Any]


@dataclass(frozen=True)
class RunRecord:
    id: int
    slide_id: int
    model_id: int | None
    output_dir: Path
    params: dict[str, Any]
    created_at: str


def checkpoint_stem(checkpoint: Path) -> Path:
    """``run/best``, ``run/best.json`` and ``run/best.safetensors`` all name ``run/best``."""
    return (
        checkpoint.with_suffix("") if checkpoint.suffix in (".json", ".safetensors") else checkpoint
    )


def _sidecar(checkpoint: Path) -> dict[str, Any]:
    stem = checkpoint_stem(checkpoint)
    json_path = stem.with_suffix(".json")
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PathscaatError(
            f"no checkpoint at {stem}: {json_path.name} is missing; give the .json or "
            ".safetensors file that `pathscaat train` wrote"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PathscaatError(f"{json_path} is not a PathSCAAT checkpoint: {exc}") from exc
    if not isinstance(data, dict) or "backbone" not in data:
        raise PathscaatError(f"{json_path} is not a PathSCAAT checkpoint (no backbone)")
    return data


def add_model(conn: sqlite3.Connection, root: Path, checkpoint: Path, name: str | None) -> int:
    """Register a checkpoint (again: its row is refreshed); returns the model id."""
    meta = _sidecar(checkpoint)
    stem = checkpoint_stem(checkpoint.resolve())
    values = (
        name or stem.name,
        meta.get("backbone"),
        meta.get("objective"),
        json.dumps(meta.get("class_names", [])),
        json.dumps(meta.get("metrics", {})),
    )
    stored = stored_form(root, stem)
    row = conn.execute("SELECT id FROM models WHERE checkpoint = ?", (stored,)).fetchone()
    if row:
        conn.execute(
            "UPDATE models SET name = ?, backbone = ?, objective = ?, class_names = ?, "
            "metrics = ? WHERE id = ?",
            (*values, row[0]),
        )
        return int(row[0])
    cur = conn.execute(
        "INSERT INTO models (name, backbone, objective, class_names, metrics, checkpoint, "
        "added_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (*values, stored, now_iso()),
    )
    return int(cur.lastrowid or 0)


def list_models(conn: sqlite3.Connection, root: Path) -> list[ModelRecord]:
    rows = conn.execute(
        "SELECT id, name, checkpoint, backbone, objective, class_names, metrics "
        "FROM models ORDER BY id"
    )
    return [
        ModelRecord(i, n, (root / c).resolve(), b, o, json.loads(cn), json.loads(m))
        for i, n, c, b, o, cn, m in rows
    ]


def add_run(
    conn: sqlite3.Connection,
    root: Path,
    slide_id: int,
    model_id: int | None,
    output_dir: Path,
    params: dict[str, Any],
) -> int:
    cur = conn.execute(
        "INSERT INTO runs (slide_id, model_id, output_dir, params, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            slide_id,
            model_id,
            stored_form(root, output_dir.resolve()),
            json.dumps(params, default=str),
            now_iso(),
        ),
    )
    return int(cur.lastrowid or 0)


def list_runs(conn: sqlite3.Connection, root: Path, slide_id: int | None) -> list[RunRecord]:
    sql = "SELECT id, slide_id, model_id, output_dir, params, created_at FROM runs"
    args: tuple[Any, ...] = ()
    if slide_id is not None:
        sql, args = sql + " WHERE slide_id = ?", (slide_id,)
    rows = conn.execute(sql + " ORDER BY id", args)
    return [RunRecord(i, s, m, (root / d).resolve(), json.loads(p), c) for i, s, m, d, p, c in rows]


@dataclass(frozen=True)
class InferenceOutput:
    """What a run records of an inference output folder (``overlays.json``)."""

    output_dir: Path
    slide: Path
    checkpoint: Path | None  # None when the checkpoint's JSON is gone
    params: dict[str, Any]


def read_inference(output_dir: Path) -> InferenceOutput:
    from pathscaat.inference.overlays import OverlaySet  # plain JSON: no torch

    overlays = OverlaySet.load(output_dir)
    checkpoint = Path(overlays.checkpoint) if overlays.checkpoint else None
    if checkpoint is not None and not checkpoint_stem(checkpoint).with_suffix(".json").is_file():
        checkpoint = None
    params = {
        "classes": overlays.classes,
        "checkpoint": overlays.checkpoint,
        "overlays": [o.name for o in overlays.overlays],
    }
    return InferenceOutput(overlays.root, Path(overlays.slide), checkpoint, params)
