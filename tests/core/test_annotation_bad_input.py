"""Annotation files as real tools and broken exporters write them: invalid shapes are
repaired (and counted), features that cannot be read are skipped with their reason, and no
file makes a reader or writer raise anything but one AnnotationFileError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pathscaat.annotations.io import AnnotationFileError, read_annotations, write_annotations

BOWTIE = [[0, 0], [100, 100], [100, 0], [0, 100], [0, 0]]
SQUARE = [[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]]


def _feature(coords: Any, kind: str = "Polygon", name: str = "a") -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": kind, "coordinates": coords},
        "properties": {"objectType": "annotation", "name": name},
    }


def _collection(path: Path, *features: Any) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


def _strict(text: str) -> Any:
    def refuse(token: str) -> Any:
        raise AssertionError(f"{token} in output: not valid JSON")

    return json.loads(text, parse_constant=refuse)


def _halo(regions: str) -> str:
    return f"""<Annotations><Annotation Name="Tumour" LineColor="255"><Regions>
{regions}</Regions></Annotation></Annotations>"""


def _region(points: list[list[float]], negative: bool = False, kind: str = "Polygon") -> str:
    vs = "".join(f'<V X="{x}" Y="{y}"/>' for x, y in points)
    return f'<Region Type="{kind}" NegativeROA="{int(negative)}"><Vertices>{vs}</Vertices></Region>'


def test_halo_self_intersecting_shapes_and_holes_are_repaired(tmp_path: Path) -> None:
    # a figure-eight positive, a hole touching the shell, and a self-intersecting hole:
    # real HALO exports have all three, and GEOS refuses to cut holes from invalid shapes
    shell = [[0, 0], [1000, 0], [1000, 1000], [0, 1000]]
    figure8 = [[2000, 0], [3000, 1000], [3000, 0], [2000, 1000]]
    hole_touching = [[0, 0], [200, 100], [100, 200]]
    hole_bowtie = [[400, 400], [600, 600], [600, 400], [400, 600]]
    hole_in_8 = [[2100, 300], [2300, 500], [2300, 300], [2100, 500]]
    text = _halo(
        _region(shell) + _region(figure8) + _region(hole_touching, True)
        + _region(hole_bowtie, True) + _region(hole_in_8, True)
    )
    path = tmp_path / "real.annotations"
    path.write_text(text)
    result = read_annotations(path)
    assert len(result.annotations) == 2
    assert all(a.geometry.is_valid and not a.geometry.is_empty for a in result.annotations)
    assert len(result.repaired) == 3, result.repaired  # the figure-eight and two holes
    assert "Self-intersection" in result.repaired[0]
    assert "repaired 3 invalid shapes" in result.repaired_text()
    main = result.annotations[0].geometry
    assert main.area == pytest.approx(1000 * 1000 - 15000 - 20000)  # both holes cut
    out = tmp_path / "out.geojson"
    write_annotations(out, result.annotations)
    assert len(_strict(out.read_text())["features"]) == 2


def test_imagescope_hole_covering_a_region_skips_it_with_the_reason(tmp_path: Path) -> None:
    vs = "".join(f'<Vertex X="{x}" Y="{y}"/>' for x, y in SQUARE[:4])
    big = "".join(f'<Vertex X="{x}" Y="{y}"/>' for x, y in [[-5, -5], [200, -5], [200, 200]])
    path = tmp_path / "scope.xml"
    path.write_text(
        '<Annotations><Annotation Name="T"><Regions>'
        f'<Region Type="0"><Vertices>{vs}</Vertices></Region>'
        f'<Region Type="0"><Vertices>{vs.replace("100", "300")}</Vertices></Region>'
        f'<Region Type="0" NegativeROA="1"><Vertices>{big}[-5, 200]</Vertices></Region>'
        "</Regions></Annotation></Annotations>".replace("[-5, 200]", '<Vertex X="-5" Y="200"/>')
    )
    result = read_annotations(path)
    assert len(result.annotations) == 1
    assert any("negative regions cover all of it" in s for s in result.skipped)


@pytest.mark.parametrize(
    ("value", "why"),
    [("NaN", "not a finite number"), ("Infinity", "not a finite number"),
     ("-Infinity", "not a finite number"), ("1e300", "far outside any slide")],
)  # fmt: skip
def test_non_finite_and_huge_coordinates_skip_the_feature(
    tmp_path: Path, value: str, why: str
) -> None:
    src = _collection(tmp_path / "in.geojson", _feature([[[0, 0], [7777, 5], [5, 5], [0, 0]]]),
                      _feature([SQUARE], name="good"))  # fmt: skip
    src.write_text(src.read_text().replace("7777", value))
    result = read_annotations(src)
    assert [a.name for a in result.annotations] == ["good"]
    assert len(result.skipped) == 1 and why in result.skipped[0]
    assert result.skipped[0].startswith("feature 0:")
    for suffix in (".geojson", ".csv", ".xml"):
        out = tmp_path / f"out{suffix}"
        write_annotations(out, result.annotations)
        text = out.read_text()
        assert "nan" not in text.lower() and "inf" not in text.lower()
    _strict((tmp_path / "out.geojson").read_text())


@pytest.mark.parametrize("value", ["NaN", "1e999", "-1e400", "1e300"])
def test_asap_and_csv_skip_non_finite_vertices(tmp_path: Path, value: str) -> None:
    asap = tmp_path / "a.xml"
    coords = "".join(
        f'<Coordinate Order="{i}" X="{x}" Y="{y}"/>'
        for i, (x, y) in enumerate([(0, 0), (value, 0), (10, 10)])
    )
    good = coords.replace(value, "10")
    asap.write_text(
        "<ASAP_Annotations><Annotations>"
        f'<Annotation Name="bad" Type="Polygon"><Coordinates>{coords}</Coordinates></Annotation>'
        f'<Annotation Name="ok" Type="Polygon"><Coordinates>{good}</Coordinates></Annotation>'
        "</Annotations></ASAP_Annotations>"
    )
    result = read_annotations(asap)
    assert [a.name for a in result.annotations] == ["ok"] and "'bad'" in result.skipped[0]
    csv = tmp_path / "v.csv"
    csv.write_text(f"roi_name,x_base,y_base\nbad,0,0\nbad,{value},0\nbad,5,5\n"
                   "ok,0,0\nok,9,0\nok,9,9\n")  # fmt: skip
    result = read_annotations(csv)
    assert [a.name for a in result.annotations] == ["ok"] and "'bad'" in result.skipped[0]


def test_bare_nan_in_a_kept_property_is_written_as_strict_json(tmp_path: Path) -> None:
    feature = _feature([SQUARE])
    feature["properties"]["custom"] = [1.5, {"x": 2.5}]
    src = _collection(tmp_path / "in.geojson", feature)
    src.write_text(src.read_text().replace("1.5", "NaN").replace("2.5", "-Infinity"))
    out = tmp_path / "out.geojson"
    write_annotations(out, read_annotations(src).annotations)
    props = _strict(out.read_text())["features"][0]["properties"]
    assert props["custom"] == ["NaN", {"x": "-Infinity"}]


def test_deep_nesting_fails_with_one_line_not_recursion_error(tmp_path: Path) -> None:
    leaf = '{"type":"Feature","geometry":{"type":"Point","coordinates":[1,1]}}'
    opener = '{"type":"Feature","geometry":{"type":"Point","coordinates":[1,1]},"childObjects":['
    deep_children = tmp_path / "children.geojson"
    deep_children.write_text(
        '{"type":"FeatureCollection","features":[' + opener * 10_000 + leaf
        + "]}" * 10_000 + "]}"
    )
    deep_arrays = tmp_path / "arrays.geojson"
    deep_arrays.write_text(
        '{"type":"Feature","geometry":{"type":"Point","coordinates":'
        + "[" * 100_000 + "]" * 100_000 + "}}"
    )
    for path in (deep_children, deep_arrays):
        with pytest.raises(AnnotationFileError, match="nested too deeply"):
            read_annotations(path)
    depth = 200  # what real files nest still reads and writes
    src = tmp_path / "nested.geojson"
    src.write_text('{"type":"FeatureCollection","features":[' + opener * depth + leaf
                   + "]}" * depth + "]}")  # fmt: skip
    result = read_annotations(src)
    assert len(result.annotations) == depth + 1
    write_annotations(tmp_path / "out.geojson", result.annotations)


def test_point_with_polygon_coordinates_is_skipped_with_its_reason(tmp_path: Path) -> None:
    src = _collection(tmp_path / "in.geojson", _feature([SQUARE], kind="Point"),
                      _feature([SQUARE], name="good"))  # fmt: skip
    result = read_annotations(src)
    assert [a.name for a in result.annotations] == ["good"]
    assert "a Point with the coordinates of another type" in result.skipped[0]
    write_annotations(tmp_path / "out.geojson", result.annotations)


def test_lone_surrogate_in_a_name_is_replaced(tmp_path: Path) -> None:
    src = tmp_path / "in.geojson"
    src.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature([SQUARE], name="tum\ud800our"), _feature([SQUARE], name="emoji \U0001f600"),
    ]}))  # fmt: skip
    assert "\\ud800" in src.read_text()
    result = read_annotations(src)
    assert [a.name for a in result.annotations] == ["tum\ufffdour", "emoji \U0001f600"]
    assert any("lone surrogate" in s for s in result.skipped)
    for suffix in (".geojson", ".csv", ".xml"):
        out = tmp_path / f"out{suffix}"
        write_annotations(out, result.annotations)
        assert "\ufffd" in out.read_bytes().decode("utf-8")


def test_writers_replace_lone_surrogates_from_elsewhere(tmp_path: Path) -> None:
    from shapely.geometry import box

    from pathscaat.annotations.model import Annotation, PathClass

    ann = Annotation(box(0, 0, 10, 10), name="a\udc80b", path_class=PathClass.named("c\ud800"))
    for suffix in (".geojson", ".csv", ".xml"):
        out = tmp_path / f"out{suffix}"
        write_annotations(out, [ann])
        assert "a\ufffdb" in out.read_bytes().decode("utf-8")


def test_geometry_collections_nested_deeply_are_skipped(tmp_path: Path) -> None:
    geom: dict[str, Any] = {"type": "Point", "coordinates": [1, 1]}
    for _ in range(100):
        geom = {"type": "GeometryCollection", "geometries": [geom]}
    src = _collection(tmp_path / "in.geojson", {"type": "Feature", "geometry": geom},
                      _feature([SQUARE], name="good"))  # fmt: skip
    result = read_annotations(src)
    assert [a.name for a in result.annotations] == ["good"]
    assert "nested over" in result.skipped[0]


def _far_asap(tmp_path: Path, n_far: int, n_near: int = 0) -> Path:
    from shapely.geometry import box

    from pathscaat.annotations.model import Annotation, PathClass

    tumour = PathClass.named("Tumour")
    far = [Annotation(box(28_000 + 40 * i, 500, 28_030 + 40 * i, 530), path_class=tumour)
           for i in range(n_far)]  # fmt: skip
    near = [Annotation(box(100 + 60 * i, 100, 150 + 60 * i, 150), path_class=tumour)
            for i in range(n_near)]  # fmt: skip
    path = tmp_path / "other_slide.xml"
    write_annotations(path, far + near)
    return path


def test_convert_with_slide_warns_about_objects_off_it(
    tmp_path: Path, cmu_svs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathscaat.cli.main import main

    src = _far_asap(tmp_path, 50)
    assert main(["annotations", "convert", str(src), str(tmp_path / "o.geojson"),
                 "--slide", str(cmu_svs)]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "warning: 50 of 50 objects lie outside the slide (2220 x 2967 px" in err
    assert "another frame" in err and "another slide" in err


def test_export_skips_crops_off_the_slide_and_says_so_briefly(
    tmp_path: Path, cmu_svs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathscaat.cli.main import main

    src = _far_asap(tmp_path, 40, n_near=2)
    out = tmp_path / "export"
    assert main(["export", str(cmu_svs), "--annotations", str(src), "--out", str(out),
                 "--crops", "--progress", "none"]) == 0  # fmt: skip
    assert len(list((out / "crops").iterdir())) == 2 * 2  # image + mask of the two on it
    err = capsys.readouterr().err
    assert "40 of 42 objects lie outside the slide" in err
    assert err.count("lies outside the slide") == 10 and "... and 30 more" in err
