"""The wizard's data page in the core: scanning sources, bad data, the split preview."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import shapely
from PIL import Image
from shapely.geometry import Polygon

from pathscaat.data.data_source import DataSource
from pathscaat.data.source_view import training_root
from pathscaat.data.sources import scan_sources
from pathscaat.data.split import Split, preview_split
from pathscaat.models import load_checkpoint
from pathscaat.progress import PathscaatError
from pathscaat.training import ScaatConfig, TrainConfig, train
from tests.core.tiny_kather import write_tiny_kather


@pytest.fixture(scope="module")
def tiny(kather_mini: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_kather(kather_mini, tmp_path_factory.mktemp("tiny"), per_class=6, px=32)


def _folder(path: Path) -> list[DataSource]:
    return [DataSource("folder", path)]


def test_scan_of_kather_mini_counts_classes_and_warns(kather_mini: Path) -> None:
    scan = scan_sources(_folder(kather_mini))
    assert scan.can_train and scan.why_not == "" and scan.direct_root == kather_mini
    assert scan.counts_per_class == {
        "ADI": 15,
        "BACK": 1,
        "DEB": 5,
        "LYM": 14,
        "MUC": 15,
        "MUS": 15,
        "NORM": 14,
        "STR": 15,
        "TUM": 15,
    }  # fmt: skip  (the README's counts)
    assert scan.patch_px == 224 and not scan.unreadable and not scan.has_groups
    assert all(0 < len(v) <= 8 and v[0].is_file() for v in scan.sample_paths.values())
    text = " ".join(scan.warnings)
    assert "BACK 1" in text and "imbalance" in text and "no slide id" in text
    preview = preview_split(scan, 0.2, 0.2, seed=0)
    assert preview.group_by == "file" and "leaks" in preview.warnings[0]
    assert sum(preview.sizes.values()) == 109
    assert any("no BACK" in w for w in preview.warnings)  # one BACK tile: train only


@pytest.mark.parametrize(
    ("layout", "why"),
    [
        ({}, "no readable images"),
        ({"A": ["a.png", "b.png"]}, r"only one class \(A\)"),
        ({"A": ["a.txt"], "B": ["b.csv"]}, "no readable images"),
        ({"A": ["a.jpg"], "B": ["b.jpg"]}, "no readable images found in .* \\(2 unreadable\\)"),
    ],
)
def test_bad_folders_cannot_train_and_say_why(
    tmp_path: Path, layout: dict[str, list[str]], why: str
) -> None:
    for cls, names in layout.items():
        (tmp_path / cls).mkdir()
        for name in names:
            if name.endswith(".png"):
                Image.new("RGB", (8, 8)).save(tmp_path / cls / name)
            else:
                (tmp_path / cls / name).write_text("not an image")
    scan = scan_sources(_folder(tmp_path))
    assert not scan.can_train
    assert re.search(why, scan.why_not), scan.why_not
    with pytest.raises(PathscaatError, match=why):
        training_root(scan, tmp_path / "view")


def test_missing_folder_and_project_source_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(PathscaatError, match="patch folder not found"):
        scan_sources(_folder(tmp_path / "absent"))
    with pytest.raises(PathscaatError):  # not a project
        scan_sources([DataSource("project", tmp_path)])
    with pytest.raises(PathscaatError, match="kind must be one of"):
        DataSource("zip", tmp_path)


def _slide_tiles(root: Path, slides: int, per_slide: int) -> Path:
    """Tiles named with Kather's slide token: two classes on every slide."""
    for s in range(slides):
        for cls, colour in (("A", (200, 50, 50)), ("B", (50, 50, 200))):
            (root / cls).mkdir(parents=True, exist_ok=True)
            for k in range(per_slide):
                name = f"t{k}_CRC-Prim-HE-{s:02d}.png"
                Image.new("RGB", (16, 16), colour).save(root / cls / name)
    return root


def test_preview_splits_by_slide_like_the_trainer(tmp_path: Path) -> None:
    scan = scan_sources(_folder(_slide_tiles(tmp_path / "d", slides=6, per_slide=3)))
    assert scan.has_groups and scan.groups["A"] == [f"CRC-Prim-HE-{s:02d}" for s in range(6)]
    preview = preview_split(scan, 0.2, 0.2, seed=1)
    assert preview.group_by == "slide-token" and preview.n_groups == 6
    assert preview.split is not None
    by_subset = {
        name: {p.split("_", 1)[1] for p in getattr(preview.split, name)}
        for name in ("train", "val", "test")
    }
    assert not by_subset["train"] & by_subset["test"] and not by_subset["val"] & by_subset["test"]
    per_file = preview_split(scan, 0.2, 0.2, seed=1, by_group=False)
    assert per_file.group_by == "file" and "leaks" in per_file.warnings[0]
    only = scan_sources([DataSource("folder", tmp_path / "d", slides=["CRC-Prim-HE-01"])])
    assert only.counts_per_class == {"A": 3, "B": 3} and only.direct_root is None


