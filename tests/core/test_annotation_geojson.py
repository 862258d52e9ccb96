"""QuPath GeoJSON: the real QuPath 0.5 file and every variant round-trip losslessly."""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

from pathscaat.annotations.io import (
    AnnotationFileError,
    qupath_l0_offset,
    read_annotations,
    write_annotations,
)
from pathscaat.annotations.model import Annotation, ObjectType, PathClass, ToolShape

SQUARE = [[[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]]]
ID = "6423a977-ffff-48db-affc-cd11632010f0"


def _feature(props: dict[str, Any] | None = None, **members: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Feature", "id": ID,
                           "geometry": {"type": "Polygon", "coordinates": SQUARE}}
    if props is not None:
        out["properties"] = props
    out.update(members)
    return out


def _write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _round_trip(tmp_path: Path, data: Any) -> tuple[list[Annotation], list[Any]]:
    """Read ``data`` as a file, write it back; (annotations, features written)."""
    src = _write_json(tmp_path / "in.geojson", data)
    result = read_annotations(src)
    assert result.skipped == []
    write_annotations(tmp_path / "out.geojson", result.annotations)
    written = json.loads((tmp_path / "out.geojson").read_text(encoding="utf-8"))
    return result.annotations, written["features"]


def test_qupath05_reads_and_writes_back_equal(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "annotations" / "qupath05.geojson"
    result = read_annotations(src)
    assert result.frame == "qupath" and result.skipped == []
    assert [a.name for a in result.annotations] == ["UT", "I", "I"]
    assert all(a.object_type is ObjectType.ANNOTATION for a in result.annotations)
    assert all(a.geometry.geom_type == "Polygon" and a.geometry.area > 1000
               for a in result.annotations)
    original = json.loads(src.read_text(encoding="utf-8"))
    assert [a.id for a in result.annotations] == [f["id"] for f in original["features"]]
    for offset in [(0.0, 0.0), (1000.0, 250.0)]:
        again = read_annotations(src, l0_offset=offset).annotations
        out = tmp_path / "out.geojson"
        write_annotations(out, again, l0_offset=offset)
        written = json.loads(out.read_text(encoding="utf-8"))
        assert written["features"] == original["features"]  # ids, properties, colours, coords


VARIANTS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("old object_type", _feature({"object_type": "detection"}),
     {"object_type": ObjectType.DETECTION}),
    ("type alias", _feature({"type": "tile"}), {"object_type": ObjectType.TILE}),
    ("v0.2 type in id", {**_feature({"name": "a"}), "id": "PathCellObject"},
     {"object_type": ObjectType.CELL}),
    ("derived class names", _feature({"classification": {
        "names": ["Tumor", "Positive"], "color": [200, 0, 0]}}),
     {"path_class": PathClass("Tumor: Positive", (200, 0, 0))}),
    ("packed colorRGB", _feature({"classification": {"name": "Stroma", "colorRGB": -16744448}}),
     {"path_class": PathClass("Stroma", (0, 128, 0))}),
    ("packed color", _feature({"classification": {"name": "Stroma", "color": 0x3264C8}}),
     {"path_class": PathClass("Stroma", (50, 100, 200))}),
    ("rgba colour", _feature({"classification": {"name": "Immune", "color": [10, 20, 30, 128]}}),
     {"path_class": PathClass("Immune", (10, 20, 30))}),
    ("class without colour", _feature({"classification": {"name": "Other"}}),
     {"path_class": PathClass.named("Other")}),
    ("measurement list", _feature({"measurements": [
        {"name": "Area", "value": 12.5}, {"name": "Missing", "value": "NaN"}]}),
     {"measurements": {"Area": 12.5, "Missing": math.nan}}),
    ("NaN as strings", _feature({"measurements": {
        "a": "NaN", "b": "Infinity", "c": "-Infinity", "d": 3}}),
     {"measurements": {"a": math.nan, "b": math.inf, "c": -math.inf, "d": 3.0}}),
    ("ellipse", _feature({"isEllipse": True}), {"tool": ToolShape.ELLIPSE}),
    ("not an ellipse", _feature({"isEllipse": False}), {"tool": ToolShape.IMPORTED}),
    ("locked", _feature({"isLocked": True}), {"locked": True}),
    ("unlocked written out", _feature({"isLocked": False}), {"locked": False}),
    ("metadata", _feature({"metadata": {"scanner": "AT2", "batch": "7"}}),
     {"metadata": {"scanner": "AT2", "batch": "7"}}),
    ("no properties", _feature(None), {"object_type": ObjectType.ANNOTATION}),
    ("null properties", _feature(None, properties=None), {"name": None}),
    ("null name", _feature({"name": None}), {"name": None}),
    ("unknown members and properties",
     _feature({"objectType": "annotation", "color": [1, 2, 3], "plane": {"c": 0, "z": 1}},
              nucleusGeometry={"type": "Point", "coordinates": [5, 5]}, bbox=[0, 0, 100, 100]),
     {"extra": {"geojson": {"properties": {"color": [1, 2, 3], "plane": {"c": 0, "z": 1}},
                            "members": {"nucleusGeometry": {"type": "Point",
                                                            "coordinates": [5, 5]},
                                        "bbox": [0, 0, 100, 100]}}}}),
]


