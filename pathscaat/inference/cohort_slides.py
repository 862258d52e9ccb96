"""Which slides a cohort holds, the output folder of each, and each rank's share of them.

Every process computes the same list from the same ``--slides`` argument (sorted absolute
paths), so ranks agree on folders and shards without talking to each other.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pathscaat.progress import PathscaatError
from pathscaat.slides.registry import SLIDE_SUFFIXES

PROJECT_PREFIX = "project:"


@dataclass(frozen=True)
class CohortSlide:
    """One slide of a cohort and the folder (under the cohort's OUT) its overlays go to.

    ``mpp`` is a level-0 µm/px that replaces the file's (a project's override, source
    ``project``); None: the file's own, else the cohort's ``--slide-mpp``.
    """

    path: Path
    folder: str
    mpp: float | None = None


def list_slides(
    spec: str | Path | Sequence[Path], *, recursive: bool = False, exclude: Path | None = None
) -> list[Path]:
    """Slides named by ``spec``: a folder of slides, a text file with one path a line, or
    the paths themselves (as the CLI passes a project's slides: ``project:DIR``).

    In a list, blank lines and ``#`` comments are skipped and relative paths are relative
    to the list's folder; a missing slide stays in the list (it becomes a failed row, not a
    stopped cohort). ``exclude`` (the output folder) is never searched.
    """
    if not isinstance(spec, (str, Path)):
        return sorted({Path(p).resolve() for p in spec})
    text = str(spec)
    if text.startswith(PROJECT_PREFIX):
        raise PathscaatError(
            f"{text}: a project's slides are listed by the project layer; call "
            "pathscaat.project.project_slide_paths() and pass the paths."
        )
    source = Path(text).expanduser()
    if source.is_dir():
        paths = _folder_slides(source, recursive, exclude)
    elif source.is_file():
        paths = _listed_slides(source)
    else:
        raise PathscaatError(
            f"{source}: no such folder or slide list. Give a folder of slides or a text file "
            "with one slide path per line."
        )
    if not paths:
        raise PathscaatError(
            f"{source}: no slides found (looked for {', '.join(sorted(SLIDE_SUFFIXES))}). "
            "Check the folder, or list the slides in a text file."
        )
    return sorted({p.resolve() for p in paths})


def _folder_slides(folder: Path, recursive: bool, exclude: Path | None) -> list[Path]:
    found = folder.rglob("*") if recursive else folder.iterdir()
    skip = exclude.resolve() if exclude is not None else None
    out = []
    for path in found:
        if path.suffix.lower() not in SLIDE_SUFFIXES or not path.is_file():
            continue
        rel = path.relative_to(folder).parts
        if any(part.startswith(".") for part in rel):
            continue
        if skip is not None and path.resolve().is_relative_to(skip):
            continue
        out.append(path)
    return out


def _listed_slides(list_file: Path) -> list[Path]:
    try:
        lines = list_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PathscaatError(
            f"{list_file}: cannot read this slide list ({exc}). Give a UTF-8 text file with "
            "one slide path per line."
        ) from exc
    paths = []
    for line in lines:
        entry = line.strip()
        if entry and not entry.startswith("#"):
            path = Path(entry).expanduser()
            paths.append(path if path.is_absolute() else list_file.parent / path)
    return paths


def assign_folders(
    paths: list[Path], mpps: Mapping[Path, float] | None = None
) -> list[CohortSlide]:
    """Each slide's folder is its stem; stems that collide (ignoring case, since some file
    systems do) get a short hash of the full path appended, the same on every rank.
    ``mpps``: µm/px overrides by resolved path (a project's)."""
    counts = Counter(p.stem.lower() for p in paths)
    known = {Path(p).resolve(): float(v) for p, v in (mpps or {}).items()}
    slides = []
    for path in paths:
        name = path.stem
        if counts[name.lower()] > 1:
            name = f"{name}-{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
        slides.append(CohortSlide(path, name, known.get(path.resolve())))
    return slides


def shard(slides: list[CohortSlide], rank: int, world: int) -> list[CohortSlide]:
    """This rank's slides: largest files first, each to the least loaded rank so far.

    Deterministic (ties go to the lower rank, then by path); the shards partition the
    cohort. A missing file counts as size 0 (it fails at once wherever it lands).
    """
    if world <= 1:
        return list(slides)
    loads = [0] * world
    mine = []
    for slide in sorted(slides, key=lambda s: (-_size(s.path), str(s.path))):
        target = min(range(world), key=lambda r: (loads[r], r))
        loads[target] += max(_size(slide.path), 1)
        if target == rank:
            mine.append(slide)
    return sorted(mine, key=lambda s: str(s.path))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
