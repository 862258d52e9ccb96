"""Project store speed, as ratios against baselines measured in the same run.

- Save 10,000 polygons of 50 vertices in one edit (rows + undo log) vs writing them as
  QuPath GeoJSON with ``write_annotations``.
- Reopen them (``open_collection``: rows, undo log, spatial index) vs ``read_annotations``
  of that GeoJSON.
- One small edit through a bound collection (one durable transaction) vs a bare SQLite
  ``INSERT`` + ``COMMIT`` with the same journal settings: the price of the store's work.

    python benchmarks/bench_project.py [--objects 10000] [--edits 200]
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from shapely.geometry import Polygon

from pathscaat.annotations.edits import Edit
from pathscaat.annotations.io import read_annotations, write_annotations
from pathscaat.annotations.model import Annotation, PathClass, ToolShape
from pathscaat.project import Project
from pathscaat.project.binding import open_collection


def polygons(n: int, vertices: int = 50) -> list[Annotation]:
    rng = np.random.default_rng(0)
    angles = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    classes = [PathClass.named("Tumor"), PathClass.named("Stroma")]
    out = []
    for i in range(n):
        x, y = rng.uniform(0, 100_000, 2)
        r = rng.uniform(20, 200) * rng.uniform(0.8, 1.2, vertices)
        ring = np.column_stack([x + r * np.cos(angles), y + r * np.sin(angles)])
        out.append(Annotation(Polygon(ring), path_class=classes[i % 2], tool=ToolShape.POLYGON,
                              measurements={"score": float(rng.random())}))
    return out


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def bare_commit_s(folder: Path, edits: int) -> float:
    conn = sqlite3.connect(folder / "bare.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, v BLOB)")
    start = time.perf_counter()
    for i in range(edits):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?)", (str(i), b"x" * 300))
        conn.execute("COMMIT")
    conn.close()
    return (time.perf_counter() - start) / edits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--objects", type=int, default=10_000)
    ap.add_argument("--edits", type=int, default=200)
    args = ap.parse_args()
    objects = polygons(args.objects)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / "s.png")
        geojson = folder / "objects.geojson"
        write_s = timed(lambda: write_annotations(geojson, objects))
        read_s = timed(lambda: read_annotations(geojson))
        with Project.create(folder / "proj") as project:
            slide_id = project.add_slide(folder / "s.png")[0].id
            save_s = timed(lambda: project.apply_edit(slide_id, Edit.add(objects, "Import")))
        with Project.open(folder / "proj") as project:
            start = time.perf_counter()
            coll, _ = open_collection(project, slide_id)
            coll.query((0, 0, 1000, 1000))  # the index is built
            open_s = time.perf_counter() - start
            small = polygons(args.edits, vertices=8)
            start = time.perf_counter()
            for obj in small:
                coll.apply(Edit.add([obj], "Add polygon"))
            edit_s = (time.perf_counter() - start) / args.edits
        bare_s = bare_commit_s(folder, args.edits)
    n = f"{args.objects:,} polygons x 50 vertices"
    print(f"save {n}: {save_s:.2f} s vs write_annotations {write_s:.2f} s "
          f"-> {save_s / write_s:.2f}x")
    print(f"reopen {n}: {open_s:.2f} s vs read_annotations {read_s:.2f} s "
          f"-> {open_s / read_s:.2f}x")
    print(f"one edit, committed: {edit_s * 1e3:.2f} ms vs bare SQLite commit "
          f"{bare_s * 1e3:.2f} ms -> {edit_s / bare_s:.2f}x")


if __name__ == "__main__":
    main()
