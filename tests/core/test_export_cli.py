"""``pathscaat regions`` and ``pathscaat export`` on the real CMU slide and a real inference.

The commands must give what the library gives (same regions, files readable by our own
readers), JSON-lines progress ending in one result, and one-line errors with exit 1.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from pathscaat.annotations.io import read_annotations, write_annotations
from pathscaat.annotations.regions import OverlayRasters, RegionDefaults, regions_from_overlay
from pathscaat.cli.main import main
from tests.core.test_export import annotations
from tests.core.test_regions import (  # noqa: F401  (session fixtures used below)
    cmu_infer,
    ring_raster,
    tiny_ckpt,
    write_set,
)

CMU_MPP = 0.499


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pathscaat: error:"), lines
    return lines[0]


@pytest.mark.slow
def test_regions_command_writes_what_the_library_finds(
    cmu_infer, tmp_path: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    slide, out = cmu_infer
    sal = OverlayRasters(out).codes("saliency")
    threshold = f"{float(np.percentile(sal[sal > 0], 75)) / 255:.3f}"
    target = tmp_path / "regions.geojson"
    argv = ["regions", str(slide), "--overlays", str(out.root), "--layer", "saliency",
            "--threshold", threshold, "--min-area-um2", "20", "--out", str(target),
            "--progress", "json"]  # fmt: skip
    assert main(argv) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[-1]["type"] == "result" and events[-1]["out"] == str(target)
    layer = OverlayRasters(out).layer("saliency")
    smooth = RegionDefaults.for_layer(layer.info).smooth_um  # the CLI's default, as the app's
    want = regions_from_overlay(layer, float(threshold), 20.0, mpp=CMU_MPP, smooth_um=smooth)
    got = read_annotations(target).annotations
    assert events[-1]["regions"] == len(got) == len(want) > 0
    for a, b in zip(got, want, strict=True):
        assert a.geometry.area == pytest.approx(b.geometry.area, rel=1e-9)
        assert a.class_name == b.class_name
        assert a.measurements["Saliency share"] == pytest.approx(b.measurements["Saliency share"])


def test_regions_command_errors_are_one_line(
    cmu_svs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay_set = write_set(tmp_path, {"tumour": ring_raster()}, None)  # for 1280 x 960 px
    base = ["regions", str(cmu_svs), "--overlays", str(tmp_path), "--threshold", "0.5",
            "--min-area-um2", "0", "--out", str(tmp_path / "r.geojson")]  # fmt: skip
    assert main([*base, "--layer", "prob_tumour"]) == 1
    assert "made for a 1280 x 960 px slide" in one_error_line(capsys)
    overlay_set.slide_dims = (2220, 2967)  # now it is this slide's
    overlay_set.save()
    assert main([*base, "--layer", "nope"]) == 1
    assert "no overlay layer 'nope'" in one_error_line(capsys)
    with pytest.raises(SystemExit) as usage:
        main([*base[:-4], "--threshold", "2", "--layer", "prob_tumour"])
    assert usage.value.code == 2
    assert not (tmp_path / "r.geojson").exists()


@pytest.mark.slow
def test_export_command_writes_every_output_and_resumes(
    cmu_infer, tmp_path: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    slide, out = cmu_infer
    source = tmp_path / "in.geojson"
    anns = annotations()
    write_annotations(source, anns)
    dest = tmp_path / "export"
    argv = ["export", str(slide), "--annotations", str(source), "--out", str(dest),
            "--crops", "--csv", "--report", "--patches", "--geojson", "--asap", "--outline",
            "--mpp", "2", "--size", "32", "--overlays", str(out.root),
            "--progress", "json"]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert result["type"] == "result" and result["annotations"] == len(anns)
    assert set(result["outputs"]) == {"crops", "csv", "report", "patches", "geojson", "asap"}
    stem = slide.stem
    for name in (f"{stem}.csv", f"{stem}.html", f"{stem}.geojson", f"{stem}.xml",
                 "patches/manifest.csv"):  # fmt: skip
        assert (dest / name).is_file(), name
    ring = anns[0].id
    assert {p.name for p in (dest / "crops").glob(f"*{ring}*")} == {
        f"Tumor_{ring}{s}" for s in (".png", "_mask.png", "_outline.png", "_saliency.png")
    }
    assert len(read_annotations(dest / f"{stem}.geojson").annotations) == len(anns)
    assert len(read_annotations(dest / f"{stem}.xml").annotations) == len(anns)
    report = (dest / f"{stem}.html").read_text()
    assert report.count('id="region-') == 3 and ring not in report
    with (dest / f"{stem}.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    classes = [o.class_name for o in out.overlays if o.kind == "probability"]
    for row in rows:  # every annotation measured, hand-drawn or not, the point included
        means = [float(row[f"Mean prob {c}"]) for c in classes]
        assert sum(means) == pytest.approx(1.0, abs=0.03) or all(map(math.isnan, means))
        assert 0 <= float(row["Saliency share"]) <= 1
    assert any(not math.isnan(float(r[f"Mean prob {classes[0]}"])) for r in rows)
    crops_before = {p: p.stat().st_mtime_ns for p in (dest / "crops").iterdir()}
    assert main(argv) == 0  # a second run finds the crops and patches done
    assert {p: p.stat().st_mtime_ns for p in (dest / "crops").iterdir()} == crops_before


def test_export_command_errors_are_one_line(
    cmu_svs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["export", str(cmu_svs), "--out", str(tmp_path / "out"), "--csv"]
    assert main([*base, "--annotations", str(tmp_path / "missing.geojson")]) == 1
    assert "missing.geojson" in one_error_line(capsys)
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    assert main([*base, "--annotations", str(empty)]) == 1
    assert "no annotations" in one_error_line(capsys)


@pytest.mark.slow
def test_export_measures_from_the_runs_a_project_recorded(
    cmu_infer, tmp_path: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    from pathscaat.project import Project

    slide, out = cmu_infer
    source = tmp_path / "in.geojson"
    write_annotations(source, annotations())
    argv = ["export", str(slide), "--annotations", str(source), "--csv", "--progress", "none",
            "--project", str(tmp_path / "proj")]  # fmt: skip
    with Project.create(tmp_path / "proj") as project:
        pass
    assert main([*argv, "--out", str(tmp_path / "a")]) == 1
    assert "not a slide of the project" in one_error_line(capsys)
    with Project.open(tmp_path / "proj") as project:
        project.add_slide(slide)
        project.add_inference(out.root)
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    with (tmp_path / "b" / f"{slide.stem}.csv").open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    classes = [o.class_name for o in out.overlays if o.kind == "probability"]
    assert {f"Mean prob {c}" for c in classes} | {"Saliency share"} <= set(header)