@pytest.mark.slow
def test_two_sources_with_corrupt_tiles_train_by_class_name(tiny: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for cls in ("ADI", "LYM"):
        shutil.copytree(tiny / cls, first / cls)
    for cls in ("LYM", "TUM"):
        shutil.copytree(tiny / cls, second / cls)
    good = next((second / "TUM").iterdir()).read_bytes()
    (second / "TUM" / "broken.jpg").write_bytes(good[: len(good) // 3])  # truncated
    (second / "TUM" / "empty.png").write_bytes(b"")
    sources = [DataSource("folder", first), DataSource("folder", second)]
    scan = scan_sources(sources)
    assert scan.class_names == ["ADI", "LYM", "TUM"]
    assert scan.counts_per_class == {"ADI": 6, "LYM": 12, "TUM": 6}
    assert sorted(p.name for p, _ in scan.unreadable) == ["broken.jpg", "empty.png"]
    preview = preview_split(scan, 0.25, 0.0, seed=0)
    config = TrainConfig(
        data=first, sources=sources, backbone="test_resnet", out=tmp_path / "run", epochs=1,
        batch_size=6, lr=3e-3, img_size=32, device="cpu", val_fraction=0.25, test_fraction=0.0,
        scaat=ScaatConfig.for_objective("erm"), strip_count=3,
    )  # fmt: skip
    result = train(config)
    _, meta = load_checkpoint(result.best)
    assert meta.class_names == ["ADI", "LYM", "TUM"]
    assert meta.split["class_counts"] == preview.counts  # the preview is the run's split
    split = Split.load(tmp_path / "run" / "split.json")
    assert preview.split is not None and split.val == preview.split.val
    saved = json.loads((tmp_path / "run" / "run_config.json").read_text())
    assert [s["path"] for s in saved["sources"]] == [str(first), str(second)]
    assert (tmp_path / "run" / "strips" / "epoch_001.png").is_file()


def test_unwritable_output_is_a_clear_error(tiny: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    config = TrainConfig(data=tiny, backbone="test_resnet", out=blocker / "run", device="cpu")
    with pytest.raises(PathscaatError, match="cannot write to the output folder"):
        train(config)


def _project(root: Path, slide: Path, stroma_apex_y: int) -> int:
    from pathscaat.annotations.model import Annotation, PathClass
    from pathscaat.project import DB_NAME, Project

    with Project.open(root) if (root / DB_NAME).exists() else Project.create(root) as p:
        record, _ = p.add_slide(slide)
        tumour, stroma = PathClass("Tumor", (200, 0, 0)), PathClass("Stroma", (0, 150, 0))
        p.replace_annotations(record.id, [
            Annotation(shapely.box(300, 400, 900, 1000), path_class=tumour),
            Annotation(Polygon([(1200, 1500), (1800, 1500), (1500, stroma_apex_y)]),
                       path_class=stroma),
        ])  # fmt: skip
        return record.id


def test_project_annotations_become_patches_cached_until_they_change(
    cmu_svs: Path, tmp_path: Path
) -> None:
    slide_id = _project(tmp_path / "proj", cmu_svs, 2300)
    source = [DataSource("project", tmp_path / "proj", mpp=2.0, tile_px=32)]
    scan = scan_sources(source)
    assert scan.can_train and scan.class_names == ["Stroma", "Tumor"]
    assert scan.has_groups and scan.groups["Tumor"] == [str(cmu_svs)]
    assert scan.patch_px == 32 and scan.patch_mpp == 2.0 and scan.direct_root is None
    cache = tmp_path / "proj" / "training-patches"
    assert len(list(cache.iterdir())) == 1
    assert scan_sources(source).counts_per_class == scan.counts_per_class  # reused
    _project(tmp_path / "proj", cmu_svs, 2600)  # a bigger stroma region: a new export
    bigger = scan_sources(source)
    assert bigger.counts_per_class["Stroma"] > scan.counts_per_class["Stroma"]
    assert len(list(cache.iterdir())) == 2
    none = [DataSource("project", tmp_path / "proj", slides=["other.svs"])]
    with pytest.raises(PathscaatError, match="no annotated slide"):
        scan_sources(none)
    assert scan_sources([DataSource("project", tmp_path / "proj", slides=[str(slide_id)],
                                    mpp=2.0, tile_px=32)]).can_train  # fmt: skip
