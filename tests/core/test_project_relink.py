"""Relink: a slide moved under a search folder is found again by size and quick hash."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from pathscaat.project import Project
from pathscaat.project.relink import CHUNK_BYTES, quick_hash


def _big_slide(path: Path, seed: int) -> Path:
    """A noise PNG over 2 MiB, so the quick hash reads both its first and its last MiB."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.random.default_rng(seed).integers(0, 255, (900, 1000, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path, compress_level=0)
    assert path.stat().st_size > 2 * CHUNK_BYTES
    return path


def test_quick_hash_sees_the_tail_and_the_size(tmp_path: Path) -> None:
    data = bytearray(np.random.default_rng(1).integers(0, 255, 3 * CHUNK_BYTES, np.uint8))
    (tmp_path / "a").write_bytes(data)
    data[-1] ^= 0xFF
    (tmp_path / "b").write_bytes(data)
    (tmp_path / "c").write_bytes(data[: CHUNK_BYTES // 2])
    (tmp_path / "d").write_bytes(data[: CHUNK_BYTES // 2] + b"\0")
    hashes = {quick_hash(tmp_path / n) for n in "abcd"}
    assert len(hashes) == 4


def test_moved_slide_is_relinked_and_a_decoy_is_not(tmp_path: Path) -> None:
    slide = _big_slide(tmp_path / "data" / "in" / "slide one.png", seed=0)
    with Project.create(tmp_path / "proj") as project:
        record, _ = project.add_slide(slide)
    moved = tmp_path / "data" / "elsewhere" / "deeper" / "renamed.png"
    moved.parent.mkdir(parents=True)
    shutil.move(slide, moved)
    decoy = tmp_path / "data" / "decoy.png"  # same size, other content
    decoy.write_bytes(bytes(reversed(moved.read_bytes())))
    with Project.open(tmp_path / "proj") as project:
        (lost,) = project.slides()
        assert not lost.found and lost.path == slide
        assert project.relink([tmp_path / "proj"]) == {}  # not under this folder
        assert project.relink([tmp_path / "data"]) == {record.id: moved}
        assert project.slide(record.id).found
    with Project.open(tmp_path / "proj") as project:  # the new place was committed
        (found,) = project.slides()
        assert found.found and found.path == moved
        assert found.stored_path == "../data/elsewhere/deeper/renamed.png"
        assert project.add_slide(moved) == (found, False)  # no duplicate


def test_two_identical_copies_are_not_guessed_between(tmp_path: Path) -> None:
    slide = _big_slide(tmp_path / "s.png", seed=2)
    with Project.create(tmp_path / "proj") as project:
        project.add_slide(slide)
        (tmp_path / "search").mkdir()
        shutil.copy(slide, tmp_path / "search" / "copy1.png")
        shutil.move(slide, tmp_path / "search" / "copy2.png")
        assert project.relink([tmp_path / "search"]) == {}
        assert not project.slides()[0].found


def test_readding_a_moved_slide_updates_its_path(tmp_path: Path) -> None:
    slide = _big_slide(tmp_path / "s.png", seed=3)
    with Project.create(tmp_path / "proj") as project:
        record, _ = project.add_slide(slide)
        moved = tmp_path / "t.png"
        shutil.move(slide, moved)
        again, added = project.add_slide(moved)
        assert not added and again.id == record.id and again.path == moved and again.found
