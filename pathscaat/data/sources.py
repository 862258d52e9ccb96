"""Scan a run's data sources into one labelled set, before anything trains.

``scan_sources`` decodes every image once (a corrupt JPEG among good ones is skipped and
listed, not a crash mid-epoch), maps classes by name across sources, finds the slide of
each tile (by a :class:`~pathscaat.data.slide_id.SlideIdRule`: by default a
``manifest.csv`` ``slide`` column, else the Kather ``CRC-Prim-HE-NN`` token; ``regroup``
applies another rule without reading the images again), and says whether the set can
train and, if not, why. A project source is first exported to patch folders
(:mod:`pathscaat.data.project_source`). The wizard shows the scan; the trainer trains
on :func:`pathscaat.data.source_view.training_root` of it.
"""

from __future__ import annotations

import csv
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image

from pathscaat.data.data_source import DataSource
from pathscaat.data.patch_folder import IMAGE_SUFFIXES, resolve_roots
from pathscaat.data.slide_id import AUTO, SlideIdRule, missing_id_warning
from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    PathscaatError,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)

__all__ = ["DataScan", "DataSource", "ScannedItem", "regroup", "scan_sources"]

MIN_PER_CLASS = 20  # below this a class gets a warning
IMBALANCE = 10.0  # largest / smallest class above this gets a warning
SAMPLES = 8
UNLABELLED = "unlabelled"
THREADS = 4
CHUNK = 64  # what `pathscaat tiles --extract` names tiles without a class


@dataclass(frozen=True)
class ScannedItem:
    """One readable image: its file, place in the training view, class, slide (or None)."""

    path: Path
    rel_path: str
    class_name: str
    group: str | None
    source: int
    side_px: int
    manifest_row: tuple[tuple[str, str], ...] = ()
    """The tile's ``manifest.csv`` row, if its folder has one (for another slide id rule)."""


@dataclass
class DataScan:
    """What the sources hold, and whether they can train (``why_not`` says what is wrong)."""

    class_names: list[str]
    counts_per_class: dict[str, int]
    groups: dict[str, list[str]]
    unreadable: list[tuple[Path, str]]
    warnings: list[str]
    sample_paths: dict[str, list[Path]]
    can_train: bool
    why_not: str
    patch_mpp: float | None
    patch_px: int | None
    sources: list[DataSource] = field(default_factory=list)
    items: list[ScannedItem] = field(default_factory=list)
    #: a single clean folder trains where it is (no view); None otherwise
    direct_root: Path | None = None
    slide_id: SlideIdRule = AUTO
    #: the warning (one of ``warnings``) that some tiles have no slide id; "" if all do
    slide_id_warning: str = ""

    @property
    def has_groups(self) -> bool:
        return bool(self.items) and all(i.group is not None for i in self.items)


def _manifest(image_root: Path) -> dict[str, dict[str, str]]:
    """Rows of ``manifest.csv`` by file (relative to the folder); empty when there is none."""
    path = image_root / "manifest.csv"
    if not path.is_file():
        return {}
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    return {row["file"]: row for row in rows if row.get("file")}


def check_image(path: Path) -> tuple[int | None, str]:
    """(side of the centre square, "") for a readable image, else (None, why)."""
    try:
        with Image.open(path) as im:
            im.load()  # decode fully: a truncated JPEG fails here, not in epoch 3
            return min(im.size), ""
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def _candidates(image_root: Path) -> tuple[dict[str, list[Path]], int]:
    """Image files per class folder (sorted like PatchFolder), and other files ignored."""
    out: dict[str, list[Path]] = {}
    others = 0
    for folder in sorted(p for p in image_root.iterdir() if p.is_dir()):
        if folder.name.startswith(".") or folder.name == UNLABELLED:
            continue
        files = [f for f in sorted(folder.rglob("*")) if f.is_file() and not f.name.startswith(".")]
        images = [f for f in files if f.suffix.lower() in IMAGE_SUFFIXES]
        others += len(files) - len(images)
        out[folder.name] = images
    return out, others


