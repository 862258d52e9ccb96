"""ASAP, Aperio ImageScope, HALO and vertex-CSV readers (and writers) on generated files."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from shapely.geometry import LineString, MultiPoint, MultiPolygon, Point, Polygon, box

from pathscaat.annotations.io import AnnotationFileError, read_annotations, write_annotations
from pathscaat.annotations.model import Annotation, PathClass, ToolShape

ASAP = """<?xml version="1.0"?>
<ASAP_Annotations>
  <Annotations>
    <Annotation Name="Annotation 0" Type="Polygon" PartOfGroup="tumor" Color="#F4FA58">
      <Coordinates>
        <Coordinate Order="2" X="100" Y="100" />
        <Coordinate Order="0" X="0" Y="0" />
        <Coordinate Order="1" X="100,5" Y="0" />
      </Coordinates>
    </Annotation>
    <Annotation Name="box" Type="Rectangle" PartOfGroup="stroma" Color="#00FF00">
      <Coordinates>
        <Coordinate Order="0" X="10" Y="20" /><Coordinate Order="1" X="50" Y="20" />
        <Coordinate Order="2" X="50" Y="60" /><Coordinate Order="3" X="10" Y="60" />
      </Coordinates>
    </Annotation>
    <Annotation Name="s" Type="Spline" PartOfGroup="None" Color="#123456">
      <Coordinates>
        <Coordinate Order="0" X="0" Y="0" /><Coordinate Order="1" X="9" Y="0" />
        <Coordinate Order="2" X="9" Y="9" /><Coordinate Order="3" X="0" Y="9" />
      </Coordinates>
    </Annotation>
    <Annotation Name="dot" Type="Dot" PartOfGroup="cells">
      <Coordinates><Coordinate Order="0" X="5" Y="6" /></Coordinates>
    </Annotation>
    <Annotation Name="pts" Type="PointSet" PartOfGroup="cells">
      <Coordinates><Coordinate Order="0" X="1" Y="2" /><Coordinate Order="1" X="3" Y="4" />
      </Coordinates>
    </Annotation>
    <Annotation Name="broken" Type="Polygon" PartOfGroup="tumor">
      <Coordinates><Coordinate Order="0" X="1" Y="2" /></Coordinates>
    </Annotation>
  </Annotations>
  <AnnotationGroups>
    <Group Name="tumor" PartOfGroup="None" Color="#C80000"><Attributes /></Group>
    <Group Name="stroma" PartOfGroup="tissue" Color="#00C800"><Attributes /></Group>
    <Group Name="cells" PartOfGroup="None" Color="#0000C8"><Attributes /></Group>
  </AnnotationGroups>
</ASAP_Annotations>
"""

IMAGESCOPE = """<?xml version="1.0" encoding="utf-8"?>
<Annotations MicronsPerPixel="0.252100">
  <Annotation Id="1" Name="Tumour" LineColor="255" Type="4" Visible="1">
    <Attributes><Attribute Name="Description" Id="0" Value=""/></Attributes>
    <Regions>
      <RegionAttributeHeaders><AttributeHeader Id="9999" Name="Region"/></RegionAttributeHeaders>
      <Region Id="1" Type="0" Text="main" NegativeROA="0">
        <Attributes/>
        <Vertices><Vertex X="0" Y="0" Z="0"/><Vertex X="1000" Y="0" Z="0"/>
          <Vertex X="1000" Y="1000" Z="0"/><Vertex X="0" Y="1000" Z="0"/></Vertices>
      </Region>
      <Region Id="2" Type="0" Text="" NegativeROA="1">
        <Vertices><Vertex X="100" Y="100"/><Vertex X="200" Y="100"/>
          <Vertex X="200" Y="200"/><Vertex X="100" Y="200"/></Vertices>
      </Region>
      <Region Id="3" Type="2" Text="round" NegativeROA="0">
        <Vertices><Vertex X="2000" Y="0"/><Vertex X="2200" Y="100"/></Vertices>
      </Region>
      <Region Id="4" Type="1" Text="" NegativeROA="0">
        <Vertices><Vertex X="3000" Y="0"/><Vertex X="3100" Y="0"/>
          <Vertex X="3100" Y="50"/><Vertex X="3000" Y="50"/></Vertices>
      </Region>
      <Region Id="5" Type="0" NegativeROA="1">
        <Vertices><Vertex X="9000" Y="9000"/><Vertex X="9100" Y="9000"/>
          <Vertex X="9100" Y="9100"/></Vertices>
      </Region>
    </Regions>
  </Annotation>
  <Annotation Id="2" Name="" LineColor="65280">
    <Attributes><Attribute Name="Description" Id="0" Value="Stroma"/></Attributes>
    <Regions><Region Id="1" Type="4" Text="ruler"><Vertices><Vertex X="5" Y="5"/>
      <Vertex X="50" Y="5"/></Vertices></Region></Regions>
  </Annotation>