def _same(value: Any, expected: Any) -> bool:
    if isinstance(expected, dict) and expected and isinstance(
            next(iter(expected.values())), float):
        return value.keys() == expected.keys() and all(
            value[k] == v or (math.isnan(v) and math.isnan(value[k])) for k, v in expected.items())
    if isinstance(expected, dict):
        return json.loads(json.dumps(dict(value))) == expected
    return bool(value == expected)


@pytest.mark.parametrize(("label", "feature", "expected"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_variant_reads_right_and_writes_back_the_same(
    tmp_path: Path, label: str, feature: dict[str, Any], expected: dict[str, Any]
) -> None:
    objs, written = _round_trip(tmp_path, {"type": "FeatureCollection", "features": [feature]})
    (ann,) = objs
    for attr, value in expected.items():
        assert _same(getattr(ann, attr), value), (label, attr, getattr(ann, attr))
    assert written == [feature]


def test_array_and_single_feature_files(tmp_path: Path) -> None:
    feature = _feature({"objectType": "annotation", "name": "one"})
    objs, written = _round_trip(tmp_path, [feature, {**feature, "id": str(uuid.uuid4())}])
    assert len(objs) == 2 and written[0] == feature
    objs, written = _round_trip(tmp_path, feature)
    assert [a.name for a in objs] == ["one"] and written == [feature]


def test_holes_multipolygon_lines_points_and_floats(tmp_path: Path) -> None:
    holed = {"type": "Polygon", "coordinates": [
        SQUARE[0], [[10, 10], [20, 10], [20, 20], [10, 20], [10, 10]]]}
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE, [[[200.5, 0], [300, 0],
                                                                [300, 50.25], [200.5, 0]]]]}
    line = {"type": "LineString", "coordinates": [[0, 0], [5.5, 7]]}
    points = {"type": "MultiPoint", "coordinates": [[1, 2], [3, 4]]}
    features = [{**_feature({}), "id": str(uuid.uuid4()), "geometry": g}
                for g in (holed, multi, line, points)]
    objs, written = _round_trip(tmp_path, {"type": "FeatureCollection", "features": features})
    assert len(objs[0].geometry.interiors) == 1 and objs[0].geometry.area == 100 * 100 - 100
    assert objs[1].geometry.geom_type == "MultiPolygon" and len(objs[1].geometry.geoms) == 2
    assert [o.geometry.geom_type for o in objs[2:]] == ["LineString", "MultiPoint"]
    assert written == features


def test_child_objects_become_parent_ids_and_nest_again(tmp_path: Path) -> None:
    child_ids = [str(uuid.uuid4()) for _ in range(3)]
    grandchild = {**_feature({"objectType": "detection"}), "id": child_ids[2]}
    child = {**_feature({"objectType": "detection"}), "id": child_ids[1],
             "childObjects": [grandchild]}
    other = {**_feature({"objectType": "detection"}), "id": child_ids[0]}
    parent = _feature({"name": "tumour region"}, childObjects=[other, child])
    objs, written = _round_trip(tmp_path, {"type": "FeatureCollection", "features": [parent]})
    assert [o.id for o in objs] == [ID, *child_ids]
    assert [o.parent_id for o in objs] == [None, ID, ID, child_ids[1]]
    assert written == [parent]