class _Scanner:
    """Accumulates items, unreadable files and warnings over the sources."""

    def __init__(self, total_sources: int, on_progress: OnProgress, stop: ShouldStop,
                 rule: SlideIdRule = AUTO) -> None:  # fmt: skip
        self.rule = rule
        self.items: list[ScannedItem] = []
        self.unreadable: list[tuple[Path, str]] = []
        self.warnings: list[str] = []
        self.mpps: set[float] = set()
        self.multi = total_sources > 1
        self.empty_classes: list[str] = []
        self.on_progress, self.should_stop = on_progress, stop

    def folder(self, index: int, source: DataSource) -> None:
        if not source.path.is_dir():
            raise PathscaatError(
                f"patch folder not found: {source.path}; give a folder with one sub-folder "
                "per class"
            )
        image_root, _ = resolve_roots(source.path)
        per_class, others = _candidates(image_root)
        rows = _manifest(image_root)
        if others:
            self.warnings.append(f"{image_root}: {others} files that are not images were ignored")
        jobs = [(name, f) for name, files in per_class.items() for f in files]
        self.empty_classes += [name for name, files in per_class.items() if not files]
        with ThreadPoolExecutor(THREADS) as pool:  # decoding releases the GIL
            for start in range(0, len(jobs), CHUNK):
                if self.should_stop():
                    raise JobCancelled("scan cancelled; nothing was changed")
                chunk = jobs[start : start + CHUNK]
                checks = pool.map(check_image, [f for _, f in chunk])
                for (name, f), check in zip(chunk, checks, strict=True):
                    self._one(index, source, image_root, name, f, rows, check)
                done = start + len(chunk)
                msg = f"{image_root.name}: {done}/{len(jobs)} images"
                self.on_progress(ProgressRecord("scan", done, len(jobs), msg))

    def _one(
        self, index: int, source: DataSource, root: Path, name: str, f: Path,
        rows: dict[str, dict[str, str]], check: tuple[int | None, str],
    ) -> None:  # fmt: skip
        side, why = check
        if side is None:
            self.unreadable.append((f, why))
            return
        rel = f.relative_to(root).as_posix()
        row = rows.get(rel, {})
        group = self.rule.slide_of(f.name, row)
        if source.slides is not None and group not in source.slides:
            return
        mpp = source.mpp if source.mpp is not None else _float(row.get("mpp"))
        if mpp is not None:
            self.mpps.add(round(mpp, 6))
        view = f"{name}/s{index}-" + rel.split("/", 1)[1].replace("/", "__") if self.multi else rel
        self.items.append(ScannedItem(f, view, name, group, index, side, tuple(row.items())))


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def scan_sources(
    sources: list[DataSource],
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
    slide_id: SlideIdRule = AUTO,
) -> DataScan:
    """Scan ``sources`` (classes mapped by name, slides by ``slide_id``); raises only for a
    missing folder, or a project none of whose slides gives patches. A project is exported
    to patch folders first (cached in the project; see :mod:`pathscaat.data.project_source`)."""
    if not sources:
        raise PathscaatError("no data sources: add a patch folder")
    folders: list[DataSource] = []
    notes: list[str] = []
    for source in sources:
        if source.kind == "project":  # exported to patch folders, one per slide
            from pathscaat.data.project_source import project_folders

            more, warnings = project_folders(source, on_progress, should_stop)
            folders += more
            notes += warnings
        else:
            folders.append(source)
    scanner = _Scanner(len(folders), on_progress, should_stop, slide_id)
    scanner.warnings += notes
    for index, folder in enumerate(folders):
        scanner.folder(index, folder)
    return _summarise(sources, scanner)