</Annotations>
"""

HALO = """<Annotations>
  <Annotation Name="Layer 1" Visible="True" LineColor="16711680">
    <Regions>
      <Region Type="Polygon" HasEndcaps="0" NegativeROA="0">
        <Vertices><V X="0" Y="0"/><V X="500" Y="0"/><V X="500" Y="500"/><V X="0" Y="500"/>
        </Vertices><Comments/>
      </Region>
      <Region Type="Ellipse" HasEndcaps="0" NegativeROA="1">
        <Vertices><V X="100" Y="100"/><V X="300" Y="200"/></Vertices>
      </Region>
      <Region Type="Rectangle" HasEndcaps="0" NegativeROA="0">
        <Vertices><V X="1000" Y="1000"/><V X="1200" Y="1100"/></Vertices>
      </Region>
    </Regions>
  </Annotation>
  <Annotation Name="Layer 2" Visible="True" LineColor="65535">
    <Regions><Region Type="Pin" NegativeROA="0"><Vertices><V X="7" Y="8"/></Vertices></Region>
    </Regions>
  </Annotation>
</Annotations>
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_asap_reads_every_shape_group_and_colour(tmp_path: Path) -> None:
    result = read_annotations(_write(tmp_path, "a.xml", ASAP))
    objs = {a.name: a for a in result.annotations}
    assert result.frame == "level0" and len(objs) == 5
    assert result.skipped == ["annotation 5 ('broken'): a polygon needs at least 3 distinct "
                              "vertices, it has 1; skipped"]
    tri = objs["Annotation 0"]
    assert tri.geometry.equals(Polygon([(0, 0), (100.5, 0), (100, 100)]))  # by Order
    assert tri.path_class == PathClass("tumor", (200, 0, 0)) and tri.tool is ToolShape.POLYGON
    rect = objs["box"]
    assert rect.geometry.equals(box(10, 20, 50, 60)) and rect.tool is ToolShape.RECTANGLE
    assert rect.extra["asap"]["group_parent"] == "tissue"
    assert objs["s"].path_class is None and objs["s"].geometry.area == 81
    assert objs["dot"].geometry.equals(Point(5, 6))
    assert objs["pts"].geometry.equals(MultiPoint([(1, 2), (3, 4)]))
    assert objs["pts"].path_class == PathClass("cells", (0, 0, 200))


def test_utf16_asap_file_is_recognised(tmp_path: Path) -> None:
    path = tmp_path / "windows.xml"
    path.write_bytes(ASAP.replace('<?xml version="1.0"?>', '<?xml version="1.0" '
                                  'encoding="utf-16"?>').encode("utf-16"))
    assert len(read_annotations(path).annotations) == 5


def test_asap_write_then_read_back(tmp_path: Path) -> None:
    tumour = PathClass("Tumor", (200, 0, 0))
    objs = [
        Annotation(Polygon([(0, 0), (10, 0), (5.5, 8)]), name="tri", path_class=tumour),
        Annotation(box(0, 0, 20, 10), name="rect", tool=ToolShape.RECTANGLE),
        Annotation(MultiPolygon([box(0, 0, 1, 1), box(5, 5, 6, 6)]), name="two",
                   path_class=tumour),
        Annotation(Point(3, 4), name="dot"),
        Annotation(MultiPoint([(1, 1), (2, 2)]), name="cells"),
        Annotation(LineString([(0, 0), (30, 40)]), name="ruler"),
    ]
    out = tmp_path / "out.xml"
    write_annotations(out, objs)
    back = {a.name: a for a in read_annotations(out).annotations}
    assert set(back) == {"tri", "rect", "two (part 1)", "two (part 2)", "dot", "cells", "ruler"}
    assert back["tri"].geometry.equals(objs[0].geometry)
    assert back["tri"].path_class == tumour
    assert back["rect"].tool is ToolShape.RECTANGLE and back["rect"].path_class is None
    assert back["two (part 2)"].geometry.equals(box(5, 5, 6, 6))
    assert back["dot"].geometry.equals(Point(3, 4))
    assert back["cells"].geometry.equals(objs[4].geometry)
    assert back["ruler"].geometry.length == 50