def test_non_uuid_and_duplicate_ids_are_replaced_and_kept(tmp_path: Path) -> None:
    features = [{**_feature({}), "id": "cell-17"}, {**_feature({}), "id": 5},
                _feature({}), _feature({"name": "duplicate"})]
    objs, written = _round_trip(tmp_path, {"type": "FeatureCollection", "features": features})
    ids = [o.id for o in objs]
    assert len(set(ids)) == 4 and ids[2] == ID and all(uuid.UUID(i) for i in ids)
    assert written == features  # the original ids go back out


def test_missing_ids_are_generated_and_written(tmp_path: Path) -> None:
    feature = _feature({"name": "x"})
    del feature["id"]
    objs, written = _round_trip(tmp_path, [feature])
    assert written == [{**feature, "id": objs[0].id}]


def test_bare_nan_literals_are_read_and_written_as_strict_json(tmp_path: Path) -> None:
    src = tmp_path / "nan.geojson"
    text = json.dumps([_feature({"measurements": {"m": 1.5}})]).replace("1.5", "NaN")
    src.write_text(text, encoding="utf-8")
    (ann,) = read_annotations(src).annotations
    assert math.isnan(ann.measurements["m"])
    write_annotations(tmp_path / "out.geojson", [ann])
    assert '"m": "NaN"' in (tmp_path / "out.geojson").read_text(encoding="utf-8")


def test_changed_values_are_written_in_qupath_05_form(tmp_path: Path) -> None:
    src = _write_json(tmp_path / "old.geojson", [_feature({
        "object_type": "annotation", "isLocked": False,
        "classification": {"name": "Stroma", "colorRGB": -16744448},
        "measurements": [{"name": "Area", "value": 1.0}]})])
    (ann,) = read_annotations(src).annotations
    edited = ann.with_changes(path_class=PathClass("Tumor", (200, 0, 0)), locked=True,
                              measurements={"Area": 2.0, "Gone": math.nan},
                              object_type=ObjectType.DETECTION)
    write_annotations(tmp_path / "new.geojson", [edited])
    (feature,) = json.loads((tmp_path / "new.geojson").read_text(encoding="utf-8"))["features"]
    assert feature["properties"] == {
        "objectType": "detection", "isLocked": True,
        "classification": {"name": "Tumor", "color": [200, 0, 0]},
        "measurements": {"Area": 2.0, "Gone": "NaN"}}


def test_new_objects_record_their_tool(tmp_path: Path) -> None:
    drawn = [Annotation(box(0, 0, 5, 5), tool=ToolShape.RECTANGLE),
             Annotation(box(0, 0, 5, 5), tool=ToolShape.ELLIPSE, name="round")]
    write_annotations(tmp_path / "drawn.geojson", drawn)
    again = read_annotations(tmp_path / "drawn.geojson").annotations
    assert again == drawn


def test_bounds_offset_from_properties_and_recorded_frame(tmp_path: Path) -> None:
    offset = qupath_l0_offset({"openslide.bounds-x": "1200", "openslide.bounds-y": "340"})
    assert offset == (1200.0, 340.0)
    assert qupath_l0_offset({"openslide.vendor": "aperio"}) == (0.0, 0.0)
    src = _write_json(tmp_path / "q.geojson", [_feature({})])
    result = read_annotations(src, l0_offset=offset)
    assert result.l0_offset == offset
    assert result.annotations[0].l0_bounds == (1200.0, 340.0, 1300.0, 440.0)
    out = tmp_path / "ours.geojson"
    write_annotations(out, result.annotations, l0_offset=offset)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["features"][0]["geometry"]["coordinates"] == SQUARE  # QuPath's frame
    assert doc["pathscaat"]["l0_offset"] == [1200.0, 340.0]
    # without a slide, the recorded frame brings the objects back to level 0
    assert read_annotations(out).annotations[0].l0_bounds == (1200.0, 340.0, 1300.0, 440.0)


def test_real_slide_without_bounds_has_no_offset(cmu_svs: Path) -> None:
    from pathscaat.slides import open_slide

    with open_slide(cmu_svs) as slide:
        assert qupath_l0_offset(slide) == (0.0, 0.0)


