"""Per-tile results persisted as they are computed, so a rerun skips finished tiles.

``OUT/.partial/`` holds memmapped arrays indexed by grid tile: class probabilities,
each tile's saliency map (normalised by its own maximum, float16, to halve the disk
cost without losing small gradients) with that maximum, and a ``done`` flag.

Batches are committed together: data flushed (msync) first, then their ``done`` flags
set and flushed, so a flag never points at unwritten data even after a power cut. A
commit happens at most every ``COMMIT_S`` seconds (msync per batch would cost a fast GPU
a good share of its time), on cancel and at the end; a killed process loses at most the
batches since the last commit.
``state.json`` fingerprints the job (slide file, checkpoint, grid, saliency method);
a different job in the same folder starts afresh instead of mixing results.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

PARTIAL_DIR = ".partial"
STATE_FILE = "state.json"
COMMIT_S = 2.0


def file_stamp(path: str | Path) -> dict[str, Any]:
    """Identity of a file for the fingerprint: absolute path, size and mtime."""
    p = Path(path).resolve()
    st = p.stat()
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def fingerprint(parts: dict[str, Any], l0_xy: NDArray[np.int64]) -> str:
    """A stable hash of the job description and the tile positions."""
    h = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(l0_xy, dtype=np.int64).tobytes())
    return h.hexdigest()


def _flush(arr: object) -> None:
    if isinstance(arr, np.memmap):
        arr.flush()


@dataclass
class PartialStore:
    """Memmapped per-tile results of one inference job (see module docstring)."""

    folder: Path
    probs: NDArray[np.float32]  # (N, C)
    sal: NDArray[np.float16] | None  # (N, S, S), each tile scaled to max 1
    sal_max: NDArray[np.float32]  # (N,) raw maximum saliency of each tile
    done: NDArray[np.uint8]  # (N,) 1 once the tile's results are on disk
    _uncommitted: list[NDArray[np.int64]] = field(default_factory=list)
    _last_commit: float = field(default_factory=time.monotonic)

    @classmethod
    def open(
        cls, out_dir: Path, key: str, n_tiles: int, n_classes: int, sal_px: int | None
    ) -> PartialStore:
        """Reopen the partial results of the same job, or start empty ones."""
        folder = out_dir / PARTIAL_DIR
        state_path = folder / STATE_FILE
        shapes = {"n_tiles": n_tiles, "n_classes": n_classes, "sal_px": sal_px}
        if state_path.exists():
            try:
                state = json.loads(state_path.read_text())
                if state.get("key") == key and state.get("shapes") == shapes:
                    return cls._map(folder, n_tiles, n_classes, sal_px, "r+")
            except (OSError, ValueError):
                pass  # damaged partial results: recompute rather than trust them
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        store = cls._map(folder, n_tiles, n_classes, sal_px, "w+")
        store.flush()
        state_path.write_text(json.dumps({"key": key, "shapes": shapes}))
        return store

    @classmethod
    def _map(
        cls, folder: Path, n_tiles: int, n_classes: int, sal_px: int | None, mode: str
    ) -> PartialStore:
        def mm(name: str, dtype: Any, shape: tuple[int, ...]) -> Any:
            path = folder / f"{name}.npy"
            if mode == "w+":
                return np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
            arr = np.load(path, mmap_mode="r+")
            if arr.shape != shape or arr.dtype != dtype:
                raise ValueError(f"{path}: shape {arr.shape} {arr.dtype}, expected {shape}")
            return arr

        sal = mm("saliency", np.float16, (n_tiles, sal_px, sal_px)) if sal_px else None
        return cls(
            folder=folder,
            probs=mm("probs", np.float32, (n_tiles, n_classes)),
            sal=sal,
            sal_max=mm("sal_max", np.float32, (n_tiles,)),
            done=mm("done", np.uint8, (n_tiles,)),
        )

    @property
    def n_done(self) -> int:
        """Tiles committed to disk."""
        return int(np.count_nonzero(self.done))

    def pending(self) -> NDArray[np.int64]:
        """Indices of tiles still to compute, in grid order."""
        return np.flatnonzero(self.done == 0).astype(np.int64)

    def record(
        self,
        idx: NDArray[np.int64],
        probs: NDArray[np.float32],
        sal: NDArray[np.float32] | None,
    ) -> None:
        """Store one batch's results; they are committed with the next ``commit``."""
        self.probs[idx] = probs
        if self.sal is not None and sal is not None:
            tile_max = sal.reshape(len(idx), -1).max(axis=1)
            self.sal_max[idx] = tile_max
            scale = np.where(tile_max > 0, tile_max, 1.0)[:, None, None]
            self.sal[idx] = (sal / scale).astype(np.float16)
        self._uncommitted.append(np.asarray(idx, dtype=np.int64))
        if time.monotonic() - self._last_commit >= COMMIT_S:
            self.commit()

    def commit(self) -> None:
        """Make recorded batches durable: data flushed first, ``done`` flags last."""
        if self._uncommitted:
            self.flush()
            self.done[np.concatenate(self._uncommitted)] = 1
            _flush(self.done)
            self._uncommitted.clear()
        self._last_commit = time.monotonic()

    def flush(self) -> None:
        for arr in (self.probs, self.sal, self.sal_max, self.done):
            _flush(arr)

    def saliency_of(self, i: int) -> NDArray[np.float32]:
        """Tile ``i``'s saliency map in raw gradient units."""
        if self.sal is None:
            raise ValueError("this job computed no saliency")
        return np.asarray(self.sal[i], dtype=np.float32) * float(self.sal_max[i])

    def remove(self) -> None:
        """Drop the partial results once the outputs are written."""
        self.flush()
        shutil.rmtree(self.folder, ignore_errors=True)