def _summarise(sources: list[DataSource], s: _Scanner) -> DataScan:
    items = sorted(s.items, key=lambda i: (i.class_name, Path(i.rel_path)))
    counts = Counter(i.class_name for i in items)
    names = sorted(counts)
    groups = {c: sorted({i.group for i in items if i.class_name == c and i.group}) for c in names}
    samples = {c: [i.path for i in items if i.class_name == c][:SAMPLES] for c in names}
    sides = Counter(i.side_px for i in items)
    warnings = list(s.warnings) + _class_warnings(counts, s)
    id_warning = _id_warning(items, s.rule)
    warnings += [id_warning] if id_warning else []
    if s.unreadable:
        warnings.append(f"{len(s.unreadable)} unreadable images skipped (listed)")
    if len(sides) > 1:
        shown = ", ".join(f"{px} px: {n}" for px, n in sorted(sides.items()))
        warnings.append(f"patches come in {len(sides)} sizes ({shown}); each is resized")
    if len(s.mpps) > 1:
        warnings.append(f"the sources differ in µm/px ({sorted(s.mpps)}); give one scale")
    why_not = _why_not(sources, counts, s)
    clean = len(sources) == 1 and sources[0].slides is None and sources[0].kind == "folder"
    direct = clean and not s.unreadable and not s.empty_classes
    return DataScan(
        class_names=names,
        counts_per_class={c: counts[c] for c in names},
        groups=groups,
        unreadable=s.unreadable,
        warnings=warnings,
        sample_paths=samples,
        can_train=not why_not,
        why_not=why_not,
        patch_mpp=next(iter(s.mpps)) if len(s.mpps) == 1 else None,
        patch_px=next(iter(sides)) if len(sides) == 1 else None,
        sources=list(sources),
        items=items,
        direct_root=sources[0].path if direct else None,
        slide_id=s.rule,
        slide_id_warning=id_warning,
    )


def _class_warnings(counts: Counter[str], s: _Scanner) -> list[str]:
    few = [f"{c} {n}" for c, n in sorted(counts.items()) if n < MIN_PER_CLASS]
    out = []
    if few:
        out.append(
            f"classes with fewer than {MIN_PER_CLASS} tiles (their metrics will be noisy): "
            + ", ".join(few)
        )
    if s.empty_classes:
        out.append(f"class folders without images left out: {', '.join(s.empty_classes)}")
    if len(counts) >= 2 and max(counts.values()) > IMBALANCE * min(counts.values()):
        big, small = counts.most_common()[0], counts.most_common()[-1]
        out.append(
            f"strong class imbalance: {big[0]} has {big[1]} tiles, {small[0]} only {small[1]}"
        )
    return out


def _id_warning(items: list[ScannedItem], rule: SlideIdRule) -> str:
    missing = sum(1 for i in items if not i.group)
    return missing_id_warning(missing, len(items), rule) if missing else ""


def regroup(scan: DataScan, rule: SlideIdRule) -> DataScan:
    """``scan`` with each tile's slide read by ``rule`` (no image is read again)."""
    items = [replace(i, group=rule.slide_of(i.path.name, dict(i.manifest_row)))
             for i in scan.items]  # fmt: skip
    names = scan.class_names
    groups = {c: sorted({i.group for i in items if i.class_name == c and i.group}) for c in names}
    id_warning = _id_warning(items, rule)
    warnings = [w for w in scan.warnings if w != scan.slide_id_warning]
    warnings += [id_warning] if id_warning else []
    return replace(scan, items=items, groups=groups, warnings=warnings, slide_id=rule,
                   slide_id_warning=id_warning)  # fmt: skip


def _why_not(sources: list[DataSource], counts: Counter[str], s: _Scanner) -> str:
    where = ", ".join(str(src.path) for src in sources)
    if not counts:
        found = f" ({len(s.unreadable)} unreadable)" if s.unreadable else ""
        return (
            f"no readable images found in {where}{found}: put .png/.jpg/.tif patches in one "
            "sub-folder per class"
        )
    if len(counts) < 2:
        return (
            f"only one class ({next(iter(counts))}) found in {where}: a classifier needs at "
            "least two class sub-folders"
        )
    return ""