MALFORMED: list[tuple[str, str, str]] = [
    ("bad json", '{"type": "FeatureCollection", "features": [',
     r"line 1, column \d+.*not valid JSON"),
    ("empty", "  \n", "the file is empty"),
    ("foreign json", '{"rows": [1, 2]}', "not GeoJSON"),
    ("wrong geometry", json.dumps([{**_feature({}), "geometry": {"type": "Circle",
                                                              "coordinates": [0, 0]}}]),
     "feature 0: unknown geometry type 'Circle'"),
    ("unclosed ring", json.dumps([{**_feature({}), "geometry": {"type": "Polygon", "coordinates": [
        [[0, 0], [10, 0], [10, 10], [0, 10]]]}}]), r"feature 0: unclosed ring"),
    ("bad coordinates", json.dumps([{**_feature({}), "geometry": {
        "type": "LineString", "coordinates": [["a", "b"], [1, 2]]}}]),
     "feature 0: the LineString's coordinates are not lists"),
    ("unknown objectType", json.dumps([_feature({"objectType": "tmaCore"})]),
     "feature 0: unknown objectType 'tmaCore'"),
    ("no geometry", json.dumps([{**_feature({}), "geometry": None}]), "feature 0: has no geometry"),
]


@pytest.mark.parametrize(("label", "text", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_files_give_one_clear_error(
    tmp_path: Path, label: str, text: str, message: str
) -> None:
    src = tmp_path / "bad file.geojson"
    src.write_text(text, encoding="utf-8")
    with pytest.raises(AnnotationFileError, match=message) as info:
        read_annotations(src)
    assert str(src) in str(info.value)


def test_undecodable_properties_keep_the_object_and_the_property(tmp_path: Path) -> None:
    feature = _feature({"objectType": "annotation", "measurements": {"a": "high"},
                        "classification": {"name": "T", "color": [1, 2]},
                        "isLocked": "yes", "metadata": ["not", "a", "map"], "name": "kept"})
    src = _write_json(tmp_path / "odd.geojson", [feature])
    result = read_annotations(src)
    (ann,) = result.annotations
    assert ann.name == "kept" and ann.path_class is None and not ann.measurements
    assert [line.split(";")[0] for line in result.skipped] == [
        "feature 0: classification colour [1, 2] is not [r, g, b] with values 0-255 or a "
        "packed int",
        "feature 0: isLocked 'yes' is not true or false",
        "feature 0: measurement 'a' is 'high', not a number",
        "feature 0: metadata ['not', 'a', 'map'] is not a map of names to text"]
    write_annotations(tmp_path / "out.geojson", [ann])
    written = json.loads((tmp_path / "out.geojson").read_text(encoding="utf-8"))
    assert written["features"] == [feature]


def test_partly_readable_file_returns_what_it_could(tmp_path: Path) -> None:
    good = _feature({"name": "good"})
    bad = {**_feature({"objectType": "alien"}), "id": str(uuid.uuid4())}
    src = _write_json(tmp_path / "mixed.geojson", [good, bad, "nonsense"])
    result = read_annotations(src)
    assert [a.name for a in result.annotations] == ["good"]
    assert len(result.skipped) == 2
    assert result.skipped[0].startswith("feature 1: unknown objectType 'alien'")
    assert result.skipped[1].startswith("feature 2: is a JSON str")


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "regions.txt"
    src.write_text("[]", encoding="utf-8")
    with pytest.raises(AnnotationFileError, match=r"regions.txt: cannot read this kind"):
        read_annotations(src)
    with pytest.raises(AnnotationFileError, match="no such file"):
        read_annotations(tmp_path / "missing.geojson")


def test_readers_are_exported_at_the_package_top_level() -> None:
    import pathscaat.annotations as annotations
    from pathscaat.annotations.collection import AnnotationCollection

    assert annotations.read_annotations is read_annotations
    assert annotations.AnnotationCollection is AnnotationCollection
    with pytest.raises(AttributeError):
        _ = annotations.no_such_name


def test_features_without_type_member_are_read(tmp_path: Path) -> None:
    feature = _feature({"name": "loose"})
    del feature["type"]
    src = _write_json(tmp_path / "loose.geojson", [feature])
    assert [a.name for a in read_annotations(src).annotations] == ["loose"]


def test_a_failed_write_leaves_the_previous_file(tmp_path: Path) -> None:
    out = tmp_path / "kept.geojson"
    write_annotations(out, [Annotation(box(0, 0, 1, 1), name="first")])
    before = out.read_bytes()

    class Boom(Exception):
        pass

    def objects() -> Any:
        yield Annotation(box(0, 0, 2, 2))
        raise Boom

    with pytest.raises(Boom):
        write_annotations(out, objects())
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["kept.geojson"]
