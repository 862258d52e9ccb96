"""Patch extraction from a tile grid to an ImageFolder tree with a CSV manifest.

Layout: ``out_dir/<label>/<slidestem>_<l0x>_<l0y>.<fmt>`` plus ``out_dir/manifest.csv``.
Parallel readers each hold their own slide handle (a process per worker opening the slide
once in its initializer, or a handle per thread), so reads never queue on one lock.
Processes are the default: Pillow's PNG encoder, most of the cost of a tile, holds the GIL
(it writes through an in-memory chunk writer), so threads only help reads and JPEG.
Resumable: a tile is done when its row is in the manifest *and* its file exists. Rows are
appended and flushed to the OS after every batch, only after their files were written, so
a crash or cancel loses at most the tiles in flight (rewritten on the next run).
"""

from __future__ import annotations

import csv
import io
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)
from pathscaat.slides.base import Slide
from pathscaat.tiling.grid import TileGrid, read_tile

MANIFEST = "manifest.csv"
COLUMNS = (
    "slide",
    "l0_x",
    "l0_y",
    "level",
    "lvl_read_px",
    "l0_tile_px",
    "tile_px",
    "mpp",
    "label",
    "tissue_fraction",
    "file",
)
UNLABELLED = "unlabelled"
BATCH_TILES = 16
LabelFn = Callable[[int, int, int], "str | None"]
"""(tile index, l0 x, l0 y) -> class name, or None to skip the tile."""


@dataclass(frozen=True)
class _Config:
    slide_path: str
    mpp_override: float | None
    grid: TileGrid
    out_dir: str
    stem: str
    fmt: str
    mpp: str


class _TileWriter:
    """Reads and saves tiles; one slide handle per thread (and so per process)."""

    def __init__(self, cfg: _Config) -> None:
        self.cfg = cfg
        self._local = threading.local()
        self._opened: list[Slide] = []
        self._lock = threading.Lock()

    def slide(self) -> Slide:
        s: Slide | None = getattr(self._local, "slide", None)
        if s is None:
            from pathscaat.slides import open_slide

            s = open_slide(self.cfg.slide_path, mpp_override=self.cfg.mpp_override)
            self._local.slide = s
            with self._lock:
                self._opened.append(s)
        return s

    def run(self, jobs: list[tuple[int, str]]) -> list[dict[str, Any]]:
        return [self._one(i, label) for i, label in jobs]

    def _one(self, i: int, label: str) -> dict[str, Any]:
        c, g = self.cfg, self.cfg.grid
        l0_x, l0_y = (int(v) for v in g.l0_xy[i])
        rel = f"{label}/{c.stem}_{l0_x}_{l0_y}.{c.fmt}"
        _save(read_tile(self.slide(), g, i), Path(c.out_dir) / rel, c.fmt)
        return {
            "slide": c.slide_path,
            "l0_x": l0_x,
            "l0_y": l0_y,
            "level": g.read_level,
            "lvl_read_px": g.lvl_read_px,
            "l0_tile_px": f"{g.l0_tile_px:.4f}",
            "tile_px": g.tile_px,
            "mpp": c.mpp,
            "label": label,
            "tissue_fraction": f"{float(g.tissue_fraction[i]):.4f}",
            "file": rel,
        }

    def close(self) -> None:
        for s in self._opened:
            s.close()
        self._opened.clear()


def _save(rgb: Any, path: Path, fmt: str) -> None:
    """Encode in memory, then one write: no temp file and rename (they cost ~0.4 ms a tile
    on some file systems); a file torn by a crash has no manifest row and is rewritten."""
    buf = io.BytesIO()
    if fmt == "png":
        Image.fromarray(rgb).save(buf, format="PNG", compress_level=1)
    else:
        Image.fromarray(rgb).save(buf, format="JPEG", quality=92)
    path.write_bytes(buf.getbuffer())


_PROCESS_WRITER: _TileWriter | None = None


def _process_init(cfg: _Config) -> None:
    global _PROCESS_WRITER
    _PROCESS_WRITER = _TileWriter(cfg)
    _PROCESS_WRITER.slide()


def _process_run(jobs: list[tuple[int, str]]) -> list[dict[str, Any]]:
    assert _PROCESS_WRITER is not None
    return _PROCESS_WRITER.run(jobs)


