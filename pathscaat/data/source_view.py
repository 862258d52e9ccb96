"""The folder a scanned data set trains from: the source itself, or a view of links.

One clean patch folder trains where it is. Several sources, a slide filter, or unreadable
files among good ones give a *view*: ``OUT/dataset/<class>/<file>`` links (copies where
the file system has no links) to the readable images only, and a ``manifest.csv`` of their
slides, so the ordinary patch-folder reader and split see one folder. The view is marked,
and only a marked folder is ever rewritten.
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from pathscaat.data.patch_folder import PatchItem
from pathscaat.data.sources import DataScan, ScannedItem
from pathscaat.data.split import VIEW_MARKER
from pathscaat.progress import PathscaatError

MARKER = VIEW_MARKER  # its manifest's slide column holds the slides the scan's rule read


def view_groups(items: Sequence[ScannedItem]) -> tuple[list[str], str] | None:
    """The groups the view's manifest gives, or None (no slide anywhere: split per file)."""
    if not any(i.group for i in items):
        return None
    return [i.group or f"file:{i.rel_path}" for i in items], "manifest"


def scan_items(scan: DataScan) -> list[PatchItem]:
    """The scan's images as the trainer's reader will list them (labels by class name)."""
    label = {name: k for k, name in enumerate(scan.class_names)}
    return [PatchItem(i.rel_path, label[i.class_name], 0) for i in scan.items]


def _link(target: Path, link: Path) -> None:
    """``link`` -> ``target``, replaced atomically (ranks may write the same view at once)."""
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    try:
        os.symlink(target, tmp)
    except OSError:  # no symlinks here (Windows without the right): a copy
        shutil.copyfile(target, tmp)
    os.replace(tmp, link)


def _write_manifest(dest: Path, items: Sequence[ScannedItem]) -> None:
    path = dest / "manifest.csv"
    grouped = view_groups(items)
    if grouped is None:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(f".manifest.{os.getpid()}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "slide", "source"])
        for item, group in zip(items, grouped[0], strict=True):
            writer.writerow([item.rel_path, group, str(item.path)])
    os.replace(tmp, path)


def _clear_stale(dest: Path, keep: set[str]) -> None:
    for path in dest.rglob("*"):
        rel = path.relative_to(dest).as_posix()
        if path.is_symlink() and rel not in keep:
            path.unlink(missing_ok=True)


def training_root(scan: DataScan, dest: Path) -> Path:
    """The folder to train on: the clean source itself, else a view written to ``dest``."""
    if not scan.can_train:
        raise PathscaatError(scan.why_not)
    if scan.direct_root is not None:
        return scan.direct_root
    if dest.exists() and any(dest.iterdir()) and not (dest / MARKER).is_file():
        raise PathscaatError(
            f"{dest} exists and is not a data view PathSCAAT wrote; choose another output folder"
        )
    try:
        dest.mkdir(parents=True, exist_ok=True)
        (dest / MARKER).write_text("links to the run's readable images\n", encoding="utf-8")
        _clear_stale(dest, {i.rel_path for i in scan.items})
        for item in scan.items:
            _link(item.path.resolve(), dest / item.rel_path)
        _write_manifest(dest, scan.items)
    except OSError as exc:
        raise PathscaatError(
            f"cannot write the data view {dest}: {exc.strerror or exc}; choose an output "
            "folder you can write to"
        ) from exc
    return dest