def test_imagescope_layers_holes_ellipses_and_rectangles(tmp_path: Path) -> None:
    result = read_annotations(_write(tmp_path, "aperio.xml", IMAGESCOPE))
    names = [a.name for a in result.annotations]
    assert names == ["main", "round", None, "ruler"]
    main, round_, rect, ruler = result.annotations
    assert main.path_class == PathClass("Tumour", (255, 0, 0))  # COLORREF 255 is red
    assert len(main.geometry.interiors) == 1 and main.geometry.area == 1000 * 1000 - 100 * 100
    assert round_.tool is ToolShape.ELLIPSE
    assert math.isclose(round_.geometry.area, math.pi * 100 * 50, rel_tol=0.01)
    assert rect.geometry.equals(box(3000, 0, 3100, 50)) and rect.tool is ToolShape.RECTANGLE
    assert ruler.path_class == PathClass("Stroma", (0, 255, 0))
    assert ruler.geometry.geom_type == "LineString"
    assert len(result.skipped) == 1 and "region 4: a negative" in result.skipped[0]


def test_halo_layers_and_negative_ellipse(tmp_path: Path) -> None:
    result = read_annotations(_write(tmp_path, "slide.annotations", HALO))
    square, rect, pin = result.annotations
    assert square.path_class == PathClass("Layer 1", (0, 0, 255))
    assert len(square.geometry.interiors) == 1
    assert math.isclose(square.geometry.area, 500 * 500 - math.pi * 100 * 50, rel_tol=0.01)
    assert square.tool is ToolShape.IMPORTED  # a cut polygon no longer edits as drawn
    assert rect.geometry.equals(box(1000, 1000, 1200, 1100))
    assert pin.geometry.equals(Point(7, 8)) and pin.class_name == "Layer 2"
    # the same content in an .xml file is recognised as HALO by its <V> vertices
    again = read_annotations(_write(tmp_path, "halo.xml", HALO))
    assert [a.geometry.wkt for a in again.annotations] == [
        a.geometry.wkt for a in result.annotations]


def test_vertex_csv_round_trip_and_slideflow_header(tmp_path: Path) -> None:
    src = _write(tmp_path, "rois.csv", "ROI_name,X_base,Y_base\nROI_0,0,0\nROI_0,10,0\n"
                 "ROI_0,10,10\nROI_1,50,50\nROI_1,60,50\nROI_1,60,70\nROI_1,50,50\n"
                 "ROI_2,1,1\n")
    result = read_annotations(src)
    assert [a.name for a in result.annotations] == ["ROI_0", "ROI_1"]
    assert result.annotations[0].geometry.area == 50
    assert result.skipped[0].startswith("line 9 (ROI 'ROI_2'): a polygon needs at least 3")
    objs = [Annotation(box(0, 0, 4, 4), name="a", path_class=PathClass.named("Tumor")),
            Annotation(box(0, 0, 4, 4), name="dup"),  # a shared name: written by id
            Annotation(box(5, 5, 9, 9), name="dup"),
            Annotation(Polygon([(0, 0), (3.25, 0), (0, 7)]))]
    out = tmp_path / "out.csv"
    write_annotations(out, objs)
    back = read_annotations(out).annotations
    assert [b.geometry.equals(o.geometry) for b, o in zip(back, objs, strict=True)] == [True] * 4
    assert back[0].name == "a" and back[0].class_name == "Tumor"
    assert [b.id for b in back[1:]] == [o.id for o in objs[1:]]


@pytest.mark.parametrize(("name", "text", "message"), [
    ("bad.xml", "<ASAP_Annotations><Annotations>", r"line 1, column \d+: not well-formed XML"),
    ("foreign.xml", "<svg><rect/></svg>", "neither ASAP"),
    ("evil.xml", '<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY x "y">]><ASAP_Annotations/>',
     "line 2: declares a DTD"),
    ("empty.annotations", "", "the file is empty"),
    ("wrong.annotations", "<Root/>", "not <Annotations>"),
    ("nothing.xml", '<ASAP_Annotations><Annotations><Annotation Name="x" Type="Polygon">'
     '<Coordinates><Coordinate Order="0" X="a" Y="1"/></Coordinates></Annotation>'
     "</Annotations></ASAP_Annotations>", r"annotation 0 \('x'\): a Coordinate has an X"),
    ("header.csv", "name,x,y\nA,1,2\n", "line 1: no roi_name, x_base, y_base column"),
    ("row.csv", "roi_name,x_base,y_base\nA,1,2\nA,one,2\n", "line 3: .* is not a name"),
])
def test_malformed_vendor_files_give_one_clear_error(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(AnnotationFileError, match=message) as info:
        read_annotations(path)
    assert str(path) in str(info.value)


def test_writing_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AnnotationFileError, match="cannot write this kind"):
        write_annotations(tmp_path / "x.annotations", [Annotation(box(0, 0, 1, 1))])
