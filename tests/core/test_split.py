"""Group-aware splits: no slide in two subsets; manifest and per-file fallbacks."""

from __future__ import annotations

from pathlib import Path

from pathscaat.data.patch_folder import PatchItem, scan_items
from pathscaat.data.split import SLIDE_TOKEN, Split, make_split


def test_kather2016_split_by_slide(kather2016: Path, tmp_path: Path) -> None:
    _, items = scan_items(kather2016)
    split = make_split(kather2016, items, 0.15, 0.15, seed=0)
    assert split.group_by == "slide-token" and split.n_groups == 10
    slides = {
        name: {SLIDE_TOKEN.findall(p)[0] for p in getattr(split, name)}
        for name in ("train", "val", "test")
    }
    assert not (slides["train"] & slides["test"]) and not (slides["val"] & slides["test"])
    assert not (slides["train"] & slides["val"])
    assert sum(split.counts().values()) == 1600 and all(split.counts().values())
    again = Split.load(split.save(tmp_path / "split.json"))
    assert again == split and make_split(kather2016, items, seed=0) == split
    assert make_split(kather2016, items, seed=1) != split


def test_manifest_slide_column(tmp_path: Path) -> None:
    items = [PatchItem(f"c{i % 2}/t{i}.png", i % 2, 1) for i in range(40)]
    rows = ["file,slide"] + [f"{it.rel_path},S{i // 4}" for i, it in enumerate(items)]
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    split = make_split(tmp_path, items, 0.2, 0.2, seed=3)
    assert split.group_by == "manifest" and split.n_groups == 10
    slide_of = {it.rel_path: i // 4 for i, it in enumerate(items)}
    seen = [{slide_of[p] for p in part} for part in (split.train, split.val, split.test)]
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])
    assert split.counts() == {"train": 24, "val": 8, "test": 8}


def test_per_file_split_is_stratified_and_keeps_tiny_classes_in_train(tmp_path: Path) -> None:
    items = [PatchItem(f"a/{i}.png", 0, 1) for i in range(20)] + [PatchItem("b/0.png", 1, 1)]
    split = make_split(tmp_path, items, 0.25, 0.25)
    assert split.group_by == "file"
    assert "b/0.png" in split.train
    assert split.counts() == {"train": 11, "val": 5, "test": 5}
