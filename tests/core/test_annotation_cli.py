"""``pathscaat annotations convert``: real QuPath file through ASAP and CSV, errors, usage."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from pathscaat.annotations.io import read_annotations
from pathscaat.cli.main import main


def test_convert_qupath_to_asap_and_back(shared_data: Path, tmp_path: Path, cmu_svs: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    src = shared_data / "annotations" / "qupath05.geojson"
    asap = tmp_path / "regions.xml"
    assert main(["annotations", "convert", str(src), str(asap), "--slide", str(cmu_svs)]) == 0
    out = capsys.readouterr().out
    assert f"read 3 objects from {src} (qupath frame)" in out
    assert f"wrote 3 objects to {asap}" in out
    back = tmp_path / "back.geojson"
    assert main(["annotations", "convert", str(asap), str(back), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["read"], summary["skipped"], summary["frame"]) == (3, [], "level0")
    original = read_annotations(src).annotations
    again = read_annotations(back).annotations
    assert [a.name for a in again] == [a.name for a in original]
    assert all(a.geometry.equals(b.geometry) for a, b in zip(again, original, strict=True))


def test_convert_reports_skipped_items(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ring = [[0, 0], [10, 0], [10, 10], [0, 0]]
    good = {"type": "Feature", "id": str(uuid.uuid4()), "properties": {"name": "ok"},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}
    bad = {**good, "id": str(uuid.uuid4()), "properties": {"objectType": "root"}}
    src = tmp_path / "in.geojson"
    src.write_text(json.dumps([good, bad]), encoding="utf-8")
    assert main(["annotations", "convert", str(src), str(tmp_path / "out.csv")]) == 0
    out = capsys.readouterr().out
    assert "read 1 objects" in out and "skipped: feature 1: unknown objectType 'root'" in out


def test_convert_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "broken.geojson"
    src.write_text("{not json", encoding="utf-8")
    assert main(["annotations", "convert", str(src), str(tmp_path / "o.xml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pathscaat: error: ") and err.count("\n") == 1 and str(src) in err
    assert main(["annotations", "convert", str(src), str(src)]) == 1
    assert "is the input file" in capsys.readouterr().err


def test_annotations_without_action_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["annotations"]) == 2
    assert "convert" in capsys.readouterr().out
