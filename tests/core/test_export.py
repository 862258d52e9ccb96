"""Exports on the real CMU-1-Small-Region.svs: crops, CSV table, HTML report, patches.

Annotations are drawn here in level-0 px (a ring, a triangle, an unclassified square, a
point); every check is against the slide itself, shapely, or the project's own readers
(PatchFolder, the split's manifest grouping).
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
import math
import re
from pathlib import Path

import numpy as np
import pytest
import shapely
import tifffile
from PIL import Image
from shapely.geometry import Point, Polygon

from pathscaat.annotations.export.crops import export_crops
from pathscaat.annotations.export.patches import export_patches
from pathscaat.annotations.export.report import write_report
from pathscaat.annotations.export.table import BASE_COLUMNS, readable, write_table
from pathscaat.annotations.model import Annotation, PathClass
from pathscaat.progress import JobCancelled, PathscaatError
from pathscaat.slides import open_slide

TUMOUR, STROMA = PathClass("Tumor", (200, 0, 0)), PathClass("Stroma", (0, 150, 0))


def annotations() -> list[Annotation]:
    ring = Polygon([(300, 400), (900, 400), (900, 1000), (300, 1000)],
                   [[(500, 600), (700, 600), (700, 800), (500, 800)]])  # fmt: skip
    return [
        Annotation(ring, path_class=TUMOUR, name="ring", measurements={"Score": 0.25}),
        Annotation(Polygon([(1200, 1500), (1800, 1500), (1500, 2300)]), path_class=STROMA),
        Annotation(shapely.box(100, 2500, 400, 2800), measurements={"Other": math.nan}),
        Annotation(Point(1000, 1000), path_class=TUMOUR, name="a point"),
    ]


@pytest.fixture(scope="module")
def slide(cmu_svs: Path):
    with open_slide(cmu_svs) as s:
        yield s


def test_crops_have_the_size_of_the_box_at_the_chosen_mpp(slide, tmp_path: Path) -> None:
    anns = annotations()
    res = export_crops(slide, anns, tmp_path, mpp=1.0, outline=True)
    assert res.written == 3 and res.resumed == 0
    assert len(res.skipped) == 1 and res.skipped[0].startswith(anns[3].id)
    ring_files = res.files[anns[0].id]
    assert [p.name for p in ring_files] == [f"Tumor_{anns[0].id}{s}" for s in
                                            (".png", "_mask.png", "_outline.png")]  # fmt: skip
    side = round(600 * slide.mpp.x / 1.0)  # 600 level-0 px at 0.499 µm/px, shown at 1 µm/px
    rgb = np.asarray(Image.open(ring_files[0]))
    mask = np.asarray(Image.open(ring_files[1]))
    assert rgb.shape == (side, side, 3) and mask.shape == (side, side)
    assert mask[side // 2, side // 2] == 0 and mask[side // 10, side // 10] == 255  # hole, ring
    assert (mask > 0).mean() == pytest.approx(anns[0].geometry.area / 600**2, abs=0.02)
    direct = slide.read_region((300, 400), 0, (600, 600))
    want = np.asarray(Image.fromarray(direct).resize((side, side), Image.Resampling.BOX), float)
    assert np.abs(rgb.astype(float) - want).mean() < 6  # the slide's own pixels, resized
    outline = np.asarray(Image.open(ring_files[2]))
    assert (np.abs(outline.astype(int) - rgb).sum(axis=2) > 0).any()
    tri = np.asarray(Image.open(res.files[anns[1].id][0]))
    assert tri.shape == (round(800 * slide.mpp.x), round(600 * slide.mpp.x), 3)


def test_crops_resume_after_cancel_and_write_tiff(slide, tmp_path: Path) -> None:
    anns = annotations()
    calls = iter(range(100))
    with pytest.raises(JobCancelled, match="run again"):
        export_crops(slide, anns, tmp_path, fmt="tiff", should_stop=lambda: next(calls) >= 1)
    first = sorted(p.name for p in tmp_path.iterdir())
    assert len(first) == 2 and not any(n.endswith(".tmp") for n in first)  # one region done
    res = export_crops(slide, anns, tmp_path, fmt="tiff")
    assert (res.resumed, res.written) == (1, 2)
    with tifffile.TiffFile(res.files[anns[0].id][0]) as tif:
        page = tif.pages[0]
        assert page.shape == (round(600 * slide.mpp.x / 0.5),) * 2 + (3,)
        x_res = page.tags["XResolution"].value
        assert x_res[0] / x_res[1] == pytest.approx(1e4 / 0.5)  # px per cm at 0.5 µm/px
    again = export_crops(slide, anns, tmp_path, fmt="tiff")
    assert (again.resumed, again.written) == (3, 0)


def test_table_numbers_agree_with_shapely(tmp_path: Path) -> None:
    anns, mpp = annotations(), 0.499
    anns[1] = dataclasses.replace(anns[1], measurements={"Area µm^2": 1.0, "Big": 30912.6})
    path = write_table(tmp_path / "t.csv", anns, mpp=mpp)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[: len(BASE_COLUMNS)] == list(BASE_COLUMNS)
    assert list(rows[0])[len(BASE_COLUMNS) :] == ["Score", "Big", "Other", "id"]  # one area
    for number, (ann, row) in enumerate(zip(anns, rows, strict=True), start=1):
        geom = ann.geometry
        assert row["number"] == str(number) and row["id"] == ann.id
        assert row["class"] == (ann.class_name or "")
        assert float(row["area_um2"]) == pytest.approx(geom.area * mpp * mpp, abs=0.05)
        assert float(row["perimeter_um"]) == pytest.approx(geom.length * mpp, abs=0.005)
        assert float(row["centroid_l0_x"]) == pytest.approx(geom.centroid.x, abs=0.05)
        assert float(row["centroid_y_um"]) == pytest.approx(geom.centroid.y * mpp, abs=0.005)
        assert [float(row[k]) for k in ("l0_min_x", "l0_min_y", "l0_max_x", "l0_max_y")] == (
            pytest.approx(list(geom.bounds), abs=0.05)
        )
        assert float(row["max_y_um"]) == pytest.approx(geom.bounds[3] * mpp, abs=0.005)
        assert all("e+" not in v and "e-" not in v for v in row.values() if v != ann.id)
    assert rows[0]["Score"] == "0.25" and rows[1]["Score"] == "" and rows[2]["Other"] == "NaN"
    assert rows[1]["Big"] == "30913" and rows[1]["centroid_l0_y"] == "1766.7"
    assert rows[0]["area_um2"] == f"{(600**2 - 200**2) * mpp**2:.1f}"
    assert float(rows[0]["perimeter_um"]) == pytest.approx((2400 + 800) * mpp)
    no_mpp = write_table(tmp_path / "n.csv", anns, mpp=None).read_text().splitlines()
    assert no_mpp[1].split(",")[4:6] == ["NaN", "NaN"]


def test_readable_numbers_keep_their_meaning() -> None:
    assert [readable(v) for v in (0.996078, 1e-5, 0.0, 123456789.4, 1.0)] == [
        "0.9961", "0.00001", "0", "123456789", "1"]  # fmt: skip
    assert readable(44072.0248, "area_um2") == "44072.0"
    assert readable(math.nan, "area_um2") == "NaN"
    assert readable(1160.868, "perimeter_um") == "1160.87"


def test_report_is_self_contained_and_lists_every_region(slide, tmp_path: Path) -> None:
    anns = annotations()
    path = write_report(tmp_path / "r.html", slide, anns)
    text = path.read_text(encoding="utf-8")
    for number, ann in enumerate(anns, start=1):
        assert f'id="row-{number}"' in text and ann.id not in text  # numbered, no UUID
    assert text.count('id="region-') == 3  # the point has no crop
    sources = re.findall(r'src="([^"]+)"', text)
    assert len(sources) == 4 and all(s.startswith("data:image/jpeg;base64,") for s in sources)
    thumb = Image.open(io.BytesIO(base64.b64decode(sources[0].split(",", 1)[1])))
    assert thumb.size[0] / thumb.size[1] == pytest.approx(2220 / 2967, rel=0.01)
    assert "@media print" in text and "ring" in text and "http" not in text.replace(
        "https://", ""
    )


def expected_tiles(anns: list[Annotation], l0_side: float, min_overlap: float) -> dict[str, int]:
    """Tiles on the slide's lattice that lie ``min_overlap`` inside a class: by brute force."""
    counts: dict[str, int] = {}
    n_x, n_y = int(2220 // l0_side), int(2967 // l0_side)
    for i in range(n_x):
        for j in range(n_y):
            x, y = round(i * l0_side), round(j * l0_side)  # the grid's integer corners
            tile = shapely.box(x, y, x + l0_side, y + l0_side)
            share: dict[str, float] = {}
            for a in anns:
                if a.class_name and a.geometry.area > 0:
                    inside = tile.intersection(a.geometry).area / tile.area
                    share[a.class_name] = share.get(a.class_name, 0.0) + inside
            if share and max(share.values()) >= min_overlap:
                best = max(share, key=lambda k: share[k])
                counts[best] = counts.get(best, 0) + 1
    return counts


@pytest.mark.slow
def test_patches_land_in_class_folders_that_patch_folder_reads(
    cmu_svs: Path, tmp_path: Path
) -> None:
    from pathscaat.data.patch_folder import PatchFolder
    from pathscaat.data.split import item_groups

    anns = annotations()
    res = export_patches(cmu_svs, anns, tmp_path, mpp=2.0, tile_px=32, min_overlap=0.6)
    l0_side = 32 * 2.0 / 0.499
    assert res.per_class == expected_tiles(anns, l0_side, 0.6)
    assert len(res.skipped) == 2  # the unclassified square and the point
    data = PatchFolder(tmp_path)
    assert data.classes == ["Stroma", "Tumor"]
    assert len(data) == sum(res.per_class.values())
    assert data[0]["image"].shape == (3, 32, 32)
    groups, rule = item_groups(data.image_root, data.items)
    assert rule == "manifest" and set(groups) == {str(cmu_svs)}
    rows = res.manifest.read_text().splitlines()
    again = export_patches(cmu_svs, anns, tmp_path, mpp=2.0, tile_px=32, min_overlap=0.6)
    assert again.manifest.read_text().splitlines() == rows  # resumed: nothing rewritten
    with pytest.raises(PathscaatError, match="no classified polygon"):
        export_patches(cmu_svs, anns[2:], tmp_path / "none", mpp=2.0, tile_px=32)
    tiny = [Annotation(shapely.box(10, 10, 60, 60), path_class=TUMOUR)]
    with pytest.raises(PathscaatError, match="no 32 px tile"):
        export_patches(cmu_svs, tiny, tmp_path / "none", mpp=2.0, tile_px=32)


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_every_export_gets_the_mode_the_umask_asks_for(slide, cmu_svs: Path, tmp_path: Path,
                                                        mask: int) -> None:  # fmt: skip
    """GeoJSON was written 0600 (a temp file's mode) beside 0644 CSVs: all follow the umask."""
    import os

    from pathscaat.annotations.io import write_annotations

    anns = annotations()
    old = os.umask(mask)
    try:
        for fmt, name in (("geojson", "a.geojson"), ("asap", "a.xml"), ("csv", "a.csv")):
            write_annotations(tmp_path / name, anns[:3], fmt=fmt)
        write_table(tmp_path / "table.csv", anns, mpp=0.499)
        write_report(tmp_path / "report.html", slide, anns[:2], max_crops=2)
        export_crops(slide, anns[:2], tmp_path / "crops", mpp=4.0)
        export_patches(cmu_svs, anns[:2], tmp_path / "patches", mpp=2.0, tile_px=64)
    finally:
        os.umask(old)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) > 8 and not [p for p in files if p.name.endswith(".tmp")]
    modes = {p.relative_to(tmp_path).as_posix(): oct(p.stat().st_mode & 0o777) for p in files}
    assert set(modes.values()) == {oct(0o666 & ~mask)}, modes
