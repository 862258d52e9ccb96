"""Run the CLI over a corpus of malformed inputs and count tracebacks, hangs and leftovers.

The corpus is generated in a temporary folder: mutated QuPath GeoJSON, ASAP XML, Aperio
ImageScope, HALO and vertex-CSV annotation files; damaged project stores; overlay folders
with bad manifests and truncated rasters; damaged checkpoints and training states. Each
case runs one command (``annotations convert``, ``export``, ``regions``, ``project``,
``train --resume``, ``infer``, ``evaluate``) in a forked child of this process (the
imports are paid once), with a timeout. A case is

- ``ok``: exit 0, or exit 1 with exactly one ``pathscaat: error:`` line (under 600 chars);
- ``traceback``: an exception escaped ``main()`` (or "Traceback" on stderr);
- ``hang``: it ran past ``--timeout`` seconds and was killed;
- ``noisy``: exit 1 with several error lines, more text after the error line, or a line
  over 600 characters (PyTorch's list of every mismatched key, say);
- ``leftover``: a failed command that left its ``--out`` behind (half-written output).

Run ``nice python scripts/bad_input_sweep.py`` (a few minutes on two cores; ``--quick``
runs a third of the cases); it prints a table per command and every case that is not ok,
and exits 1 when any is not ok. The real files in ``../shared/data`` (the CMU slide, the
QuPath 0.5 GeoJSON, Kather tiles) are used when present; otherwise generated stand-ins.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("PATHSCAAT_SHARED_DATA", REPO.parent / "shared" / "data"))
MAX_LINE = 600


@dataclass
class Case:
    command: str  # the table row: "annotations convert", "project list", ...
    label: str  # what is wrong with the input
    argv: list[str]
    out: Path | None = None  # must not exist after a failure


@dataclass
class Outcome:
    case: Case
    verdict: str
    code: int | None
    seconds: float
    detail: str = ""


# -- running ------------------------------------------------------------------------------


def run_case(case: Case, timeout: float, work: Path) -> Outcome:
    """Fork, run ``main(argv)`` in the child with stdout/stderr to files, judge the result."""
    out_f, err_f = work / "stdout.txt", work / "stderr.txt"
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child
        code = 98
        try:
            os.setpgid(0, 0)
            with open(out_f, "w") as o, open(err_f, "w") as e:
                os.dup2(o.fileno(), 1)
                os.dup2(e.fileno(), 2)
                sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", 0), write_through=True)
                sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", 0), write_through=True)
                try:
                    from pathscaat.cli.main import main

                    code = int(main(case.argv) or 0)
                except SystemExit as exc:
                    code = int(exc.code or 0) if not isinstance(exc.code, str) else 2
                except BaseException:
                    traceback.print_exc()
                    code = 99
                sys.stdout.flush()
                sys.stderr.flush()
        finally:
            os._exit(code)
    deadline = start + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return Outcome(case, "hang", None, timeout, f"killed after {timeout:g} s")
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    err = err_f.read_text(errors="replace") if err_f.exists() else ""
    verdict, code, detail = _judge(case, code, err)
    return Outcome(case, verdict, code, seconds, detail)


def _judge(case: Case, code: int, err: str) -> tuple[str, int, str]:
    if code == 99 or "Traceback (most recent call last)" in err:
        last = [x for x in err.strip().splitlines() if x.strip()][-1:] or ["?"]
        return "traceback", code, last[0][:300]
    if code < 0:
        return "traceback", code, f"killed by signal {-code}"
    if code == 0:
        return "ok", code, ""
    errors = [x for x in err.splitlines() if x.startswith("pathscaat: error")]
    if code == 2 and "usage:" in err:
        return "ok", code, "usage error"
    if case.out is not None and case.out.exists():
        inside = sorted(p.name for p in case.out.iterdir())[:6] if case.out.is_dir() else ""
        return "leftover", code, f"{case.out} left behind {inside}"
    lines = err.splitlines()
    after = lines[lines.index(errors[0]) + 1:] if errors else []
    if len(errors) != 1 or len(errors[0]) > MAX_LINE or any(x.strip() for x in after):
        size = len(errors[0]) + sum(len(x) + 1 for x in after) if errors else len(err)
        return "noisy", code, f"{len(errors)} error line(s), {size} chars: {err[:160]!r}"
    return "ok", code, errors[0][:160]


# -- the corpus ---------------------------------------------------------------------------

SQUARE = [[100, 100], [400, 100], [400, 400], [100, 400], [100, 100]]
BOWTIE = [[100, 100], [400, 400], [400, 100], [100, 400], [100, 100]]


def _feature(coords: Any, kind: str = "Polygon", **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": kind, "coordinates": coords},
            "properties": {"objectType": "annotation", **props}}  # fmt: skip


def _fc(*features: Any) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def geojson_corpus(rng: random.Random) -> dict[str, bytes]:
    real = SHARED / "annotations" / "qupath05.geojson"
    base = real.read_text() if real.exists() else _fc(_feature([SQUARE], name="a"))
    files: dict[str, str | bytes] = {"real qupath05": base}
    for i in range(6):
        files[f"truncated {i}"] = base[: rng.randrange(1, len(base))]
    for token in ("NaN", "Infinity", "-Infinity", "1e300", "-1e309", '"x"', "null", "[]", "true"):
        files[f"coordinate {token}"] = _fc(_feature([[[100, 100], [token, 100], [400, 400],
                                                      [100, 100]]], name="bad"),
                                           _feature([SQUARE], name="good")).replace(
            '"' + token + '"' if not token.startswith('"') else token, token)  # fmt: skip
    files["bowtie"] = _fc(_feature([BOWTIE], name="bow"))
    files["hole touching shell"] = _fc(_feature([SQUARE, [[100, 100], [200, 150], [150, 200],
                                                          [100, 100]]]))  # fmt: skip
    files["hole outside shell"] = _fc(_feature([SQUARE, [[900, 900], [950, 900], [950, 950],
                                                         [900, 900]]]))  # fmt: skip
    files["zero-area polygon"] = _fc(_feature([[[0, 0], [10, 0], [20, 0], [0, 0]]]))
    files["unclosed ring"] = _fc(_feature([SQUARE[:-1]]))
    files["point with polygon coordinates"] = _fc(_feature([SQUARE], kind="Point"),
                                                  _feature([SQUARE]))  # fmt: skip
    files["polygon with point coordinates"] = _fc(_feature([1, 2], kind="Polygon"))
    files["multipolygon of junk"] = _fc(_feature([[1], "a", None], kind="MultiPolygon"))
    files["linestring of one"] = _fc(_feature([[1, 2]], kind="LineString"))
    files["unknown geometry"] = _fc(_feature([1, 2], kind="Circle"))
    files["geometry collection 200 deep"] = _fc(
        {"type": "Feature", "geometry": _nested_collection(200)})
    leaf = '{"type":"Feature","geometry":{"type":"Point","coordinates":[1,1]}}'
    opener = '{"type":"Feature","geometry":{"type":"Point","coordinates":[1,1]},"childObjects":['
    for depth in (300, 10_000):
        files[f"childObjects {depth} deep"] = ('{"type":"FeatureCollection","features":['
                                               + opener * depth + leaf + "]}" * depth + "]}")
    files["array 100000 deep"] = ('{"type":"Feature","geometry":{"type":"Point","coordinates":'
                                  + "[" * 100_000 + "]" * 100_000 + "}}")  # fmt: skip
    files["property 100000 deep"] = _fc(_feature([SQUARE])).replace(
        '"objectType"', '"deep": ' + "[" * 100_000 + "]" * 100_000 + ', "objectType"')
    files["lone surrogate name"] = _fc(_feature([SQUARE], name="tum\ud800our"))
    files["lone low surrogate class"] = _fc(_feature([SQUARE], classification={
        "name": "x\udc80", "color": [1, 2, 3]}))  # fmt: skip
    files["bad classification"] = _fc(_feature([SQUARE], classification=5))
    files["bad measurements"] = _fc(_feature([SQUARE], measurements="x"))
    files["NaN measurement"] = _fc(_feature([SQUARE], measurements={"a": 1.5})).replace(
        "1.5", "NaN")
    files["isLocked yes"] = _fc(_feature([SQUARE], isLocked="yes"))
    files["numeric id"] = _fc({**_feature([SQUARE]), "id": 123})
    files["features not a list"] = '{"type": "FeatureCollection", "features": 5}'
    for text in ("", "null", "[]", "{}", "5", '"x"', "[1, 2]"):
        files[f"document {text or 'empty'}"] = text
    files["not UTF-8"] = b"\xff\xfe\x00{" + base.encode()[10:200]
    files["UTF-16"] = base.encode("utf-16")
    files["binary"] = bytes(rng.randrange(256) for _ in range(2000))
    for i in range(4):
        data = bytearray(base.encode())
        for _ in range(5):
            data[rng.randrange(len(data))] = rng.randrange(256)
        files[f"byte flips {i}"] = bytes(data)
    return {k: v.encode("utf-8", "surrogatepass") if isinstance(v, str) else v
            for k, v in files.items()}  # fmt: skip


def _nested_collection(depth: int) -> dict[str, Any]:
    geom: dict[str, Any] = {"type": "Point", "coordinates": [1, 1]}
    for _ in range(depth):
        geom = {"type": "GeometryCollection", "geometries": [geom]}
    return geom


def _asap(*annotations: tuple[str, str, list[tuple[Any, Any]]]) -> str:
    items = "".join(
        f'<Annotation Name="{name}" Type="{kind}" PartOfGroup="t"><Coordinates>'
        + "".join(f'<Coordinate Order="{i}" X="{x}" Y="{y}"/>' for i, (x, y) in enumerate(pts))
        + "</Coordinates></Annotation>"
        for name, kind, pts in annotations
    )
    return f'<?xml version="1.0"?><ASAP_Annotations><Annotations>{items}</Annotations>' \
           '<AnnotationGroups><Group Name="t" Color="#FF0000"/></AnnotationGroups>' \
           "</ASAP_Annotations>"  # fmt: skip


def _layers(vertex: str, regions: list[tuple[list[tuple[Any, Any]], bool, str]]) -> str:
    regs = "".join(
        f'<Region Type="{kind}" NegativeROA="{int(neg)}"><Vertices>'
        + "".join(f'<{vertex} X="{x}" Y="{y}"/>' for x, y in pts) + "</Vertices></Region>"
        for pts, neg, kind in regions
    )
    return f'<Annotations><Annotation Name="Tumour" LineColor="255"><Regions>{regs}' \
           "</Regions></Annotation></Annotations>"  # fmt: skip


def xml_corpus(rng: random.Random) -> dict[str, tuple[str, bytes]]:
    """name -> (suffix, bytes): ASAP, ImageScope (.xml) and HALO (.annotations)."""
    sq = [(100, 100), (400, 100), (400, 400), (100, 400)]
    bow = [(100, 100), (400, 400), (400, 100), (100, 400)]
    far = [(28_000 + x, y) for x, y in sq]
    files: dict[str, tuple[str, str | bytes]] = {
        "asap good": (".xml", _asap(("a", "Polygon", sq))),
        "asap bowtie": (".xml", _asap(("a", "Polygon", bow))),
        "asap off the slide": (".xml", _asap(*[(f"f{i}", "Polygon", far) for i in range(50)])),
        "asap missing X": (".xml", _asap(("a", "Polygon", sq)).replace('X="400"', "", 1)),
        "asap DTD bomb": (".xml", '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaa">]>'
                          "<ASAP_Annotations/>"),
        "asap 100000 deep": (".xml", "<ASAP_Annotations>" + "<a>" * 100_000 + "</a>" * 100_000
                             + "</ASAP_Annotations>"),
        "asap unknown type": (".xml", _asap(("a", "Blob", sq))),
        "asap empty coordinates": (".xml", _asap(("a", "Polygon", []))),
        "imagescope bowtie and hole": (".xml", _layers("Vertex", [
            (bow, False, "0"), (sq, True, "0")])),
        "imagescope NaN": (".xml", _layers("Vertex", [([(0, 0), ("NaN", 1), (5, 5)], False,
                                                       "0")])),
        "halo real-like self-intersections": (".annotations", _layers("V", [
            ([(0, 0), (1000, 0), (1000, 1000), (0, 1000)], False, "Polygon"),
            ([(2000, 0), (3000, 1000), (3000, 0), (2000, 1000)], False, "Polygon"),
            ([(0, 0), (200, 100), (100, 200)], True, "Polygon"),
            ([(400, 400), (600, 600), (600, 400), (400, 600)], True, "Polygon"),
            ([(2100, 300), (2300, 500), (2300, 300), (2100, 500)], True, "Polygon"),
        ])),
        "halo hole covering all": (".annotations", _layers("V", [
            (sq, False, "Polygon"), ([(0, 0), (900, 0), (900, 900), (0, 900)], True,
                                     "Polygon")])),
        "halo 1e300": (".annotations", _layers("V", [([(0, 0), (1e300, 0), (5, 5)], False,
                                                      "Polygon")])),
        "halo inf ellipse": (".annotations", _layers("V", [([(0, 0), ("inf", 9)], False,
                                                            "Ellipse")])),
    }
    good = files["halo real-like self-intersections"][1]
    assert isinstance(good, str)
    for i in range(4):
        files[f"halo truncated {i}"] = (".annotations", good[: rng.randrange(1, len(good))])
        data = bytearray(good.encode())
        for _ in range(4):
            data[rng.randrange(len(data))] = rng.randrange(256)
        files[f"halo byte flips {i}"] = (".annotations", bytes(data))
    return {k: (s, v.encode() if isinstance(v, str) else v) for k, (s, v) in files.items()}


def csv_corpus() -> dict[str, str]:
    head = "roi_name,x_base,y_base\n"
    return {
        "csv good": head + "a,0,0\na,90,0\na,90,90\n",
        "csv nan": head + "a,0,0\na,nan,0\na,90,90\nb,0,0\nb,9,0\nb,9,9\n",
        "csv inf": head + "a,0,0\na,inf,0\na,90,90\n",
        "csv bowtie": head + "a,0,0\na,90,90\na,90,0\na,0,90\n",
        "csv text": head + "a,zero,0\n",
        "csv no header": "a,0,0\n",
        "csv one row": head + "a,0,0\n",
    }


# -- projects, overlays, checkpoints ------------------------------------------------------


def project_corpus(root: Path, slide: Path) -> dict[str, Path]:
    from shapely.geometry import box

    from pathscaat.annotations.model import Annotation
    from pathscaat.project import Project

    base = root / "base"
    with Project.create(base) as project:
        record, _ = project.add_slide(slide)
        from pathscaat.annotations.edits import Edit

        project.apply_edit(record.id, Edit.add([Annotation(box(10, 10, 90, 90), name="a")], "x"))
    (base / "project.lock").unlink(missing_ok=True)
    db_bytes = (base / "project.sqlite").read_bytes()
    out: dict[str, Path] = {"good": base}

    def variant(name: str, data: bytes | None) -> None:
        folder = root / name.replace(" ", "_")
        shutil.copytree(base, folder)
        if data is not None:
            (folder / "project.sqlite").write_bytes(data)
        out[name] = folder

    rng = random.Random(7)
    for seed in range(4):
        data = bytearray(db_bytes)
        for off in range(1024 + seed * 300, len(data), 997 + seed):
            data[off:off + 64] = bytes(rng.randrange(256) for _ in range(64))
        variant(f"random bytes {seed}", bytes(data))
    at = db_bytes.find(b"name") if b"CMU" not in db_bytes else db_bytes.find(b"CMU")
    variant("undecodable text", db_bytes[:at] + b"\xff\xfe\xff" + db_bytes[at + 3:])
    variant("last pages trashed", db_bytes[:-8192] + bytes((k * 131) % 256 for k in range(4096))
            + db_bytes[-4096:])  # fmt: skip
    variant("0 bytes", b"")
    variant("truncated half", db_bytes[: len(db_bytes) // 2])
    variant("header trashed", b"\0" * 100 + db_bytes[100:])
    variant("not sqlite", b"hello, this is not a database\n" * 100)
    other = root / "other_program"
    other.mkdir()
    conn = sqlite3.connect(other / "project.sqlite")
    conn.execute("CREATE TABLE moz_places (id INTEGER)")
    conn.commit()
    conn.close()
    out["another program's sqlite"] = other
    folder = root / "sqlite_is_a_folder"
    (folder / "project.sqlite").mkdir(parents=True)
    out["project.sqlite a folder"] = folder
    return out


def overlay_corpus(root: Path, slide_dims: tuple[int, int]) -> dict[str, Path]:
    import numpy as np

    from pathscaat.inference.overlays import OverlayInfo, OverlaySet
    from pathscaat.inference.pyramid_writer import write_pyramid

    l0 = 8.0
    shape = (int(np.ceil(slide_dims[1] / l0)), int(np.ceil(slide_dims[0] / l0)))
    codes = np.zeros(shape, np.uint8)
    codes[shape[0] // 4: shape[0] // 2, shape[1] // 4: shape[1] // 2] = 230
    base = root / "base"
    write_pyramid(base / "prob_tumour.tif", codes, l0_per_px=l0, slide_mpp=0.5)
    OverlaySet(base, "slide", slide_dims, ["tumour"],
               [OverlayInfo("prob_tumour", "probability", "prob_tumour.tif", l0, "tumour")]).save()
    manifest = json.loads((base / "overlays.json").read_text())
    tif = (base / "prob_tumour.tif").read_bytes()
    out = {"good": base}

    def variant(name: str, edit: Callable[[dict[str, Any]], Any] | None = None,
                text: str | None = None, raster: bytes | None = None) -> None:  # fmt: skip
        folder = root / name.replace(" ", "_").replace("/", "_")
        shutil.copytree(base, folder)
        if edit is not None:
            m = json.loads(json.dumps(manifest))
            edit(m)
            (folder / "overlays.json").write_text(json.dumps(m))
        if text is not None:
            (folder / "overlays.json").write_text(text)
        if raster is not None:
            (folder / "prob_tumour.tif").write_bytes(raster)
        out[name] = folder

    def set_scale(value: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda m: m["overlays"][0].update(l0_per_px=value)

    values: list[Any] = ["four", 1e300, -4, 0, None, True, [8], float("nan")]
    for value in values:
        variant(f"l0_per_px {value}", set_scale(value))
    variant("value_max NaN", lambda m: m["overlays"][0].update(value_max=float("nan")))
    variant("file missing", lambda m: m["overlays"][0].update(file="absent.tif"))
    variant("file a folder", lambda m: m["overlays"][0].update(file="."))
    variant("overlays not a list", lambda m: m.update(overlays=5))
    variant("overlay not an object", lambda m: m.update(overlays=[5]))
    variant("slide_dims text", lambda m: m.update(slide_dims="big"))
    variant("schema 2", lambda m: m.update(schema=2))
    variant("manifest a list", text="[1, 2]")
    variant("manifest truncated", text=json.dumps(manifest)[:40])
    variant("manifest empty", text="")
    for frac in (0.1, 0.5, 0.9):
        variant(f"tiff truncated {frac}", raster=tif[: int(len(tif) * frac)])
    data = bytearray(tif)
    rng = random.Random(3)
    for _ in range(50):
        data[rng.randrange(200, len(data))] = rng.randrange(256)
    variant("tiff byte flips", raster=bytes(data))
    variant("tiff empty", raster=b"")
    variant("tiff a PNG", raster=b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    return out


def checkpoint_corpus(root: Path, patches: Path) -> tuple[Path, dict[str, Path]]:
    """(the good run folder, damaged checkpoint name -> checkpoint .json path)."""
    from pathscaat.cli.main import main

    run = root / "run"
    argv = ["train", "--data", str(patches), "--backbone", "test_resnet", "--objective", "erm",
            "--epochs", "1", "--batch-size", "4", "--img-size", "32", "--device", "cpu",
            "--workers", "0", "--out", str(run), "--progress", "none", "--lr", "1e-3"]  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(argv) == 0, "the control training run failed"
    out: dict[str, Path] = {}

    def variant(name: str, edit: Callable[[Path], object]) -> None:
        folder = root / name.replace(" ", "_")
        shutil.copytree(run, folder, symlinks=True)
        edit(folder)
        out[name] = folder / "last.json"

    def cut(name: str, frac: float) -> Callable[[Path], object]:
        return lambda f: (f / name).write_bytes((f / name).read_bytes()[: int(
            (f / name).stat().st_size * frac)])  # fmt: skip

    def other_backbone(f: Path) -> None:
        from safetensors.torch import save_file

        from pathscaat.models import create_model

        other = create_model("resnet10t", 3)
        save_file({k: v.contiguous() for k, v in other.state_dict().items()},
                  str(f / "last.safetensors"))  # fmt: skip

    variant("state truncated", cut("last.state.safetensors", 0.5))
    variant("state 10 bytes", cut("last.state.safetensors", 0.0001))
    variant("state json garbage", lambda f: (f / "last.state.json").write_text("{garbage"))
    variant("state json wrong fields", lambda f: (f / "last.state.json").write_text('{"a": 1}'))
    variant("weights truncated", cut("last.safetensors", 0.5))
    variant("weights empty", cut("last.safetensors", 0.0))
    variant("weights of another backbone", other_backbone)
    variant("json garbage", lambda f: (f / "last.json").write_text("[1, 2"))
    variant("json not a checkpoint", lambda f: (f / "last.json").write_text('{"a": 1}'))
    variant("weights missing", lambda f: (f / "last.safetensors").unlink())
    return run, out


# -- the cases ----------------------------------------------------------------------------


def make_cases(tmp: Path, quick: bool) -> Iterator[Case]:
    rng = random.Random(16)
    slide = SHARED / "slides" / "CMU-1-Small-Region.svs"
    if not slide.exists():
        from PIL import Image

        slide = tmp / "slide.png"
        Image.new("RGB", (2220, 2967), (230, 200, 220)).save(slide)
    ann_dir = tmp / "annotations"
    ann_dir.mkdir()
    files: list[tuple[str, Path]] = []
    for i, (name, data) in enumerate(geojson_corpus(rng).items()):
        files.append((f"geojson {name}", ann_dir / f"g{i}.geojson"))
        files[-1][1].write_bytes(data)
    for i, (name, (suffix, data)) in enumerate(xml_corpus(rng).items()):
        files.append((name, ann_dir / f"x{i}{suffix}"))
        files[-1][1].write_bytes(data)
    for i, (name, text) in enumerate(csv_corpus().items()):
        files.append((name, ann_dir / f"c{i}.csv"))
        files[-1][1].write_text(text)
    step = 3 if quick else 1
    outs = tmp / "outs"
    for i, (label, path) in enumerate(files[::step]):
        suffix = (".geojson", ".xml", ".csv")[i % 3]  # each writer in turn
        yield Case("annotations convert", f"{label} -> {suffix}",
                   ["annotations", "convert", str(path), str(outs / f"{i}{suffix}"),
                    "--slide", str(slide)])  # fmt: skip
        out = outs / f"export{i}" / "nested"
        outputs = [] if i % 4 == 0 else ["--csv", "--geojson", "--asap"]  # all: crops, report
        yield Case("export", label, ["export", str(slide), "--annotations", str(path),
                                     "--out", str(out), "--progress", "none", *outputs],
                   out)  # fmt: skip

    projects = project_corpus(tmp / "projects", slide)
    for label, folder in list(projects.items())[::step]:
        for verb, extra in (("list", []), ("list", ["--read-only"]), ("add", [str(slide)]),
                            ("relink", [str(tmp)]),
                            ("export", ["--out", str(outs / f"pexp_{folder.name}"),
                                        "--progress", "none"]),
                            ("add-run", [str(projects["good"])])):  # fmt: skip
            yield Case(f"project {verb}", f"{label} {' '.join(extra[:1])}".strip(),
                       ["project", verb, str(folder), *extra])  # fmt: skip

    from pathscaat.slides import open_slide

    with open_slide(slide) as s:
        dims = tuple(s.dimensions)
    overlays = overlay_corpus(tmp / "overlays", dims)  # type: ignore[arg-type]
    for label, folder in list(overlays.items())[::step]:
        out = outs / f"regions_{folder.name}.geojson"
        yield Case("regions", label, ["regions", str(slide), "--overlays", str(folder),
                                      "--layer", "tumour", "--threshold", "0.5",
                                      "--min-area-um2", "100", "--out", str(out),
                                      "--progress", "none"], out)  # fmt: skip

    patches = tmp / "patches"
    kather = SHARED / "patches" / "kather-crc-mini"
    if kather.exists():
        from tests.core.tiny_kather import write_tiny_kather

        write_tiny_kather(kather, patches, per_class=4, px=32)
    else:
        from pathscaat.data.synthetic import write_patch_set

        write_patch_set(patches, n_per_class=4, size_px=32, seed=0)
    _run, ckpts = checkpoint_corpus(tmp / "checkpoints", patches)
    small = tmp / "small_slide.png"
    from PIL import Image

    Image.new("RGB", (256, 256), (230, 190, 210)).save(small)
    for label, ckpt in list(ckpts.items())[::step]:
        out = outs / f"train_{ckpt.parent.name}"
        yield Case("train --resume", label,
                   ["train", "--data", str(patches), "--backbone", "test_resnet", "--objective",
                    "erm", "--epochs", "2", "--batch-size", "4", "--img-size", "32",
                    "--device", "cpu", "--workers", "0", "--out", str(out), "--progress",
                    "none", "--resume", str(ckpt.with_suffix(""))], out)  # fmt: skip
        out = outs / f"infer_{ckpt.parent.name}"
        yield Case("infer", label, ["infer", str(small), "--model", str(ckpt), "--out",
                                    str(out), "--device", "cpu", "--slide-mpp", "0.5",
                                    "--min-tissue", "0", "--progress", "none"], out)  # fmt: skip
        out = outs / f"eval_{ckpt.parent.name}"
        yield Case("evaluate", label, ["evaluate", "--data", str(patches), "--models",
                                       str(ckpt), "--out", str(out), "--methods", "vanilla",
                                       "--device", "cpu", "--max-images", "4",
                                       "--progress", "none"], out)  # fmt: skip


PRELOAD = (
    "pathscaat.cli.main", "pathscaat.annotations.io.geojson", "pathscaat.annotations.io.asap",
    "pathscaat.annotations.io.halo", "pathscaat.annotations.io.vertex_csv",
    "pathscaat.annotations.measure", "pathscaat.annotations.export.crops",
    "pathscaat.annotations.export.report", "pathscaat.annotations.export.table",
    "pathscaat.annotations.regions", "pathscaat.slides", "pathscaat.project",
    "pathscaat.training", "pathscaat.training.trainer", "pathscaat.inference.predict",
    "pathscaat.evaluation", "pathscaat.models", "timm", "matplotlib.pyplot",
)


def _preload() -> None:
    """Import what the commands import, once, so each forked case starts warm."""
    import importlib

    import torch

    torch.set_num_threads(1)
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from pathscaat.cli.main import build_parser

    build_parser()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per call")
    parser.add_argument("--quick", action="store_true", help="a third of the cases")
    parser.add_argument("--keep", action="store_true", help="keep the corpus folder")
    parser.add_argument("--only", default="", metavar="COMMAND",
                        help="only the cases of commands starting with this, e.g. project")
    args = parser.parse_args()
    _preload()
    tmp = Path(tempfile.mkdtemp(prefix="pathscaat-sweep-"))
    work = tmp / "work"
    work.mkdir()
    results: list[Outcome] = []
    started = time.perf_counter()
    try:
        for case in make_cases(tmp, args.quick):
            if args.only and not case.command.startswith(args.only):
                continue
            results.append(run_case(case, args.timeout, work))
            r = results[-1]
            if r.verdict == "ok":
                print(".", end="", flush=True)
            else:
                print(f"\n{r.verdict}: {r.case.command} [{r.case.label}]: {r.detail}", flush=True)
    finally:
        print()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"corpus kept in {tmp}")
    return report(results, time.perf_counter() - started)


def report(results: list[Outcome], seconds: float) -> int:
    kinds = ("ok", "traceback", "hang", "noisy", "leftover")
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        table[r.case.command][r.verdict] += 1
    width = max(len(c) for c in table)
    print(f"{'command':<{width}}  calls " + " ".join(f"{k:>9}" for k in kinds))
    for command, counts in table.items():
        print(f"{command:<{width}}  {sum(counts.values()):>5} "
              + " ".join(f"{counts[k]:>9}" for k in kinds))  # fmt: skip
    totals = Counter(r.verdict for r in results)
    print(f"{'all':<{width}}  {len(results):>5} " + " ".join(f"{totals[k]:>9}" for k in kinds))
    bad = [r for r in results if r.verdict != "ok"]
    for r in bad:
        print(f"{r.verdict}: {r.case.command} [{r.case.label}]: {r.detail}")
    slowest = max(results, key=lambda r: r.seconds)
    print(f"{len(results)} calls in {seconds:.0f} s; slowest {slowest.seconds:.1f} s "
          f"({slowest.case.command} [{slowest.case.label}])")  # fmt: skip
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
