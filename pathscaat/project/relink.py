"""Find slides that moved: same size and same quick hash under a search folder.

A whole-slide image is gigabytes, so identity is the size plus a SHA-1 of the size, the
first MiB and the last MiB: cheap to compute for every same-sized candidate, and two
different scans never share it in practice. Only candidates of the right size are hashed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

CHUNK_BYTES = 1 << 20


def quick_hash(path: str | Path) -> str:
    """SHA-1 hex of the file size, its first MiB and its last MiB."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha1(str(size).encode("ascii"))
    with path.open("rb") as f:
        digest.update(f.read(CHUNK_BYTES))
        if size > CHUNK_BYTES:
            f.seek(max(CHUNK_BYTES, size - CHUNK_BYTES))
            digest.update(f.read(CHUNK_BYTES))
    return digest.hexdigest()


def files_by_size(search_dirs: Iterable[str | Path], sizes: set[int]) -> dict[int, list[Path]]:
    """Every file under ``search_dirs`` whose size is in ``sizes``, grouped by size."""
    found: dict[int, list[Path]] = {}
    for folder in search_dirs:
        for dirpath, _dirs, names in os.walk(folder):
            for name in names:
                path = Path(dirpath) / name
                try:
                    size = path.stat().st_size
                except OSError:
                    continue
                if size in sizes:
                    found.setdefault(size, []).append(path.resolve())
    return found


def find_moved(
    wanted: dict[int, tuple[int, str]], search_dirs: Iterable[str | Path]
) -> dict[int, Path]:
    """Map each key of ``wanted`` (key -> (size, quick hash)) to the file that matches it.

    A key with no match, or with two matching files (a copy), is left out: relinking to
    the wrong one silently would be worse than asking.
    """
    candidates = files_by_size(search_dirs, {size for size, _ in wanted.values()})
    hashes: dict[Path, str] = {}
    result: dict[int, Path] = {}
    for key, (size, digest) in wanted.items():
        matches = []
        for path in candidates.get(size, []):
            if path not in hashes:
                try:
                    hashes[path] = quick_hash(path)
                except OSError:
                    hashes[path] = ""
            if hashes[path] == digest:
                matches.append(path)
        if len(set(matches)) == 1:
            result[key] = matches[0]
    return result