def extract_patches(
    slide_path: str | Path,
    grid: TileGrid,
    out_dir: str | Path,
    *,
    label: str | LabelFn | None = None,
    workers: int = 1,
    executor: str = "process",
    fmt: str = "png",
    mpp_override: float | None = None,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> Path:
    """Write every grid tile not yet extracted; return the manifest path.

    ``workers`` <= 1 reads in this process; otherwise a pool of ``executor`` kind
    (``"process"`` or ``"thread"``). Raises ``JobCancelled`` after keeping partial results.
    """
    if fmt not in ("png", "jpg"):
        raise ValueError(f"fmt must be 'png' or 'jpg', got {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST
    done = _load_done(manifest, out)
    mpp = _output_mpp(slide_path, grid, mpp_override)
    cfg = _Config(str(slide_path), mpp_override, grid, str(out), Path(slide_path).stem, fmt, mpp)
    jobs = _pending(cfg, label, done)
    total, n_done = len(jobs), 0
    on_progress(ProgressRecord("extract", 0, total, f"{len(done)} already on disk"))
    with _ManifestAppender(manifest) as append:
        for rows in _run(cfg, jobs, workers, executor, should_stop):
            append(rows)
            n_done += len(rows)
            on_progress(ProgressRecord("extract", n_done, total))
    if n_done < total:
        raise JobCancelled(
            f"extraction stopped after {n_done} of {total} tiles; "
            f"partial results kept in {manifest}"
        )
    return manifest


def _pending(cfg: _Config, label: str | LabelFn | None, done: set[str]) -> list[tuple[int, str]]:
    """(tile index, label) of tiles not yet in the manifest; creates their class folders."""
    xy = cfg.grid.l0_xy
    jobs = [
        (i, lab)
        for i, lab in _labelled(cfg.grid, label)
        if f"{lab}/{cfg.stem}_{xy[i][0]}_{xy[i][1]}.{cfg.fmt}" not in done
    ]
    for lab in {lab for _, lab in jobs}:
        (Path(cfg.out_dir) / lab).mkdir(parents=True, exist_ok=True)
    return jobs


def _labelled(grid: TileGrid, label: str | LabelFn | None) -> Iterator[tuple[int, str]]:
    for i in range(len(grid)):
        if callable(label):
            lab = label(i, int(grid.l0_xy[i][0]), int(grid.l0_xy[i][1]))
            if lab is None:
                continue
        else:
            lab = label or UNLABELLED
        yield i, _safe_name(lab)


def _safe_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_. " else "_" for ch in name).strip(" .")
    return cleaned or UNLABELLED


def _output_mpp(slide_path: str | Path, grid: TileGrid, mpp_override: float | None) -> str:
    if grid.target_mpp is not None:
        return f"{grid.target_mpp:g}"
    base = mpp_override
    if base is None:
        from pathscaat.slides import open_slide

        with open_slide(slide_path) as s:
            base = s.mpp.x if s.mpp else None
    return "" if base is None else f"{base * grid.downsample:.6g}"


def _run(
    cfg: _Config,
    jobs: list[tuple[int, str]],
    workers: int,
    executor: str,
    should_stop: ShouldStop,
) -> Iterator[list[dict[str, Any]]]:
    """Yield rows batch by batch as they complete; stop early when asked."""
    batches = [jobs[k : k + BATCH_TILES] for k in range(0, len(jobs), BATCH_TILES)]
    writer = _TileWriter(cfg)
    if workers <= 1 or len(batches) <= 1:
        try:
            for b in batches:
                if should_stop():
                    return
                yield writer.run(b)
        finally:
            writer.close()
        return
    pool: Executor
    futures: list[Future[list[dict[str, Any]]]]
    if executor == "thread":
        pool = ThreadPoolExecutor(workers)
        futures = [pool.submit(writer.run, b) for b in batches]
    else:
        pool = ProcessPoolExecutor(workers, initializer=_process_init, initargs=(cfg,))
        futures = [pool.submit(_process_run, b) for b in batches]
    try:
        yield from _drain(pool, futures, should_stop)
    finally:
        writer.close()


def _drain(
    pool: Executor, futures: list[Future[list[dict[str, Any]]]], should_stop: ShouldStop
) -> Iterator[list[dict[str, Any]]]:
    pending = set(futures)
    try:
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when="FIRST_COMPLETED")
            for f in finished:
                yield f.result()
            if should_stop():
                break
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    for f in pending:  # finished while shutting down: keep them
        if f.done() and not f.cancelled() and f.exception() is None:
            yield f.result()


def _load_done(manifest: Path, out: Path) -> set[str]:
    """Files listed in the manifest that exist; repairs a torn last line."""
    if not manifest.exists():
        return set()
    text = manifest.read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    good = [
        r for r in rows if r.get("file") and None not in r.values() and (out / r["file"]).exists()
    ]
    if len(good) != len(rows) or (text and not text.endswith("\n")):
        tmp = manifest.with_name(manifest.name + ".tmp")
        with tmp.open("w", newline="") as fh:
            w = csv.DictWriter(fh, COLUMNS)
            w.writeheader()
            w.writerows({k: r.get(k, "") for k in COLUMNS} for r in good)
        os.replace(tmp, manifest)
    return {r["file"] for r in good}


class _ManifestAppender:
    """Appends rows to the manifest, flushing after every batch."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Callable[[list[dict[str, Any]]], None]:
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._fh = self.path.open("a", newline="")
        self._w = csv.DictWriter(self._fh, COLUMNS)
        if new:
            self._w.writeheader()
        return self._append

    def _append(self, rows: list[dict[str, Any]]) -> None:
        self._w.writerows(rows)
        self._fh.flush()  # in the OS after each batch: a crash of this process loses nothing

    def __exit__(self, *exc: object) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())  # once at the end: per-batch fsync costs more than reads
        self._fh.close()
